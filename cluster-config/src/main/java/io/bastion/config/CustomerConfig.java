package io.bastion.config;

import java.util.Objects;

/**
 * {@code customers[i]}: the top of the budget hierarchy (key → team → customer).
 *
 * @param name unique, {@code ^[a-zA-Z0-9_-]{1,64}$}
 * @param budget the customer's cap, or null
 */
public record CustomerConfig(String name, BudgetConfig budget) {
  public CustomerConfig {
    Objects.requireNonNull(name, "name");
  }
}
