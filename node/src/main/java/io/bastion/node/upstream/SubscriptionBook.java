package io.bastion.node.upstream;

import io.bastion.protocol.Methods;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The resource subscriptions of one upstream, shared by all sessions over its one connection.
 *
 * <p>Reference-counted: per upstream URI, the Bastion sessions subscribed to it (never empty).
 * The upstream is subscribed to exactly the URIs in the book (re-sent after every reconnect), so
 * it sees a subscribe only from the first session that watches a URI and an unsubscribe only from
 * the last one that leaves it.
 *
 * <p>Ordered: while a subscribe or unsubscribe for a URI is on the wire (an {@link Op}), later
 * requests for that URI wait in the op and are replayed in order once it is answered, so the
 * upstream never sees them reordered (streamable HTTP sends each on its own POST).
 *
 * <p>This class only keeps the books; the entity sends, answers and tells sessions. Owned by one
 * {@link UpstreamServer} and used only on its thread: not thread-safe.
 */
final class SubscriptionBook {

  /**
   * One subscribe/unsubscribe on the wire; {@code request} is null when Bastion sent it on its own.
   * {@code unsubscribeAfter}: the last subscriber left while a re-subscribe was on the wire.
   */
  static final class Op {
    final String method;
    final UpstreamServer.Forward request;
    final ArrayDeque<UpstreamServer.Forward> waiting = new ArrayDeque<>();
    boolean unsubscribeAfter;

    Op(String method, UpstreamServer.Forward request) {
      this.method = method;
      this.request = request;
    }
  }

  /** What the entity does with a client's subscribe or unsubscribe. */
  enum Action {
    /** Another op for the URI is on the wire: the request waits in it. */
    WAIT,
    /** Send it upstream: an {@link Op} was started ({@link #op}). */
    SEND,
    /** Answer {@code {}} at once; nothing changed upstream. */
    ANSWER,
    /** Answer {@code {}} at once; the session is a new subscriber (tell it so). */
    ANSWER_NEW_SUBSCRIBER
  }

  private final Map<String, Set<String>> subscribers = new LinkedHashMap<>();
  private final Map<String, Op> ops = new HashMap<>();

  /** True for a subscribe or unsubscribe with a URI (anything else is forwarded as is). */
  static boolean isSubscription(UpstreamServer.Forward f) {
    return (Methods.RESOURCES_SUBSCRIBE.equals(f.method()) || Methods.RESOURCES_UNSUBSCRIBE.equals(f.method()))
        && f.params() != null && f.params().path("uri").isTextual();
  }

  static String uri(UpstreamServer.Forward f) {
    return f.params().get("uri").asText();
  }

  /** Books a client's subscribe or unsubscribe (connected upstream) and says what to do with it. */
  Action request(UpstreamServer.Forward f) {
    String uri = uri(f);
    Op op = ops.get(uri);
    if (op != null) {
      op.waiting.add(f);
      return Action.WAIT;
    }
    Set<String> sessions = subscribers.get(uri);
    if (Methods.RESOURCES_SUBSCRIBE.equals(f.method())) {
      if (sessions == null) {
        start(uri, Methods.RESOURCES_SUBSCRIBE, f);
        return Action.SEND;
      }
      return sessions.add(f.sessionId()) ? Action.ANSWER_NEW_SUBSCRIBER : Action.ANSWER;
    }
    if (sessions != null && sessions.remove(f.sessionId()) && sessions.isEmpty()) {
      subscribers.remove(uri);
      start(uri, Methods.RESOURCES_UNSUBSCRIBE, f);
      return Action.SEND;
    }
    return Action.ANSWER;
  }

  /** Starts an op for {@code uri}; {@code request} is the client's, or null for Bastion's own. */
  Op start(String uri, String method, UpstreamServer.Forward request) {
    Op op = new Op(method, request);
    ops.put(uri, op);
    return op;
  }

  Op op(String uri) {
    return ops.get(uri);
  }

  /**
   * The upstream answered {@code op}. A successful client subscribe makes its session a
   * subscriber; returns true then (tell the session so). The caller then replays
   * {@code op.waiting} in order through {@link #request} and, if {@link #unsubscribeDue}, sends an
   * unsubscribe of its own.
   */
  boolean answered(String uri, Op op, boolean ok) {
    if (ops.get(uri) == op) {
      ops.remove(uri);
    }
    if (ok && op.request != null && Methods.RESOURCES_SUBSCRIBE.equals(op.method)) {
      subscribers.computeIfAbsent(uri, k -> new LinkedHashSet<>()).add(op.request.sessionId());
      return true;
    }
    return false;
  }

  /** After {@code op} was answered and its waiting requests replayed: must Bastion unsubscribe now? */
  boolean unsubscribeDue(String uri, Op op) {
    return op.unsubscribeAfter && !subscribers.containsKey(uri) && !ops.containsKey(uri);
  }

  /**
   * Forgets {@code sessionId} everywhere. When {@code connected}, returns the URIs nobody watches
   * any more that need an unsubscribe now; one whose re-subscribe is still on the wire is
   * unsubscribed once that is answered instead. Not connected: the next connection simply does
   * not re-subscribe them.
   */
  List<String> sessionEnded(String sessionId, boolean connected) {
    List<String> now = new ArrayList<>();
    Iterator<Map.Entry<String, Set<String>>> it = subscribers.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Set<String>> s = it.next();
      if (s.getValue().remove(sessionId) && s.getValue().isEmpty()) {
        it.remove();
        if (connected) {
          Op op = ops.get(s.getKey());
          if (op != null) {
            op.unsubscribeAfter = true;
          } else {
            now.add(s.getKey());
          }
        }
      }
    }
    return now;
  }

  /** The URIs the upstream must be subscribed to (re-sent after every connect), in first-subscribed order. */
  List<String> uris() {
    return List.copyOf(subscribers.keySet());
  }

  /** The sessions subscribed to {@code uri} (empty when none). */
  Set<String> subscribers(String uri) {
    Set<String> s = subscribers.get(uri);
    return s == null ? Set.of() : Collections.unmodifiableSet(s);
  }

  /**
   * The connection is gone: drops every op and returns the client requests that were waiting on
   * them (on the wire first, then the queued ones, op by op) to be failed. The subscribers stay;
   * the next connection re-sends them.
   */
  List<UpstreamServer.Forward> abandonOps() {
    List<UpstreamServer.Forward> pending = new ArrayList<>();
    for (Op op : ops.values()) {
      if (op.request != null) {
        pending.add(op.request);
      }
      pending.addAll(op.waiting);
    }
    ops.clear();
    return pending;
  }
}
