package io.bastion.persistence.audit;

/**
 * One tool call as recorded in {@code bastion_audit}. {@code outcome} is one of {@code ok},
 * {@code tool_error}, {@code denied}, {@code rate_limited}, {@code over_budget}, {@code timeout},
 * {@code upstream_down} (plus {@code error} for any other JSON-RPC error). {@code requestId} is the
 * edge's request id (the caller's {@code X-Request-Id} or {@code traceparent} trace id, else one
 * Bastion generated), also returned as the {@code X-Request-Id} response header. {@code subject}
 * is the OAuth access token's subject (the configured claim, {@code sub} by default) when the
 * caller presented a token instead of a virtual key, else null.
 */
public record AuditRecord(
    long timeMillis,
    String node,
    String sessionId,
    String keyName,
    String team,
    String customer,
    String clientName,
    String clientVersion,
    String server,
    String tool,
    String arguments,
    String outcome,
    String errorType,
    long latencyMicros,
    double costUsd,
    long bytesIn,
    long bytesOut,
    String requestId,
    String subject) {

  /** A call made with a virtual key (no OAuth subject). */
  public AuditRecord(long timeMillis, String node, String sessionId, String keyName, String team,
      String customer, String clientName, String clientVersion, String server, String tool,
      String arguments, String outcome, String errorType, long latencyMicros, double costUsd,
      long bytesIn, long bytesOut, String requestId) {
    this(timeMillis, node, sessionId, keyName, team, customer, clientName, clientVersion, server, tool,
        arguments, outcome, errorType, latencyMicros, costUsd, bytesIn, bytesOut, requestId, null);
  }

  public static final String OK = "ok";
  public static final String TOOL_ERROR = "tool_error";
  public static final String DENIED = "denied";
  public static final String RATE_LIMITED = "rate_limited";
  public static final String OVER_BUDGET = "over_budget";
  public static final String TIMEOUT = "timeout";
  public static final String UPSTREAM_DOWN = "upstream_down";
  public static final String ERROR = "error";
}
