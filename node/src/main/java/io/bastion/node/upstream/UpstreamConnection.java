package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.Urls;
import io.bastion.node.call.Failures;
import io.bastion.node.upstream.UpstreamServer.Event;
import io.bastion.node.upstream.UpstreamServer.State;
import io.bastion.node.upstream.transport.UpstreamTransport;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;
import io.bastion.protocol.UpstreamCatalog;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;

/**
 * The connection of one {@link UpstreamServer} and the handlers of its lifecycle: transport start,
 * MCP handshake, catalog discovery ({@link CatalogDiscovery}), the health loop (ping every
 * interval) and reconnects paced by {@link Backoff}. Runtime state only, owned by the entity and
 * used on its thread. Every transport gets a new {@code generation}; messages of an older one are
 * ignored. States: {@code connecting} (an attempt is in progress; calls are stashed), {@code ready},
 * {@code backing-off} (it was ready, then failed) and {@code failed} (the attempt itself failed).
 */
final class UpstreamConnection {

  private final UpstreamServer entity;
  private final ServerConfig config;
  private final TimerScheduler<UpstreamServer.Command> timers;
  private final UpstreamServer.TransportFactory transports;
  private final Backoff backoff;

  private UpstreamTransport transport;
  private int generation;
  /** {@link #start} ran (the incarnation is recorded): a reconnect before it would race the first connect. */
  private boolean started;
  private String status = UpstreamStatus.CONNECTING;
  private String lastError;
  private JsonNode serverInfo;
  private JsonNode capabilities;
  private boolean pingOutstanding;
  private CatalogDiscovery discovery; // the listing in progress, or null
  /** A list_changed arrived during a listing: list again once it is done. */
  private boolean refreshAgain;

  UpstreamConnection(UpstreamServer entity, TimerScheduler<UpstreamServer.Command> timers,
      UpstreamServer.TransportFactory transports) {
    this.entity = entity;
    this.config = entity.config;
    this.timers = timers;
    this.transports = transports;
    this.backoff = new Backoff(config.backoffMin(), config.backoffMax());
  }

  String status() {
    return status;
  }

  String lastError() {
    return lastError;
  }

  JsonNode serverInfo() {
    return serverInfo;
  }

  JsonNode capabilities() {
    return capabilities;
  }

  Backoff backoff() {
    return backoff;
  }

  int generation() {
    return generation;
  }

  /** The transport, or null while there is none. */
  UpstreamTransport transport() {
    return transport;
  }

  boolean connecting() {
    return UpstreamStatus.CONNECTING.equals(status);
  }

  boolean ready() {
    return UpstreamStatus.READY.equals(status);
  }

  /** Ready, with a transport: requests can be sent. */
  boolean usable() {
    return ready() && transport != null;
  }

  private EffectFactories<Event, State> effect() {
    return entity.effects();
  }

  /** The first connection of this incarnation, and the health loop. */
  void start(State s) {
    started = true;
    entity.publish(s);
    connect(s);
    timers.startTimerWithFixedDelay(UpstreamServer.HealthTick.INSTANCE, config.healthInterval());
    timers.startTimerWithFixedDelay(UpstreamServer.Sweep.INSTANCE, UpstreamServer.SWEEP_INTERVAL);
  }

  private void connect(State s) {
    generation++;
    status = UpstreamStatus.CONNECTING;
    entity.publish(s);
    if (entity.auth.enabled() && !entity.auth.ready(s)) {
      // No usable OAuth token: get one first; the step's answer continues with openTransport.
      entity.auth.obtain(s, generation);
      return;
    }
    openTransport();
  }

  /** OAuth: a token is at hand for the current attempt; open its transport. */
  void tokenReady() {
    if (connecting() && transport == null) {
      openTransport();
    }
  }

  /** OAuth: an operator must authorize; no reconnect timer until the callback or the admin API restarts it. */
  void awaitOperator(State s) {
    close("needs authorization");
    status = UpstreamStatus.NEEDS_AUTHORIZATION;
    String url = entity.auth.authorizationUrl(s);
    boolean keyed = KeyedUpstreams.isKeyed(config.name());
    lastError = keyed ? "authorization needed: the holder of key " + KeyedUpstreams.key(config.name())
        + " must open the authorization URL that the key's calls answer with"
        : "authorization needed: an operator must open the authorization URL shown in /api/v1/servers";
    timers.cancel("reconnect");
    entity.traffic.failAll(keyed && url != null ? KeyedUpstreams.authorizationNeeded(config.name(), url)
        : "upstream " + config.name() + " needs authorization by an operator");
    entity.publish(s);
  }

  /** OAuth: new tokens or a new authorization: drop the connection and connect again now. */
  void restart(State s) {
    close("re-authorized");
    timers.cancel("reconnect");
    backoff.reset();
    connect(s);
  }

  private void openTransport() {
    int gen = generation;
    ActorRef<UpstreamServer.Command> self = entity.ctx.getSelf();
    try {
      transport = transports.apply(entity.ctx.getSystem(), config);
      transport.start(new UpstreamTransport.Listener() {
        @Override
        public void onMessage(ObjectNode message, JsonNode relatedRequestId) {
          self.tell(new UpstreamServer.Inbound(gen, message, relatedRequestId));
        }

        @Override
        public void onClosed(Throwable cause) {
          self.tell(new UpstreamServer.TransportClosed(gen, cause == null ? null : describe(cause)));
        }
      }).whenComplete((ok, err) -> self.tell(err == null
          ? new UpstreamServer.Started(gen, false) : new UpstreamServer.StartFailed(gen, describe(err))));
    } catch (RuntimeException e) {
      self.tell(new UpstreamServer.StartFailed(gen, describe(e)));
    }
  }

  Effect<Event, State> onStarted(State s, UpstreamServer.Started started) {
    if (started.generation() != generation) {
      return effect().none();
    } else if (started.initialized()) {
      entity.traffic.resubscribe();
      return discover(s, true);
    }
    ObjectNode params = Handshake.initializeParams(true);
    entity.traffic.sendInternal(Methods.INITIALIZE, params, config.requestTimeout(), this::onInitializeAnswer);
    return effect().none();
  }

  private Effect<Event, State> onInitializeAnswer(State s, ObjectNode answer) {
    String refusal = Handshake.refusal(answer);
    if (refusal != null) {
      return lost(s, refusal, false);
    }
    JsonNode result = answer.path("result");
    String version = result.path("protocolVersion").asText();
    serverInfo = result.get("serverInfo");
    capabilities = result.get("capabilities");
    transport.protocolVersion(version);
    // List once `initialized` is through: over HTTP the next POST could overtake it, and servers
    // register tools when it arrives (their list_changed may go to a GET stream not yet open).
    int gen = generation;
    transport.send(JsonRpc.notification(Methods.NOTIFICATION_INITIALIZED, null))
        .whenComplete((ok, err) -> entity.ctx.getSelf().tell(new UpstreamServer.Started(gen, true)));
    return effect().none();
  }

  Effect<Event, State> onStartFailed(State s, UpstreamServer.StartFailed f) {
    if (f.generation() != generation) {
      return effect().none();
    }
    return lost(s, f.cause(), false);
  }

  Effect<Event, State> onTransportClosed(State s, UpstreamServer.TransportClosed c) {
    if (c.generation() != generation) {
      return effect().none();
    }
    String why = c.cause() == null ? "connection closed" : c.cause();
    return lost(s, "upstream disconnected: " + why, ready());
  }

  /**
   * The connection is unusable: fail everything in flight, publish the state and schedule the
   * next attempt with capped exponential backoff and jitter. Stashed calls are released and now
   * fail fast.
   */
  Effect<Event, State> lost(State s, String reason, boolean wasReady) {
    reason = Urls.scrub(reason, config.url());
    if (entity.auth.enabled() && reason.contains("HTTP 401")) {
      // The upstream refused the token (expired early, revoked): the next attempt refreshes it.
      entity.auth.rejected(s);
    }
    close(reason);
    generation++;
    lastError = reason;
    status = wasReady ? UpstreamStatus.BACKING_OFF : UpstreamStatus.FAILED;
    long delay = backoff.failed();
    entity.ctx.getLog().warn("Upstream [{}] {}; retrying in [{}] ms (attempt [{}])",
        config.name(), reason, delay, backoff.attempts());
    entity.traffic.failAll("upstream " + config.name() + " is unavailable: " + reason);
    entity.publish(s);
    timers.startSingleTimer("reconnect", new UpstreamServer.Reconnect(generation), Duration.ofMillis(delay));
    return effect().unstashAll();
  }

  Effect<Event, State> onReconnect(State s, UpstreamServer.Reconnect r) {
    if (r.generation() == generation && !ready()) {
      connect(s);
    }
    return effect().none();
  }

  /** The operator's reconnect: drop the connection, fail what is in flight, reset the backoff, connect now. */
  Effect<Event, State> onReconnectNow(State s) {
    if (!started) {
      return effect().none(); // the first connection is about to start anyway
    }
    entity.ctx.getLog().info("Upstream [{}]: reconnect requested", config.name());
    close("reconnect requested");
    entity.traffic.failAll("upstream " + config.name() + " is reconnecting (requested by an operator)");
    timers.cancel("reconnect");
    backoff.reset();
    connect(s);
    return effect().unstashAll();
  }

  /** Closes the transport, if any (in the background; a failure is only logged). */
  void close(String reason) {
    if (transport != null) {
      UpstreamTransport t = transport;
      transport = null;
      pingOutstanding = false;
      discovery = null;
      refreshAgain = false;
      t.close().whenComplete((ok, err) -> {
        if (err != null) {
          entity.ctx.getSystem().log().debug("closing upstream [{}] ({}) failed: {}", config.name(), reason,
              err.toString());
        }
      });
    }
  }

  Effect<Event, State> onHealthTick(State s, UpstreamServer.HealthTick t) {
    if (ready() && !pingOutstanding) {
      pingOutstanding = true;
      entity.traffic.sendInternal(Methods.PING, null, config.pingTimeout(), (st, answer) -> {
        pingOutstanding = false;
        if (answer.has("error") && answer.path("error").path("code").asInt() != ErrorCodes.METHOD_NOT_FOUND) {
          return lost(st, "health ping failed: " + errorText(answer), true);
        }
        return effect().none();
      });
    }
    return effect().none();
  }

  /** A message of the upstream: a catalog change is handled here, everything else by the traffic. */
  Effect<Event, State> onInbound(State s, UpstreamServer.Inbound in) {
    if (in.generation() != generation) {
      return effect().none();
    }
    ObjectNode msg = in.message();
    JsonNode method = msg.get("method");
    if (method != null && msg.has("id")) {
      entity.traffic.serverRequest(msg, method.asText(), in.related());
      return effect().none();
    }
    if (method != null) {
      switch (method.asText()) {
        case Methods.NOTIFICATION_TOOLS_LIST_CHANGED, Methods.NOTIFICATION_PROMPTS_LIST_CHANGED,
            Methods.NOTIFICATION_RESOURCES_LIST_CHANGED -> refresh(s);
        default -> entity.traffic.notification(msg, method.asText(), in.related());
      }
      return effect().none();
    }
    return entity.traffic.response(s, msg);
  }

  // ---------------------------------------------------------------- catalog discovery

  /** Lists everything the upstream declares, then persists the catalog if it changed. */
  private Effect<Event, State> discover(State s, boolean initial) {
    discovery = new CatalogDiscovery(config.name(), config.toolPrefix(), capabilities, initial);
    return listNext(s, discovery);
  }

  private Effect<Event, State> listNext(State s, CatalogDiscovery d) {
    CatalogDiscovery.Request next = d.next();
    if (next == null) {
      return listed(s, d.catalog(), d.initial());
    }
    entity.traffic.sendInternal(next.method(), next.params(), config.requestTimeout(), (st, answer) -> {
      String failure = d.accept(answer);
      return failure != null ? lost(st, failure, ready()) : listNext(st, d);
    });
    return effect().none();
  }

  private Effect<Event, State> listed(State s, UpstreamCatalog listed, boolean initial) {
    discovery = null;
    boolean wasReady = ready();
    if (initial) {
      status = UpstreamStatus.READY;
      backoff.reset();
      lastError = null;
      entity.ctx.getLog().info("Upstream [{}] ready: [{}] tools, [{}] resources, [{}] prompts",
          config.name(), listed.tools().size(), listed.resources().size(), listed.prompts().size());
    }
    Effect<Event, State> effect;
    if (!listed.equals(entity.currentCatalog(s))) {
      effect = effect().persist(new UpstreamServer.CatalogListed(listed, System.currentTimeMillis()))
          .thenRun(entity::publish)
          .thenUnstashAll();
    } else {
      entity.publish(s);
      effect = effect().unstashAll();
    }
    if (refreshAgain) {
      // A list_changed arrived while listing (servers often register tools right after
      // `initialized`, during the first listing): that listing may predate the change.
      refreshAgain = false;
      discover(s, false);
    } else if (!wasReady && !initial) {
      entity.publish(s);
    }
    return effect;
  }

  private void refresh(State s) {
    if (discovery != null) {
      refreshAgain = true;
    } else if (ready()) {
      discover(s, false);
    }
  }

  static String errorText(ObjectNode answer) {
    JsonNode e = answer.path("error");
    return e.path("message").asText("error") + " (" + e.path("code").asInt() + ")";
  }

  /**
   * The root cause's message, without secrets of the upstream's URL. Failures reach the entity as
   * this text (never as a Throwable), so every command stays serializable.
   */
  String describe(Throwable t) {
    return describe(t, config);
  }

  /** {@link #describe(Throwable)} for {@code config}'s upstream, without a connection (the standby's). */
  static String describe(Throwable t, ServerConfig config) {
    Throwable root = Failures.root(t);
    return Urls.scrub(root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage(),
        config.url());
  }
}
