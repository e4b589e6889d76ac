package io.bastion.node.call;

import io.bastion.protocol.JsonRpc;
import java.util.function.Consumer;

/**
 * The dispatcher's hook around {@code tools/call}: governance (rate limits, budgets) and the
 * audit log plug in here, so the dispatcher itself stays free of them.
 */
public interface ToolCallGate {

  /**
   * One tools/call. {@code server} and {@code tool} (the upstream's own name) are null when the
   * tool is unknown or hidden; {@code name} is what the client asked for; {@code requestId} is the
   * edge's request id (for the audit row), or null; {@code bytesIn} the size of the client's
   * request body as received.
   */
  record Call(String sessionId, SessionInfo session, String group, JsonRpc.Request request,
      String name, String server, String tool, String requestId, long bytesIn) {}

  /** The tool is unknown or hidden; the dispatcher answers "Unknown tool" on {@code exchange} right after. */
  void denied(Call call, Exchange exchange);

  /**
   * Decides on a visible tool: calls {@code forward} (at most once) with the reply the answer goes
   * to, or answers the exchange with a fault instead.
   */
  void admit(Call call, Exchange exchange, Consumer<Reply> forward);

  /**
   * A call Bastion answers itself (Code Mode's meta-tools, a program run): recorded like any
   * other once {@code exchange} ends, without limits of its own (a run's nested calls are each
   * admitted on their own).
   */
  default void observed(Call call, Exchange exchange) {}

  /** No governance: forward everything as is. */
  ToolCallGate PASS = new ToolCallGate() {
    @Override
    public void denied(Call call, Exchange exchange) {}

    @Override
    public void admit(Call call, Exchange exchange, Consumer<Reply> forward) {
      forward.accept(exchange.reply());
    }
  };
}
