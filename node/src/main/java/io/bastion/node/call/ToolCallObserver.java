package io.bastion.node.call;

/**
 * Told once about every finished {@code tools/call} of this node — answered, refused, timed out
 * or abandoned by its client — after the answer has been handed to the client. The audit log hangs
 * off it; so do metrics. Implementations must be quick and must not block.
 */
public interface ToolCallObserver {

  /**
   * How a call ended.
   *
   * @param kind the audit outcome: {@code ok}, {@code tool_error}, {@code denied},
   *     {@code rate_limited}, {@code over_budget}, {@code timeout}, {@code upstream_down} or
   *     {@code error}
   * @param errorType finer detail ({@code unknown_tool}, {@code is_error}, {@code jsonrpc_<code>},
   *     {@code gateway_timeout}, {@code client_gone}, ...), or null
   * @param costUsd what was charged to the key's budgets (0 for refused calls)
   */
  record Outcome(String kind, String errorType, double costUsd) {}

  /**
   * @param latencyNanos from the gate's decision to the final answer (or the refusal)
   * @param bytesOut the size of the final answer sent back (0 when none was)
   */
  void completed(ToolCallGate.Call call, Outcome outcome, long latencyNanos, long bytesOut);
}
