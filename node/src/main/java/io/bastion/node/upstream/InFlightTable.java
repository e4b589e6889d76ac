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
 * <p>Each entry has a deadline. The entity does not start a timer per request (at a few thousand
 * calls per second, scheduling and cancelling them kept the scheduler thread busy); it sweeps the
 * table on one periodic tick instead ({@link #expire}), and progress moves a deadline ({@link
 * #extend}, {@link #timeoutAfterProgress}).
 *
 * <p>Owned by one {@link UpstreamServer} and used only on its thread: not thread-safe.
 */
final class InFlightTable<K> {

  /**
   * One request on the wire. Exactly one of {@code replyTo} (a client's) and {@code callback}
   * (Bastion's own) is set. {@code params}: kept only for requests that may be sent again (an
   * OAuth upstream's, retried once after a 401 and a refresh), else null.
   */
  record Entry<K>(long id, String method, String sessionId, JsonNode downstreamId,
      JsonNode downstreamProgressToken, Reply replyTo, K callback, long startedNanos, ObjectNode params) {
    boolean fromClient() {
      return replyTo != null;
    }
  }

  /** An entry and its deadline ({@code System.nanoTime()} scale); MAX_VALUE once reported expired. */
  private static final class Slot<K> {
    final Entry<K> entry;
    long deadlineNanos;

    Slot(Entry<K> entry, long deadlineNanos) {
      this.entry = entry;
      this.deadlineNanos = deadlineNanos;
    }
  }

  private final Map<Long, Slot<K>> entries = new HashMap<>();
  private long nextId = 1;

  /**
   * Adds a client's request. {@code params} (the request's own tree, not shared) get their
   * progress token rewritten to the new upstream id.
   */
  Entry<K> addClient(String sessionId, JsonNode downstreamId, String method, ObjectNode params,
      Reply replyTo, long nowNanos, Duration timeout) {
    return addClient(sessionId, downstreamId, method, params, replyTo, nowNanos, timeout, false);
  }

  /** {@code keepParams}: the entry keeps {@code params} so that the request can be sent again. */
  Entry<K> addClient(String sessionId, JsonNode downstreamId, String method, ObjectNode params,
      Reply replyTo, long nowNanos, Duration timeout, boolean keepParams) {
    long id = nextId++;
    JsonNode token = null;
    if (params.path("_meta").isObject() && params.path("_meta").has("progressToken")) {
      ObjectNode meta = (ObjectNode) params.get("_meta");
      token = meta.get("progressToken");
      meta.put("progressToken", id);
    }
    Entry<K> e = new Entry<>(id, method, sessionId, downstreamId, token, replyTo, null, nowNanos,
        keepParams ? params : null);
    entries.put(id, new Slot<>(e, nowNanos + timeout.toNanos()));
    return e;
  }

  /** Adds a request Bastion sends on its own (handshake, listing, ping, subscriptions). */
  Entry<K> addInternal(String method, K callback, long nowNanos, Duration timeout) {
    Entry<K> e = new Entry<>(nextId++, method, null, null, null, null, callback, nowNanos, null);
    entries.put(e.id(), new Slot<>(e, nowNanos + timeout.toNanos()));
    return e;
  }

  Entry<K> get(long id) {
    Slot<K> s = entries.get(id);
    return s == null ? null : s.entry;
  }

  Entry<K> remove(long id) {
    Slot<K> s = entries.remove(id);
    return s == null ? null : s.entry;
  }

  /** Moves request {@code id}'s deadline to {@code timeout} from {@code nowNanos}. */
  void extend(long id, long nowNanos, Duration timeout) {
    Slot<K> s = entries.get(id);
    if (s != null) {
      s.deadlineNanos = nowNanos + timeout.toNanos();
    }
  }

  /**
   * The ids of the requests whose deadline has passed, each reported once (they stay in the table
   * until the entity removes them, so an answer racing the timeout is still matched).
   */
  List<Long> expire(long nowNanos) {
    List<Long> out = null;
    for (Slot<K> s : entries.values()) {
      if (s.deadlineNanos != Long.MAX_VALUE && nowNanos - s.deadlineNanos >= 0) {
        s.deadlineNanos = Long.MAX_VALUE;
        if (out == null) {
          out = new ArrayList<>();
        }
        out.add(s.entry.id());
      }
    }
    return out == null ? List.of() : out;
  }

  /** Removes the client request {@code downstreamId} of {@code sessionId}, if in flight. */
  Entry<K> removeClient(String sessionId, JsonNode downstreamId) {
    Iterator<Slot<K>> it = entries.values().iterator();
    while (it.hasNext()) {
      Entry<K> e = it.next().entry;
      if (e.fromClient() && sessionId.equals(e.sessionId()) && downstreamId.equals(e.downstreamId())) {
        it.remove();
        return e;
      }
    }
    return null;
  }

  /** Empties the table and returns what it held. */
  List<Entry<K>> clear() {
    List<Entry<K>> all = new ArrayList<>(entries.size());
    entries.values().forEach(s -> all.add(s.entry));
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
      Entry<K> e = get(related.asLong());
      if (e != null && e.fromClient()) {
        return e;
      }
    }
    Entry<K> latest = null;
    for (Slot<K> s : entries.values()) {
      Entry<K> e = s.entry;
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
    Entry<K> e = token != null && token.canConvertToLong() ? get(token.asLong()) : null;
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
