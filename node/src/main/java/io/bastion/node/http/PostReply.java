package io.bastion.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.session.RequestStream;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.JsonRpc;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The answer to one client POST on {@code /mcp}: a small actor whose ref is the request's {@code
 * out} (what the dispatcher, the governance gate and the upstream's owner — on any node — tell
 * the request's events to). It completes the HTTP response with plain JSON when the final answer
 * comes first, the usual case, without materializing any stream; only when a progress
 * notification, a log message or a server→client request comes first does it switch to an SSE
 * body, materializing one stream for the rest of the request.
 *
 * <p>Why an actor and not a stream per request: the earlier edge pre-materialized an {@code
 * ActorSource} and ran a {@code prefixAndTail} graph for every POST, which JFR showed as the largest
 * Bastion-owned CPU cost per call at saturation (docs/benchmarks.md). Creating an actor is a few
 * allocations; the ref stays addressable across the cluster exactly as the stream's was.
 *
 * <p>An answer still missing after {@code slow} (the SSE keep-alive interval) switches the response
 * to SSE too, so that keep-alive comments flow while a long call runs: the server's idle timeout
 * (and any proxy's) then only ever closes connections that are really idle.
 *
 * <p>It ends after the final answer has been handed on, after {@code limit} (answering the
 * client with a gateway timeout error), or when the client goes away in SSE mode. The {@link
 * CallWatch}, if any, sees every final answer and is told about the request's end either way.
 */
final class PostReply {

  private static final AtomicLong COUNTER = new AtomicLong();

  /** Internal signals of the actor, besides the request's own events. */
  private enum Signal { TIMEOUT, CLIENT_GONE, SLOW }

  private PostReply() {}

  /**
   * Starts the actor for request {@code id} (method {@code method}) and returns its ref and the
   * response it will complete. {@code sse} turns the rest of the events into an SSE body.
   */
  static Pair<ActorRef<RequestStream.Event>, CompletableFuture<HttpResponse>> start(ActorSystem<?> system,
      JsonNode id, String method, Duration limit, Duration slow, long startedNanos, CallWatch watch,
      Function<Source<RequestStream.Event, NotUsed>, HttpResponse> sse) {
    CompletableFuture<HttpResponse> response = new CompletableFuture<>();
    Behavior<Object> behavior = Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      // One timer per request on the fast path: the SLOW timer starts the TIMEOUT one.
      timers.startSingleTimer(Signal.SLOW, slow.compareTo(limit) < 0 ? slow : limit);
      @SuppressWarnings("unchecked")
      ActorRef<RequestStream.Event> self = (ActorRef<RequestStream.Event>) (ActorRef<?>) ctx.getSelf();
      return new PostReply.Running(system, self, id, method, startedNanos, watch, sse, response,
          timers, limit.minus(slow)).behavior();
    }));
    // A system actor: the user guardian of a typed ActorSystem takes no children from outside, and
    // the classic systemActorOf creates the actor synchronously (no ask to a guardian).
    org.apache.pekko.actor.ActorRef classic = ((ExtendedActorSystem) system.classicSystem())
        .systemActorOf(Adapter.props(() -> behavior), "post-" + COUNTER.incrementAndGet());
    @SuppressWarnings("unchecked")
    ActorRef<RequestStream.Event> ref = (ActorRef<RequestStream.Event>) (ActorRef<?>) Adapter.toTyped(classic);
    return Pair.create(ref, response);
  }

  private static final class Running {
    private final ActorSystem<?> system;
    private final ActorRef<RequestStream.Event> self;
    private final JsonNode id;
    private final String method;
    private final long startedNanos;
    private final CallWatch watch;
    private final Function<Source<RequestStream.Event, NotUsed>, HttpResponse> sse;
    private final CompletableFuture<HttpResponse> response;
    /** The SSE body's source, once the first event was not the final answer. */
    private ActorRef<RequestStream.Event> stream;
    /** Set once the final answer was handed on: the body's end is then no news to the actor. */
    private final AtomicBoolean answered = new AtomicBoolean();
    private final TimerScheduler<Object> timers;
    private final Duration restOfLimit;

    Running(ActorSystem<?> system, ActorRef<RequestStream.Event> self, JsonNode id, String method,
        long startedNanos, CallWatch watch, Function<Source<RequestStream.Event, NotUsed>, HttpResponse> sse,
        CompletableFuture<HttpResponse> response, TimerScheduler<Object> timers,
        Duration restOfLimit) {
      this.timers = timers;
      this.restOfLimit = restOfLimit;
      this.system = system;
      this.self = self;
      this.id = id;
      this.method = method;
      this.startedNanos = startedNanos;
      this.watch = watch;
      this.sse = sse;
      this.response = response;
    }

    Behavior<Object> behavior() {
      return Behaviors.receive(Object.class)
          .onMessage(RequestStream.Final.class, f -> {
            deliverFinal(f);
            return Behaviors.stopped();
          })
          .onMessage(RequestStream.Message.class, m -> {
            toStream(m);
            return Behaviors.same();
          })
          .onMessageEquals(Signal.TIMEOUT, this::onTimeout)
          .onMessageEquals(Signal.CLIENT_GONE, Behaviors::stopped)
          .onMessageEquals(Signal.SLOW, () -> {
            if (restOfLimit.isNegative() || restOfLimit.isZero()) {
              return onTimeout();
            }
            // No answer yet: answer as SSE from now on, so that keep-alive comments flow and the
            // connection never looks idle to the server's idle timeout or to a proxy.
            openStream();
            timers.startSingleTimer(Signal.TIMEOUT, restOfLimit);
            return Behaviors.same();
          })
          .onSignal(PostStop.class, s -> {
            if (watch != null) {
              watch.abandonAll(self, CallWatch.CLIENT_GONE);
            }
            if (stream != null) {
              stream.tell(new RequestStream.Message(null)); // completes the SSE body if still open
            }
            response.complete(McpEdge.jsonError(StatusCodes.INTERNAL_SERVER_ERROR, id,
                ErrorCodes.GATEWAY_ERROR, "No response")); // no-op unless the actor died early
            return Behaviors.same();
          })
          .build();
    }

    private Behavior<Object> onTimeout() {
      if (watch != null) {
        // Before the synthetic answer passes: the call ends as a gateway timeout, not as an answer.
        watch.abandon(self, id, CallWatch.GATEWAY_TIMEOUT);
      }
      deliverFinal(new RequestStream.Final(JsonRpc.error(id, ErrorCodes.GATEWAY_ERROR,
          "Bastion gave up waiting for the upstream", null)));
      return Behaviors.stopped();
    }

    private void deliverFinal(RequestStream.Final f) {
      answered.set(true);
      if (watch != null) {
        watch.seen(self, f);
      }
      Metrics.mcpRequest(method, System.nanoTime() - startedNanos);
      if (stream == null) {
        response.complete(McpEdge.json(StatusCodes.OK, f.json()));
      } else {
        stream.tell(f);
        stream = null;
      }
    }

    /** A non-final event: the response becomes (or already is) an SSE body. */
    private void toStream(RequestStream.Message m) {
      openStream();
      if (stream != null) {
        stream.tell(m);
      }
    }

    private void openStream() {
      if (stream == null && !response.isDone()) {
        Pair<ActorRef<RequestStream.Event>, Source<RequestStream.Event, NotUsed>> s =
            ActorSource.<RequestStream.Event>actorRef(
                    e -> e instanceof RequestStream.Message msg && msg.json() == null,
                    e -> Optional.empty(), 1024, OverflowStrategy.dropHead())
                .preMaterialize(system);
        stream = s.first();
        // The body ends after the final answer; if the client leaves first, the actor ends too.
        Source<RequestStream.Event, NotUsed> body = s.second()
            .takeWhile(e -> !(e instanceof RequestStream.Final), true)
            .watchTermination((mat, done) -> {
              done.whenComplete((d, err) -> {
                if (!answered.get()) {
                  self.<Object>unsafeUpcast().tell(Signal.CLIENT_GONE);
                }
              });
              return mat;
            });
        response.complete(sse.apply(body));
      }
    }
  }
}
