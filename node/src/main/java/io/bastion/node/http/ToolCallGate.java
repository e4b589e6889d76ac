package io.bastion.node.http;

import io.bastion.node.session.RequestStream;
import io.bastion.node.session.SessionEntity;
import io.bastion.protocol.JsonRpc;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The dispatcher's hook around {@code tools/call}: governance (rate limits, budgets) and the
 * audit log plug in here, so the dispatcher itself stays free of them.
 */
public interface ToolCallGate {

  /**
   * One tools/call. {@code server} and {@code tool} (the upstream's own name) are null when the
   * tool is unknown or hidden; {@code name} is what the client asked for; {@code requestId} is the
   * edge's request id (for the audit row), or null.
   */
  record Call(String sessionId, SessionEntity.Info session, String group, JsonRpc.Request request,
      String name, String server, String tool, String requestId) {}

  /** The tool is unknown or hidden; the dispatcher answers "Unknown tool" itself. */
  void denied(Call call);

  /**
   * Decide on a visible tool: call {@code forward} (at most once) with the stream the answer goes
   * to (usually {@code out} or a wrapper of it), or answer {@code out} with an error instead.
   */
  void admit(Call call, ActorRef<RequestStream.Event> out, Consumer<ActorRef<RequestStream.Event>> forward);

  /** No governance: forward everything as is. */
  ToolCallGate PASS = new ToolCallGate() {
    @Override
    public void denied(Call call) {}

    @Override
    public void admit(Call call, ActorRef<RequestStream.Event> out, Consumer<ActorRef<RequestStream.Event>> forward) {
      forward.accept(out);
    }
  };
}
