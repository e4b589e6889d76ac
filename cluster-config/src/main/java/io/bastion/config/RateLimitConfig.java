package io.bastion.config;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * {@code rate_limit: {requests: 100, per: 1m, tools: {github-mcp__search_code: {requests: 5, per: 10s}}}}.
 *
 * @param overall the limit on all calls together, or null if only per-tool limits are set
 * @param tools per-tool limits keyed by the tool name as the client sees it
 */
public record RateLimitConfig(Limit overall, Map<String, Limit> tools) {

  /** At most {@code requests} calls in any {@code per}. */
  public record Limit(int requests, Duration per) {
    public Limit {
      Objects.requireNonNull(per, "per");
      if (requests < 1 || per.isZero() || per.isNegative()) {
        throw new IllegalArgumentException("need requests >= 1 and per > 0: " + requests + "/" + per);
      }
    }
  }

  public RateLimitConfig {
    tools = Map.copyOf(tools == null ? Map.of() : tools);
  }

  /** The limit for {@code tool}, if one is set. */
  public Limit forTool(String tool) {
    return tools.get(tool);
  }
}
