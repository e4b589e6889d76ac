package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.Reply;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The requests one upstream has on the wire, keyed by the upstream id Bastion gave them.
 *
 * <p>Every forwarded request gets a fresh numeric id from one counter; its
 * {@code _meta.progressToken}, if any, is replaced by that same id, so tokens of different
 * sessions never collide upstream, and is mapped back on the way out ({@link #progress}). An entry
 * is either a client's ({@code replyTo} set) or Bastion's own ({@code callback} set, of type
 * {@code K}). Server→client requests and log messages are attributed with {@link #related}.
 *
 * <p>Owned by one {@link UpstreamServer} and used only on its thread: not thread-safe. The
 * timers themselves stay with the entity; this table names them ({@link #timeoutKey}) and says
 * when a request's timeout restarts ({@link #timeoutAfterProgress}).
 */
final class InFlightTable<K> {

  /** One request on the wire. Exactly one of {@code replyTo} (a client's) and {@code callback} (Bastion's own) is set. */
  record Entry<K>(long id, String method, String sessionId, JsonNode downstreamId,
      JsonNode downstreamProgressToken, Reply replyTo, K callback, long startedNanos) {
    boolean fromClient() {
      return replyTo != null;
    }
  }

  private final Map<Long, Entry<K>> entries = new HashMap<>();
  private long nextId = 1;

  /** The timer key of request {@code id}'s timeout. */
  static String timeoutKey(long id) {
    return "timeout-" + id;
  }

  /**
   * Adds a client's request. {@code params} (the request's own tree, not shared) get their
   * progress token rewritten to the new upstream id.
   */
  Entry<K> addClient(String sessionId, JsonNode downstreamId, String method, ObjectNode params,
      Reply replyTo, long nowNanos) {
    long id = nextId++;
    JsonNode token = null;
    if (params.path("_meta").isObject() && params.path("_meta").has("progressToken")) {
      ObjectNode meta = (ObjectNode) params.get("_meta");
      token = meta.get("progressToken");
      meta.put("progressToken", id);
    }
    Entry<K> e = new Entry<>(id, method, sessionId, downstreamId, token, replyTo, null, nowNanos);
    entries.put(id, e);
    return e;
  }

  /** Adds a request Bastion sends on its own (handshake, listing, ping, subscriptions). */
  Entry<K> addInternal(String method, K callback, long nowNanos) {
    Entry<K> e = new Entry<>(nextId++, method, null, null, null, null, callback, nowNanos);
    entries.put(e.id(), e);
    return e;
  }

  Entry<K> get(long id) {
    return entries.get(id);
  }

  Entry<K> remove(long id) {
    return entries.remove(id);
  }

  /** Removes the client request {@code downstreamId} of {@code sessionId}, if in flight. */
  Entry<K> removeClient(String sessionId, JsonNode downstreamId) {
    Iterator<Entry<K>> it = entries.values().iterator();
    while (it.hasNext()) {
      Entry<K> e = it.next();
      if (e.fromClient() && sessionId.equals(e.sessionId()) && downstreamId.equals(e.downstreamId())) {
        it.remove();
        return e;
      }
    }
    return null;
  }

  /** Empties the table and returns what it held. */
  List<Entry<K>> clear() {
    List<Entry<K>> all = new ArrayList<>(entries.values());
    entries.clear();
    return all;
  }

  int size() {
    return entries.size();
  }

  /**
   * The client request that a message from the upstream belongs to: the one whose HTTP response
   * stream carried it ({@code related}), or (stdio and legacy SSE give no association) the most
   * recent client request in flight. Null when no client request is in flight.
   */
  Entry<K> related(JsonNode related) {
    if (related != null && related.canConvertToLong()) {
      Entry<K> e = entries.get(related.asLong());
      if (e != null && e.fromClient()) {
        return e;
      }
    }
    Entry<K> latest = null;
    for (Entry<K> e : entries.values()) {
      if (e.fromClient() && (latest == null || e.id() > latest.id())) {
        latest = e;
      }
    }
    return latest;
  }

  /**
   * The client request a {@code notifications/progress} belongs to, and the notification with the
   * client's own token back in place; empty when the token is not one of ours.
   */
  Optional<Progress<K>> progress(ObjectNode notification) {
    JsonNode token = notification.path("params").get("progressToken");
    Entry<K> e = token != null && token.canConvertToLong() ? entries.get(token.asLong()) : null;
    if (e == null || !e.fromClient() || e.downstreamProgressToken() == null) {
      return Optional.empty();
    }
    ObjectNode copy = notification.deepCopy();
    ((ObjectNode) copy.get("params")).set("progressToken", e.downstreamProgressToken());
    return Optional.of(new Progress<>(e, copy));
  }

  record Progress<K>(Entry<K> entry, ObjectNode notification) {}

  /**
   * Progress shows a request is alive: its timeout restarts at {@code requestTimeout}, but never
   * past {@code maxRequestTimeout} from its start. Empty when that maximum has passed.
   */
  static Optional<Duration> timeoutAfterProgress(Entry<?> e, long nowNanos, Duration requestTimeout,
      Duration maxRequestTimeout) {
    Duration left = maxRequestTimeout.minusNanos(nowNanos - e.startedNanos());
    if (left.isNegative()) {
      return Optional.empty();
    }
    return Optional.of(requestTimeout.compareTo(left) < 0 ? requestTimeout : left);
  }

  /** The upstream's answer (result or error) re-addressed to the client's request id. */
  static ObjectNode downstreamAnswer(ObjectNode msg, JsonNode downstreamId) {
    ObjectNode out = Json.object().put("jsonrpc", JsonRpc.VERSION);
    out.set("id", downstreamId);
    if (msg.has("error")) {
      out.set("error", msg.get("error"));
    } else {
      out.set("result", msg.has("result") ? msg.get("result") : Json.object());
    }
    return out;
  }
}
