package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.node.NodeSettings;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.SessionPort;
import io.bastion.node.upstream.InFlightTable.Entry;
import io.bastion.node.upstream.UpstreamServer.Callback;
import io.bastion.node.upstream.UpstreamServer.Event;
import io.bastion.node.upstream.UpstreamServer.Forward;
import io.bastion.node.upstream.UpstreamServer.State;
import io.bastion.node.upstream.transport.UpstreamTransport;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.javadsl.Effect;

/**
 * The requests of one {@link UpstreamServer}'s connection and their answers: forwarding with id
 * and progress-token rewriting ({@link InFlightTable}), timeouts, cancellation, the client's
 * answers to server→client requests, reference-counted resource subscriptions
 * ({@link SubscriptionBook}), and routing what the upstream sends back to the right client stream.
 *
 * <p>Runtime state only, owned by the entity and used on its thread.
 */
final class UpstreamTraffic {

  private final UpstreamServer entity;
  private final ServerConfig config;
  private final NodeSettings settings;
  private final SessionPort sessions;
  private final InFlightTable<Callback> inFlight = new InFlightTable<>();
  private final SubscriptionBook subscriptions = new SubscriptionBook();
  private final EarlyCancels earlyCancels = new EarlyCancels();

  UpstreamTraffic(UpstreamServer entity, NodeSettings settings, SessionPort sessions) {
    this.entity = entity;
    this.config = entity.config;
    this.settings = settings;
    this.sessions = sessions;
  }

  /** Calls refused with a 401, waiting for the token refresh that lets them go again ({@link UpstreamAuth}). */
  final HeldCalls held = new HeldCalls();

  /** Requests on the wire, and calls held for a token refresh (a hand-off drains those too). */
  int inFlight() {
    return inFlight.size() + held.size();
  }

  private UpstreamTransport transport() {
    return entity.connection.transport();
  }

  private Effect<Event, State> none() {
    return entity.effects().none();
  }

  Duration requestTimeout() {
    return requestTimeout(config, settings);
  }

  /** A request's timeout on {@code config}'s upstream: its own, within the node's maximum. */
  static Duration requestTimeout(ServerConfig config, NodeSettings settings) {
    Duration t = config.requestTimeout();
    return t.compareTo(settings.maxRequestTimeout()) > 0 ? settings.maxRequestTimeout() : t;
  }

  // ---------------------------------------------------------------- requests

  /** A client's request, on a usable connection. */
  void forward(Forward f) {
    if (SubscriptionBook.isSubscription(f)) {
      subscription(f);
      return;
    }
    if (earlyCancels.take(f.sessionId(), f.downstreamId(), System.nanoTime())) {
      f.replyTo().fail(Fault.CLIENT_CANCELLED, f.downstreamId(), f.method(), "Request cancelled");
      return;
    }
    // The forwarded params are this request's own tree (parsed by the edge, or deserialized): no copy.
    ObjectNode params = f.params() == null ? Json.object() : f.params();
    Entry<Callback> e = inFlight.addClient(f.sessionId(), f.downstreamId(), f.method(), params, f.replyTo(),
        System.nanoTime(), requestTimeout(), entity.auth.enabled());
    send(e, params);
  }

  /**
   * A held call goes again after a token refresh: now if the connection is usable (no message a
   * stopping entity could drop), else through the entity's mailbox (stashed while connecting).
   */
  void sendAgain(Forward f) {
    if (entity.connection.usable()) {
      forward(f);
    } else {
      entity.ctx.getSelf().tell(f);
    }
  }

  /** A request Bastion sends on its own; {@code callback} gets the answer (or a synthesized error). */
  void sendInternal(String method, JsonNode params, Duration timeout, Callback callback) {
    send(inFlight.addInternal(method, callback, System.nanoTime(), timeout), params);
  }

  /**
   * The periodic sweep: every request past its deadline gets a {@link UpstreamServer.TimedOut}
   * (rare; handled like any command, so Bastion's own requests' callbacks return their effects).
   */
  void sweep() {
    ActorRef<UpstreamServer.Command> self = entity.ctx.getSelf();
    for (long id : inFlight.expire(System.nanoTime())) {
      self.tell(new UpstreamServer.TimedOut(id));
    }
  }

  private void send(Entry<Callback> e, JsonNode params) {
    int gen = entity.connection.generation();
    ActorRef<UpstreamServer.Command> self = entity.ctx.getSelf();
    transport().send(JsonRpc.request(LongNode.valueOf(e.id()), e.method(), params))
        .whenComplete((ok, err) -> {
          if (err != null) {
            self.tell(new UpstreamServer.SendFailed(gen, e.id(), entity.connection.describe(err)));
          }
        });
  }

  Effect<Event, State> onSendFailed(State s, UpstreamServer.SendFailed f) {
    Entry<Callback> e = inFlight.remove(f.upstreamId());
    if (e == null) {
      return none();
    }
    String reason = "sending to upstream " + config.name() + " failed: " + f.cause();
    if (e.callback() != null) {
      return e.callback().apply(s, JsonRpc.error(null, ErrorCodes.UPSTREAM_UNAVAILABLE, reason, null));
    }
    if (entity.auth.enabled() && f.cause() != null && f.cause().contains("HTTP 401") && e.params() != null
        && f.generation() == entity.connection.generation() && held.mayRetry(e.replyTo())) {
      // OAuth: the upstream refused a token Bastion believed valid (revoked, expired early):
      // refresh once and send this call again once; the connection (and its session) stays.
      return entity.auth.retryAfterRefresh(s, again(e));
    }
    unavailable(e.replyTo(), e.method(), e.downstreamId(), reason);
    if (entity.auth.enabled() && f.cause() != null && f.cause().contains("HTTP 403")
        && f.cause().contains("insufficient_scope")) {
      return entity.auth.stepUp(s, f.cause());
    }
    if (entity.auth.enabled() && f.cause() != null && f.cause().contains("HTTP 401")
        && f.generation() == entity.connection.generation()) {
      // OAuth: the upstream refused the token; get a new one now, not at the next health ping.
      return entity.connection.lost(s, reason, entity.connection.ready());
    }
    return none();
  }

  Effect<Event, State> onTimedOut(State s, UpstreamServer.TimedOut t) {
    Entry<Callback> e = inFlight.remove(t.upstreamId());
    if (e == null) {
      return none();
    }
    if (transport() != null) {
      ObjectNode p = Json.object().put("requestId", e.id()).put("reason", "timed out in Bastion");
      transport().send(JsonRpc.notification(Methods.NOTIFICATION_CANCELLED, p));
    }
    String reason = e.method() + " to upstream " + config.name() + " timed out";
    if (e.callback() != null) {
      return e.callback().apply(s, JsonRpc.error(null, ErrorCodes.REQUEST_TIMEOUT, reason, null));
    }
    e.replyTo().fail(Fault.UPSTREAM_TIMEOUT, e.downstreamId(), e.method(), reason);
    return none();
  }

  Effect<Event, State> cancel(UpstreamServer.Cancel c) {
    Entry<Callback> e = inFlight.removeClient(c.sessionId(), c.downstreamId());
    if (e != null) {
      if (transport() != null) {
        ObjectNode p = Json.object().put("requestId", e.id());
        if (c.reason() != null) {
          p.put("reason", c.reason());
        }
        transport().send(JsonRpc.notification(Methods.NOTIFICATION_CANCELLED, p));
      }
      e.replyTo().fail(Fault.CLIENT_CANCELLED, e.downstreamId(), e.method(), "Request cancelled");
    } else {
      earlyCancels.remember(c.sessionId(), c.downstreamId(), System.nanoTime());
    }
    return none();
  }

  Effect<Event, State> clientAnswer(UpstreamServer.ClientAnswer a) {
    if (transport() != null) {
      ObjectNode msg = a.message().deepCopy();
      msg.set("id", a.upstreamId());
      transport().send(msg);
    }
    return none();
  }

  /** The connection is gone: every client waiting on it is answered; Bastion's own requests are dropped. */
  void failAll(String reason) {
    held.fail(reason);
    for (Entry<Callback> e : inFlight.clear()) {
      if (e.fromClient()) {
        unavailable(e.replyTo(), e.method(), e.downstreamId(), reason);
      }
      // Internal callbacks are dropped: the generation changed, so their answers are moot.
    }
    // Subscription ops are internal requests too: answer the clients waiting on them. The
    // subscribers stay; the next connection re-sends them.
    for (Forward w : subscriptions.abandonOps()) {
      unavailable(w.replyTo(), w.method(), w.downstreamId(), reason);
    }
  }

  // ---------------------------------------------------------------- resource subscriptions

  /**
   * A client's subscribe or unsubscribe. The upstream sees a subscribe only from the first session
   * that watches a URI and an unsubscribe only from the last one that leaves it; everyone else is
   * answered {@code {}} at once.
   */
  private void subscription(Forward f) {
    if (!entity.connection.usable()) {
      unavailable(f.replyTo(), f.method(), f.downstreamId(),
          "upstream " + config.name() + " is unavailable (" + entity.connection.status() + ")");
      return;
    }
    switch (subscriptions.request(f)) {
      case WAIT -> { }
      case SEND -> sendOp(SubscriptionBook.uri(f));
      case ANSWER_NEW_SUBSCRIBER -> {
        sessions.subscribed(f.sessionId(), config.name());
        f.replyTo().result(JsonRpc.result(f.downstreamId(), Json.object()));
      }
      case ANSWER -> f.replyTo().result(JsonRpc.result(f.downstreamId(), Json.object()));
    }
  }

  /** Starts and sends Bastion's own subscribe/unsubscribe of {@code uri}. */
  private void startOp(String uri, String method) {
    subscriptions.start(uri, method, null);
    sendOp(uri);
  }

  /** Sends the op just started for {@code uri} upstream. */
  private void sendOp(String uri) {
    SubscriptionBook.Op op = subscriptions.op(uri);
    Forward request = op.request;
    ObjectNode params;
    if (request != null) {
      params = request.params().deepCopy();
      params.put("uri", uri);
      if (params.path("_meta").isObject()) {
        ((ObjectNode) params.get("_meta")).remove("progressToken");
      }
    } else {
      params = Json.object().put("uri", uri);
    }
    sendInternal(op.method, params, requestTimeout(), (s, answer) -> {
      boolean ok = !answer.has("error");
      if (subscriptions.answered(uri, op, ok)) {
        sessions.subscribed(request.sessionId(), config.name());
      }
      if (request == null) {
        if (!ok) {
          entity.ctx.getLog().warn("Upstream [{}] refused {} of [{}]: {}", config.name(), op.method, uri,
              UpstreamConnection.errorText(answer));
        }
      } else {
        request.replyTo().answer(InFlightTable.downstreamAnswer(answer, request.downstreamId()));
      }
      for (Forward w : op.waiting) {
        subscription(w);
      }
      if (subscriptions.unsubscribeDue(uri, op) && entity.connection.usable()) {
        startOp(uri, Methods.RESOURCES_UNSUBSCRIBE);
      }
      return none();
    });
  }

  /** After a (re)connect and handshake: the new upstream session knows no subscriptions yet. */
  void resubscribe() {
    var uris = subscriptions.uris();
    if (uris.isEmpty()) {
      return;
    }
    entity.ctx.getLog().info("Upstream [{}]: re-subscribing to [{}] resource(s)", config.name(), uris.size());
    for (String uri : uris) {
      startOp(uri, Methods.RESOURCES_SUBSCRIBE);
    }
  }

  Effect<Event, State> sessionEnded(UpstreamServer.SessionEnded e) {
    for (String uri : subscriptions.sessionEnded(e.sessionId(), entity.connection.usable())) {
      startOp(uri, Methods.RESOURCES_UNSUBSCRIBE);
    }
    return none();
  }

  // ---------------------------------------------------------------- inbound messages

  /** A response of the upstream: to a client's request, or to one of Bastion's own (its callback runs). */
  Effect<Event, State> response(State s, ObjectNode msg) {
    JsonNode id = msg.get("id");
    if (id == null || !id.canConvertToLong()) {
      return none();
    }
    Entry<Callback> e = inFlight.remove(id.asLong());
    if (e == null) {
      return none();
    }
    if (e.callback() != null) {
      return e.callback().apply(s, msg);
    }
    e.replyTo().answer(InFlightTable.downstreamAnswer(msg, e.downstreamId()));
    return none();
  }

  /** A notification of the upstream other than a list change. */
  void notification(ObjectNode msg, String method, JsonNode related) {
    switch (method) {
      case Methods.NOTIFICATION_PROGRESS -> inFlight.progress(msg).ifPresent(p -> {
        p.entry().replyTo().message(p.notification());
        // Progress shows the request is alive: restart its timeout, within the hard maximum.
        InFlightTable.timeoutAfterProgress(p.entry(), System.nanoTime(), requestTimeout(),
                settings.maxRequestTimeout())
            .ifPresent(t -> inFlight.extend(p.entry().id(), System.nanoTime(), t));
      });
      case Methods.NOTIFICATION_RESOURCES_UPDATED -> {
        String uri = msg.path("params").path("uri").asText();
        ObjectNode copy = msg.deepCopy();
        ((ObjectNode) copy.get("params")).put("uri", FederatedCatalog.exposeUri(config.toolPrefix(), uri));
        for (String session : subscriptions.subscribers(uri)) {
          sessions.resourceUpdated(session, config.name(), copy);
        }
      }
      case Methods.NOTIFICATION_CANCELLED -> { /* the upstream gave up on one of its own requests */ }
      default -> {
        Entry<Callback> e = inFlight.related(related);
        if (e != null) {
          e.replyTo().message(msg);
        }
      }
    }
  }

  /** A request of the upstream: ping is answered here, the rest goes to the client it belongs to. */
  void serverRequest(ObjectNode msg, String method, JsonNode related) {
    JsonNode id = msg.get("id");
    if (Methods.PING.equals(method)) {
      transport().send(JsonRpc.result(id, Json.object()));
      return;
    }
    Entry<Callback> e = inFlight.related(related);
    if (e == null && Methods.ROOTS_LIST.equals(method)) {
      // Asked outside any client request (typically right after initialize): Bastion itself
      // exposes no filesystem roots.
      ObjectNode empty = Json.object();
      empty.putArray("roots");
      transport().send(JsonRpc.result(id, empty));
      return;
    }
    if (e == null) {
      transport().send(JsonRpc.error(id, ErrorCodes.METHOD_NOT_FOUND,
          "Bastion has no client request in flight to forward " + method + " to", null));
      return;
    }
    sessions.serverRequest(e.sessionId(), config.name(), id, method, msg.get("params"), e.replyTo());
  }

  /** The client request of {@code e} as it came, to be forwarded again (its progress token restored). */
  private static Forward again(Entry<Callback> e) {
    ObjectNode params = e.params();
    if (e.downstreamProgressToken() != null && params.path("_meta").isObject()) {
      ((ObjectNode) params.get("_meta")).set("progressToken", e.downstreamProgressToken());
    }
    return new Forward(e.sessionId(), e.downstreamId(), e.method(), params, e.replyTo());
  }

  private static void unavailable(Reply reply, String method, JsonNode downstreamId, String reason) {
    reply.fail(Fault.UPSTREAM_UNAVAILABLE, downstreamId, method, reason);
  }
}
