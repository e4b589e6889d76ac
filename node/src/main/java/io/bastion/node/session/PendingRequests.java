package io.bastion.node.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.Reply;
import io.bastion.node.call.RequestStream;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server→client requests (sampling, elicitation, roots) of one session that wait for the
 * client's answer: which upstream asked, under which upstream id, and where the request went. The
 * session mints the downstream id ({@code bastion-s2c-N}), so the client's answer can be POSTed to
 * any node and still find its way back. Bounded: a misbehaving upstream must not grow a session
 * without limit. Not thread-safe: owned by the session entity.
 */
final class PendingRequests {
  private static final Logger LOG = LoggerFactory.getLogger(PendingRequests.class);

  /** One request waiting for the client. */
  record Pending(String server, JsonNode upstreamId, String method, Reply target) {}

  /** Empty (shared) until the first request: most sessions never get one, and a node holds many sessions. */
  private Map<String, Pending> byId = Collections.emptyMap();
  private final int max;
  private long next = 1;

  PendingRequests(int max) {
    this.max = max;
  }

  boolean full() {
    return byId.size() >= max;
  }

  /** Records a request and returns the downstream id it is sent under. */
  String add(String server, JsonNode upstreamId, String method, Reply target) {
    String downstreamId = "bastion-s2c-" + (next++);
    if (!(byId instanceof LinkedHashMap)) {
      byId = new LinkedHashMap<>();
    }
    byId.put(downstreamId, new Pending(server, upstreamId, method, target));
    return downstreamId;
  }

  /** The request the client's answer with {@code downstreamId} belongs to, removed; null if none. */
  Pending take(JsonNode downstreamId) {
    return downstreamId != null && downstreamId.isTextual() ? byId.remove(downstreamId.asText()) : null;
  }

  Pending take(String downstreamId) {
    return byId.remove(downstreamId);
  }

  /** Removes and returns every waiting request, by downstream id, oldest first. */
  List<Map.Entry<String, Pending>> drain() {
    List<Map.Entry<String, Pending>> all = new ArrayList<>(byId.entrySet());
    byId.clear();
    return all;
  }

  int size() {
    return byId.size();
  }

  /**
   * Sends upstream request {@code r} to the client on the stream of the request that caused it, or
   * else on the session's GET {@code stream}, and waits for the answer until {@code timeout}; or
   * refuses it at once (the session is gone, the client lacks the capability or a stream, or too
   * many requests already wait).
   */
  void offer(SessionEntity.ServerRequest r, SessionInfo info, ActorRef<RequestStream.Event> stream,
      TimerScheduler<SessionEntity.Command> timers, Duration timeout,
      Function<String, RecipientRef<UpstreamServer.Command>> upstreams) {
    Reply target = r.related() != null ? r.related() : stream == null ? null : Reply.toStream(stream);
    boolean supported = switch (r.method()) {
      case "sampling/createMessage" -> info.clientSupports("sampling");
      case "elicitation/create" -> info.clientSupports("elicitation");
      case "roots/list" -> info.clientSupports("roots");
      default -> true;
    };
    if (!info.found() || target == null || !supported) {
      String why = !info.found() ? "session is gone"
          : !supported ? "the client did not declare the capability for " + r.method()
          : "the client has no open stream to receive " + r.method();
      answer(upstreams, r.server(), r.upstreamId(), ErrorCodes.METHOD_NOT_FOUND,
          "Bastion cannot forward " + r.method() + ": " + why);
      return;
    }
    if (full()) {
      // A misbehaving upstream must not grow the session without bound.
      answer(upstreams, r.server(), r.upstreamId(), ErrorCodes.GATEWAY_ERROR, "Bastion cannot forward "
          + r.method() + ": the session already has " + size() + " unanswered server-to-client requests");
      return;
    }
    String downstreamId = add(r.server(), r.upstreamId(), r.method(), target);
    timers.startSingleTimer(timerKey(downstreamId), new SessionEntity.PendingExpired(downstreamId), timeout);
    target.message(JsonRpc.request(Json.NODES.textNode(downstreamId), r.method(), r.params()));
  }

  /** Where the client's answer {@code downstreamId} goes (the request is taken off and its timer cancelled). */
  PendingAnswer resolve(JsonNode downstreamId, TimerScheduler<?> timers) {
    Pending p = take(downstreamId);
    if (p == null) {
      return new PendingAnswer(null, null);
    }
    timers.cancel(timerKey(downstreamId.asText()));
    return new PendingAnswer(p.server(), p.upstreamId());
  }

  /** The key of the timer that expires request {@code downstreamId}. */
  static String timerKey(String downstreamId) {
    return "pending-" + downstreamId;
  }

  /** Answers the upstream's request {@code upstreamId} with an error. */
  static void answer(Function<String, RecipientRef<UpstreamServer.Command>> upstreams, String server,
      JsonNode upstreamId, int code, String message) {
    upstreams.apply(server).tell(new UpstreamServer.ClientAnswer(upstreamId,
        JsonRpc.error(upstreamId, code, message, null)));
  }

  /**
   * The client did not answer {@code downstreamId} within {@code timeout}: the upstream gets a
   * timeout error instead of waiting for ever, and the client is told the request is cancelled (a
   * late answer finds no entry and is dropped by the edge). Returns the expired request, or null.
   */
  Pending expire(String downstreamId, Duration timeout, Function<String, RecipientRef<UpstreamServer.Command>> upstreams) {
    Pending p = take(downstreamId);
    if (p != null) {
      LOG.debug("Server-to-client request [{}] unanswered after {}", downstreamId, timeout);
      answer(upstreams, p.server(), p.upstreamId(), ErrorCodes.REQUEST_TIMEOUT,
          "Request timed out: the client did not answer " + p.method() + " within " + timeout.toMillis() + " ms");
      ObjectNode params = Json.object().put("requestId", downstreamId).put("reason", "timed out in Bastion");
      p.target().message(JsonRpc.notification(Methods.NOTIFICATION_CANCELLED, params));
    }
    return p;
  }

  /** Fails every waiting request: {@code why} the session cannot complete it. */
  void failAll(String why, TimerScheduler<?> timers, Function<String, RecipientRef<UpstreamServer.Command>> upstreams) {
    for (Map.Entry<String, Pending> e : drain()) {
      timers.cancel(timerKey(e.getKey()));
      Pending p = e.getValue();
      answer(upstreams, p.server(), p.upstreamId(), ErrorCodes.INTERNAL_ERROR,
          "Bastion cannot complete " + p.method() + ": " + why + " before the client answered");
    }
  }
}
