package io.bastion.config;

import java.util.Objects;

/**
 * {@code teams[i]}: a group of keys sharing a budget.
 *
 * @param name unique, {@code ^[a-zA-Z0-9_-]{1,64}$}
 * @param customer the customer above this team, or null
 * @param budget the team's shared cap, or null
 */
public record TeamConfig(String name, String customer, BudgetConfig budget) {
  public TeamConfig {
    Objects.requireNonNull(name, "name");
  }
}
