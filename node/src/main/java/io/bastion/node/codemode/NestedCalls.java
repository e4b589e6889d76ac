package io.bastion.node.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.PendingExchange;
import io.bastion.node.call.Reply;
import io.bastion.node.call.RequestStream;
import io.bastion.node.upstream.UndeliveredCalls;
import io.bastion.node.upstream.UpstreamRoute;
import io.bastion.protocol.Json;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The nested tool calls of this node's Code Mode runs waiting for their answers: each is an {@link
 * Exchange} like a client's request, so the dispatcher, the governance gate and the upstream's
 * owner (on any node) answer it the same way. One actor receives answers from other nodes; answers
 * from this node are handed over directly ({@link Reply#registerLocal}).
 */
final class NestedCalls {

  private final Map<Long, Call> pending = new ConcurrentHashMap<>();
  private final AtomicLong correlations = new AtomicLong();
  private final ActorRef<RequestStream.Event> ref;
  private final UpstreamRoute route;

  NestedCalls(ActorSystem<?> system) {
    this.route = UpstreamRoute.get(system);
    this.ref = system.systemActorOf(Behaviors.receiveMessage((RequestStream.Event e) -> {
      deliver(e);
      return Behaviors.same();
    }), "bastion-codemode-replies", Props.empty());
    Reply.registerLocal(ref, this::deliver);
    system.getWhenTerminated().whenComplete((d, err) -> Reply.unregisterLocal(ref));
  }

  Call open(JsonNode id, String method) {
    long correlation = correlations.incrementAndGet();
    Call c = new Call(correlation, id, method, new Reply(ref, correlation));
    pending.put(correlation, c);
    return c;
  }

  int size() {
    return pending.size();
  }

  private void deliver(RequestStream.Event event) {
    Call c = pending.get(event.correlation());
    if (c != null) {
      if (event instanceof UndeliveredCalls.Undelivered u) {
        route.resend(u);
      } else {
        c.receive(event);
      }
    }
  }

  /** One nested call. */
  final class Call extends PendingExchange {
    private final long correlation;
    private final CompletableFuture<ObjectNode> answer = new CompletableFuture<>();

    Call(long correlation, JsonNode id, String method, Reply reply) {
      super(id, method, reply);
      this.correlation = correlation;
    }

    @Override
    protected void forget() {
      pending.remove(correlation);
    }

    CompletableFuture<ObjectNode> answer() {
      return answer;
    }

    void receive(RequestStream.Event event) {
      if (!(event instanceof RequestStream.Final f) || !end()) {
        return; // progress and log messages of a nested call stay inside the run
      }
      tell(f.json(), f.fault(), Json.writeBytes(f.json()).length);
      answer.complete(f.json());
    }

    /** The run stopped before the answer came: the call ends as abandoned (audited as such). */
    @Override
    public boolean abandon() {
      if (!super.abandon()) {
        return false;
      }
      answer.cancel(false);
      return true;
    }
  }
}
