package io.bastion.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.session.RequestStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Node-local callbacks waiting for the final answer of a request, keyed by the client stream the
 * answer goes to and the JSON-RPC id. The edge's stream stages report every {@link
 * RequestStream.Final} that passes through ({@link #seen}); so the governance layer learns how a
 * tools/call ended without an actor or a stream of its own per call: a map put and a map remove.
 *
 * <p>Only streams of this node can be watched ({@link #watch} returns false for a stream on
 * another node, e.g. a legacy SSE stream whose POSTs land elsewhere). A watch ends exactly once:
 * with the final answer, when the edge gives up waiting ({@code gateway_timeout}), when the client
 * stream ends first ({@code client_gone}), or, as a backstop, when a once-a-second sweep finds it
 * past its deadline.
 */
public final class CallWatch {

  /** Called once: with the final answer, or with null and why there was none. */
  public interface Completion {
    void done(ObjectNode answer, String abandoned);
  }

  public static final String GATEWAY_TIMEOUT = "gateway_timeout";
  public static final String CLIENT_GONE = "client_gone";

  private record Pending(Completion completion, long deadlineNanos) {}

  /**
   * Per client stream, the watches on it by id. Indexed by stream so that a stream's end finds its
   * watches directly (it used to scan every pending watch of the node, once per POST).
   */
  private final Map<ActorRef<RequestStream.Event>, Map<String, Pending>> byStream = new ConcurrentHashMap<>();
  private final long timeoutNanos;

  /**
   * @param timeout how long a watch may wait at most (after it, the sweep ends it as
   *     {@code gateway_timeout}); the edge's own timeout should end it first
   */
  public CallWatch(ActorSystem<?> system, Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
    // The sweep runs for the life of the system; the scheduler stops with it.
    system.scheduler().scheduleAtFixedRate(Duration.ofSeconds(1), Duration.ofSeconds(1),
        this::sweep, system.executionContext());
  }

  /**
   * Watches for the final answer to {@code id} on {@code stream}.
   *
   * @return false (nothing registered) when {@code stream} lives on another node
   */
  public boolean watch(ActorRef<RequestStream.Event> stream, JsonNode id, Completion completion) {
    if (!stream.path().address().hasLocalScope()) {
      return false;
    }
    Pending p = new Pending(completion, System.nanoTime() + timeoutNanos);
    byStream.compute(stream, (k, m) -> {
      Map<String, Pending> ids = m == null ? new ConcurrentHashMap<>(2) : m;
      ids.put(idText(id), p);
      return ids;
    });
    return true;
  }

  /** Pending watches (for tests and metrics). */
  public int size() {
    return byStream.values().stream().mapToInt(Map::size).sum();
  }

  /** A final answer is passing through {@code stream}. */
  void seen(ActorRef<RequestStream.Event> stream, RequestStream.Final f) {
    Pending p = take(stream, idText(f.json().get("id")));
    if (p != null) {
      p.completion().done(f.json(), null);
    }
  }

  /** The edge stopped waiting for {@code id} on {@code stream}. */
  void abandon(ActorRef<RequestStream.Event> stream, JsonNode id, String why) {
    Pending p = take(stream, idText(id));
    if (p != null) {
      p.completion().done(null, why);
    }
  }

  /** {@code stream} ended: whatever still waits on it gets no answer. */
  void abandonAll(ActorRef<RequestStream.Event> stream, String why) {
    Map<String, Pending> ids = byStream.remove(stream);
    if (ids != null) {
      ids.values().forEach(p -> p.completion().done(null, why));
    }
  }

  /** Removes and returns the watch of {@code id} on {@code stream}; drops the stream's map once empty. */
  private Pending take(ActorRef<RequestStream.Event> stream, String id) {
    Pending[] taken = {null};
    byStream.computeIfPresent(stream, (k, ids) -> {
      taken[0] = ids.remove(id);
      return ids.isEmpty() ? null : ids;
    });
    return taken[0];
  }

  private void sweep() {
    long now = System.nanoTime();
    for (Map.Entry<ActorRef<RequestStream.Event>, Map<String, Pending>> s : byStream.entrySet()) {
      for (Map.Entry<String, Pending> e : s.getValue().entrySet()) {
        if (now - e.getValue().deadlineNanos() > 0) {
          Pending p = take(s.getKey(), e.getKey());
          if (p != null) {
            p.completion().done(null, GATEWAY_TIMEOUT);
          }
        }
      }
    }
  }

  private static String idText(JsonNode id) {
    return id == null ? "null" : id.toString();
  }
}
