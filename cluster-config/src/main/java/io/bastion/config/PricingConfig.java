package io.bastion.config;

import java.util.Map;

/**
 * What calling a server's tools costs, in USD per call, from {@code mcp.servers[i].pricing}.
 *
 * @param defaultUsd price of any tool not listed in {@code tools} (≥ 0, finite; default 0)
 * @param tools per-tool prices keyed by the upstream (unprefixed) tool name
 */
public record PricingConfig(double defaultUsd, Map<String, Double> tools) {

  /** Everything free: the default when a server has no {@code pricing}. */
  public static final PricingConfig ZERO = new PricingConfig(0.0, Map.of());

  public PricingConfig {
    if (!(defaultUsd >= 0) || !Double.isFinite(defaultUsd)) {
      throw new IllegalArgumentException("defaultUsd must be finite and >= 0: " + defaultUsd);
    }
    tools = Map.copyOf(tools == null ? Map.of() : tools);
    tools.forEach((tool, price) -> {
      if (!(price >= 0) || !Double.isFinite(price)) {
        throw new IllegalArgumentException("price of " + tool + " must be finite and >= 0: " + price);
      }
    });
  }

  /** The price of one call to {@code tool} (its upstream name). */
  public double priceOf(String tool) {
    return tools.getOrDefault(tool, defaultUsd);
  }

  /** True if every call is free. */
  public boolean isFree() {
    return defaultUsd == 0.0 && tools.values().stream().allMatch(p -> p == 0.0);
  }
}
