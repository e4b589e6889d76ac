package io.bastion.config;

import java.util.Objects;

/**
 * A spending cap: {@code budget: {max_usd: 10.0, reset: 1d}}.
 *
 * @param maxUsd the cap in USD per period; finite, &gt; 0 and ≤ {@link #MAX_USD}
 * @param reset when the spent amount starts again from zero
 */
public record BudgetConfig(double maxUsd, ResetPeriod reset) {

  /** Anything above this is a typo, not a budget. */
  public static final double MAX_USD = 1e9;

  public BudgetConfig {
    Objects.requireNonNull(reset, "reset");
    if (!(maxUsd > 0) || maxUsd > MAX_USD) {
      throw new IllegalArgumentException("maxUsd must be in (0, " + MAX_USD + "]: " + maxUsd);
    }
  }
}
