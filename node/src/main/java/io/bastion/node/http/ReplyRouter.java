package io.bastion.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.PendingExchange;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.RequestStream;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.upstream.UndeliveredCalls;
import io.bastion.node.upstream.UpstreamRoute;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The client requests waiting for their answers on this node, each an {@link Exchange} keyed by a
 * correlation number. One per node, with one actor whose ref is the {@link Reply#to()} of every
 * request that entered here: answers from other nodes arrive through its mailbox, answers from
 * this node are handed over on the answering thread ({@link Reply#registerLocal}). No actor and no
 * stream per request: a POST's answer completes its HTTP response as plain JSON when the final
 * answer comes first; only a progress notification, a log message or a server→client request
 * before it (or an answer slower than the SSE keep-alive interval) turns the response into an SSE
 * body, with one queue-backed stream for the rest of that request.
 *
 * <p>Time limits are kept by one sweep every {@code tick} rather than a timer per request: a POST
 * still unanswered after {@code slow} switches to SSE (so keep-alive comments flow and no idle
 * timeout closes the connection), and any request still unanswered after {@code limit} is answered
 * with {@link Fault#GATEWAY_TIMEOUT}. With SSE polling on ({@code pollAfter} above zero), a
 * resumable SSE answer still open after {@code pollAfter} is closed after a {@code retry} field
 * (MCP 2025-11-25): the client resumes it with {@code GET} and {@code Last-Event-ID}.
 */
public final class ReplyRouter {


  /** Where an exchange's answer goes once it is known. */
  interface Target {
    /** An event for the request (a final answer only once). */
    void deliver(Pending p, RequestStream.Event event);

    /** The request's final answer (told once, under the request's lock); returns the bytes sent. */
    default long complete(Pending p, RequestStream.Final f) {
      deliver(p, f);
      return 0;
    }

    /** The request is still unanswered after the keep-alive interval (told on every sweep until answered). */
    default void slow(Pending p) {}
  }

  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong correlations = new AtomicLong();
  private final ActorSystem<?> system;
  private final ActorRef<RequestStream.Event> ref;
  private final long limitNanos;
  private final long slowNanos;
  private final Duration keepAlive;
  private final long pollNanos;
  private final UpstreamRoute route;
  private final ByteString pollRetry;

  /** {@code pollAfter}: SSE polling (zero: off); {@code pollRetry}: the {@code retry} sent before closing. */
  public ReplyRouter(ActorSystem<?> system, Duration limit, Duration slow, Duration pollAfter, Duration pollRetry) {
    this.system = system;
    this.pollNanos = pollAfter.toNanos();
    this.pollRetry = ByteString.fromString("retry: " + pollRetry.toMillis() + "\n\n");
    this.limitNanos = limit.toNanos();
    this.slowNanos = Math.min(slow.toNanos(), limit.toNanos());
    this.keepAlive = slow;
    org.apache.pekko.actor.ActorRef classic = ((ExtendedActorSystem) system.classicSystem()).systemActorOf(
        Adapter.props(() -> Behaviors.receiveMessage((RequestStream.Event e) -> {
          deliver(e);
          return Behaviors.same();
        })), "bastion-replies");
    this.ref = Adapter.toTyped(classic);
    Reply.registerLocal(ref, this::deliver);
    this.route = UpstreamRoute.get(system);
    route.listen(this::ownerDowned, this::ownerUnreachable, this::sentTo);
    system.getWhenTerminated().whenComplete((d, err) -> Reply.unregisterLocal(ref));
    Duration tick = Duration.ofMillis(Math.max(50, Math.min(1000, slow.toMillis() / 4)));
    system.scheduler().scheduleAtFixedRate(tick, tick, this::sweep, system.executionContext());
  }

  /** Requests waiting on this node (for tests and metrics). */
  public int size() {
    return pending.size();
  }

  /** A POST on {@code /mcp}: its HTTP response completes with the answer. */
  Pending openPost(JsonNode id, String method, long startedNanos, CompletableFuture<HttpResponse> response) {
    return open(id, method, startedNanos, new PostTarget(response, null, false));
  }

  /**
   * A POST of session {@code sessionId} whose SSE answer can be resumed ({@link StreamRecorder}):
   * its events carry ids, and a client that leaves before the answer does not abandon the request
   * (MCP: a disconnection is not a cancellation); the rest is recorded for its resumption.
   * {@code priming}: send the priming event first.
   */
  Pending openPost(JsonNode id, String method, long startedNanos, CompletableFuture<HttpResponse> response,
      String sessionId, boolean priming) {
    return open(id, method, startedNanos, new PostTarget(response, sessionId, priming));
  }

  /** One request of a JSON-RPC batch: its answer goes into the batch's response ({@link BatchReply}). */
  Pending openBatchMember(JsonNode id, String method, long startedNanos, BatchReply batch) {
    return open(id, method, startedNanos, batch);
  }

  /** A legacy {@code POST /messages}: the answer goes to the session's SSE stream, wherever it is. */
  Pending openLegacy(JsonNode id, String method, long startedNanos, ActorRef<RequestStream.Event> stream) {
    return open(id, method, startedNanos, (p, e) -> stream.tell(e));
  }

  private Pending open(JsonNode id, String method, long startedNanos, Target target) {
    long correlation = correlations.incrementAndGet();
    Pending p = new Pending(correlation, id, method, startedNanos, target);
    pending.put(correlation, p);
    return p;
  }

  private void deliver(RequestStream.Event event) {
    Pending p = pending.get(event.correlation());
    if (p != null) {
      if (event instanceof UndeliveredCalls.Undelivered u) {
        route.resend(u);
      } else {
        p.receive(event);
      }
    }
  }

  /**
   * Request {@code reply} was sent to the entity of upstream {@code server} on {@code owner}: if
   * that node is downed before it answers, the request fails at once ({@link #ownerDowned}); for an
   * upstream that fails over to standby connections, already when it becomes unreachable ({@link
   * #ownerUnreachable}).
   */
  public void sentTo(Reply reply, String owner, String server) {
    if (owner != null && reply.to().equals(ref)) {
      Pending p = pending.get(reply.correlation());
      if (p != null) {
        p.owner = owner;
        p.server = server;
      }
    }
  }

  /**
   * The node at {@code address} was downed: requests it was running will never be answered. They
   * fail now; whether they ran upstream is unknown, so none is sent again.
   */
  public void ownerDowned(String address) {
    lost(address, false);
  }

  /**
   * The node at {@code address} became unreachable: the requests it runs for upstreams that fail
   * over to standby connections fail now, as at {@link #ownerDowned}, so that their clients' next
   * calls reach a standby within the failure detector's time instead of the downing decision's.
   * The node may only be slow (a long pause): then its answers come too late and are dropped.
   */
  public void ownerUnreachable(String address) {
    lost(address, true);
  }

  private void lost(String address, boolean onlyFailFast) {
    for (Pending p : pending.values()) {
      if (address.equals(p.owner) && (!onlyFailFast || route.standbyEnabled(p.server))) {
        p.reply().fail(Fault.UPSTREAM_UNAVAILABLE, p.id(), p.method(),
            "the node running this request's upstream was lost; the request may or may not have run");
      }
    }
  }

  private void sweep() {
    long now = System.nanoTime();
    for (Pending p : pending.values()) {
      long age = now - p.startedNanos;
      if (age > limitNanos) {
        p.reply().fail(Fault.GATEWAY_TIMEOUT, p.id(), p.method(), "Bastion gave up waiting for the upstream");
      } else if (age > slowNanos || (pollNanos > 0 && age > pollNanos)) {
        p.target.slow(p);
      }
    }
  }

  /** One request waiting for its answer. Events may arrive on any thread: every step holds its lock. */
  final class Pending extends PendingExchange {
    private final long correlation;
    private final long startedNanos;
    private final Target target;
    /** The node running the upstream entity this request was sent to, if any. */
    private volatile String owner;
    /** The upstream it was sent to (whether it fails already at unreachability: {@link #ownerUnreachable}). */
    private volatile String server;

    Pending(long correlation, JsonNode id, String method, long startedNanos, Target target) {
      super(id, method, new Reply(ref, correlation));
      this.correlation = correlation;
      this.startedNanos = startedNanos;
      this.target = target;
    }

    @Override
    protected void forget() {
      pending.remove(correlation);
    }

    void receive(RequestStream.Event event) {
      RequestStream.Final f;
      long bytes;
      synchronized (this) {
        if (ended()) {
          return;
        }
        if (event instanceof RequestStream.Message) {
          target.deliver(this, event);
          return;
        }
        f = (RequestStream.Final) event;
        end();
        bytes = target.complete(this, f);
      }
      Metrics.mcpRequest(method(), System.nanoTime() - startedNanos);
      tell(f.json(), f.fault(), bytes);
    }
  }

  /** A streamable-HTTP POST: JSON when the answer comes first, else an SSE body. */
  private final class PostTarget implements Target {
    private final CompletableFuture<HttpResponse> response;
    private final String sessionId;
    private final boolean priming;
    /** The SSE body's queue, once the response became SSE. */
    private BoundedSourceQueue<ByteString> sse;
    /** Numbers and records the SSE events, when the stream is resumable. */
    private StreamRecorder recorder;
    /** Closed for SSE polling: events are only recorded, for the client's resumption. */
    private boolean polled;

    PostTarget(CompletableFuture<HttpResponse> response, String sessionId, boolean priming) {
      this.response = response;
      this.sessionId = sessionId;
      this.priming = priming;
    }

    @Override
    public void deliver(Pending p, RequestStream.Event event) {
      openSse(p);
      if (sse != null) {
        ByteString frame = recorder != null ? recorder.frame(event.json(), false) : Sse.frame(Json.writeBytes(event.json()));
        if (!polled) {
          sse.offer(frame);
        }
      }
    }

    @Override
    public long complete(Pending p, RequestStream.Final f) {
      byte[] json = Json.writeBytes(f.json());
      if (sse == null) {
        response.complete(EdgeResponses.json(200, json));
      } else {
        ByteString frame = recorder != null ? recorder.frame(f.json(), true) : Sse.frame(json);
        if (!polled) {
          sse.offer(frame);
          sse.complete();
        }
      }
      return json.length;
    }

    @Override
    public void slow(Pending p) {
      synchronized (p) {
        if (!p.ended()) {
          openSse(p);
          // SSE polling: a primed, recorded stream may be closed; what follows is recorded for the resumption.
          if (!polled && priming && recorder != null && pollNanos > 0 && System.nanoTime() - p.startedNanos > pollNanos) {
            polled = true;
            sse.offer(pollRetry);
            sse.complete();
          }
        }
      }
    }

    private void openSse(Pending p) {
      if (sse != null || response.isDone()) {
        return;
      }
      Pair<BoundedSourceQueue<ByteString>, Source<ByteString, NotUsed>> q =
          Source.<ByteString>queue(1024).preMaterialize(system);
      sse = q.first();
      if (sessionId != null) {
        recorder = new StreamRecorder(system, sessionId, StreamRecorder.POST_STREAM);
        if (priming) {
          sse.offer(recorder.priming());
        }
      }
      boolean resumable = recorder != null;
      Source<ByteString, NotUsed> body = q.second()
          .keepAlive(keepAlive, () -> Sse.KEEP_ALIVE)
          .watchTermination((mat, finished) -> {
            // Ends after the final answer. If the client leaves first, a resumable request carries
            // on (its events are recorded for a GET with Last-Event-ID); any other is abandoned.
            finished.whenComplete((d, err) -> {
              if (!resumable) {
                p.abandon();
              }
            });
            return mat;
          });
      response.complete(EdgeResponses.sse(body));
    }
  }
}
