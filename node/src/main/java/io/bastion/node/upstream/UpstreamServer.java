package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.node.NodeSettings;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.SessionPort;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.upstream.oauth.StoredAuth;
import io.bastion.node.upstream.transport.UpstreamTransport;
import io.bastion.node.upstream.transport.UpstreamTransports;
import io.bastion.persistence.CborSerializable;
import io.bastion.protocol.Json;
import io.bastion.protocol.UpstreamCatalog;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One upstream MCP server, sharded by its configured name: exactly one running connection in the
 * whole cluster, on the node that owns the shard.
 *
 * <p><b>Command → event → state.</b> The only persisted state is the last catalog the upstream
 * listed ({@link State}); the only event is {@link CatalogListed}, written when a listing differs
 * from the state's catalog and once per start (see {@link #onIncarnate}). The event handler is
 * pure. So a restarted or moved entity publishes its last catalog at once, and clients keep
 * seeing the tools while it reconnects. Journals written before the event was nested name it
 * {@code io.bastion.node.upstream.CatalogEvent}; {@link CatalogEventMigration} reads those.
 *
 * <p>Runtime state, the OAuth client ({@link UpstreamAuth}) and why the replies are not enforced:
 * see this package's {@code package-info.java}.
 */
public final class UpstreamServer
    extends EventSourcedBehavior<UpstreamServer.Command, UpstreamServer.Event, UpstreamServer.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "UpstreamServer");

  // ---------------------------------------------------------------- protocol

  public sealed interface Command extends CborSerializable {}

  /**
   * Forward a client request to this upstream. {@code params} already carry the upstream's own
   * names; every answer (final response, progress, logs, server→client requests) goes to {@code
   * replyTo}.
   */
  public record Forward(String sessionId, JsonNode downstreamId, String method, ObjectNode params,
      Reply replyTo) implements Command {}

  /** The client cancelled its request {@code downstreamId} of session {@code sessionId}. */
  public record Cancel(String sessionId, JsonNode downstreamId, String reason) implements Command {}

  /** The client's answer (result or error, any id) to the server→client request {@code upstreamId}. */
  public record ClientAnswer(JsonNode upstreamId, ObjectNode message) implements Command {}

  /**
   * The session ended (deleted, idle, its legacy stream closed, or its entity lost): drop its
   * resource subscriptions, and unsubscribe upstream from URIs nobody watches any more. Sent by
   * the session to every upstream that told it {@link SessionPort#subscribed}.
   */
  public record SessionEnded(String sessionId) implements Command {}

  /** Makes sure the entity runs (sent periodically by every node's {@code UpstreamKeeper}). */
  public enum Wakeup implements Command { INSTANCE }

  /**
   * The operator asked for a reconnect (admin API): the connection is dropped (requests in flight
   * fail), the backoff is reset and a new connection starts at once.
   */
  public enum ReconnectNow implements Command { INSTANCE }

  /** This entity's status as {@link #publish} would publish it (also for a key's entity, which publishes nothing). */
  public record GetStatus(ActorRef<UpstreamStatus> replyTo) implements Command {}

  /** Sharding's stop message (hand-off, shutdown). */
  public enum Stop implements Command { INSTANCE }

  /** A message from the upstream over connection {@code generation}. */
  record Inbound(int generation, ObjectNode message, JsonNode related) implements Command {}

  /** The connection ended; {@code cause} is already described and scrubbed of URL secrets (null: closed cleanly). */
  record TransportClosed(int generation, String cause) implements Command {}

  /** The transport started; {@code initialized}: the handshake's last message has been sent too. */
  record Started(int generation, boolean initialized) implements Command {}

  record StartFailed(int generation, String cause) implements Command {}
  record SendFailed(int generation, long upstreamId, String cause) implements Command {}

  record TimedOut(long upstreamId) implements Command {}

  record Reconnect(int generation) implements Command {}

  enum HealthTick implements Command { INSTANCE }

  /** The in-flight table's deadline sweep ({@link #SWEEP_INTERVAL}): one timer instead of one per request. */
  enum Sweep implements Command { INSTANCE }

  /** How often requests past their deadline are looked for: the resolution of request timeouts. */
  static final Duration SWEEP_INTERVAL = Duration.ofMillis(100);

  /** OAuth ({@link UpstreamAuth}): the browser came back to {@code /oauth/callback} (any node). */
  public record CompleteAuthorization(String state, String code, String iss, String error,
      ActorRef<StatusReply<String>> replyTo) implements Command {}
  /** OAuth admin API: drop the tokens (revoke: at the server too) and authorize again. */
  public record Reauthorize(boolean revoke, ActorRef<StatusReply<String>> replyTo) implements Command {}
  /** OAuth: a step finished; {@code failure} null means {@code auth} is the new state. */
  record AuthStep(int generation, StoredAuth auth, String failure, boolean permanent, boolean background)
      implements Command {}
  record CodeExchanged(String state, StoredAuth auth, String failure, boolean permanent,
      ActorRef<StatusReply<String>> replyTo) implements Command {}
  enum RefreshDue implements Command { INSTANCE }

  /** The hand-off drain time ({@code bastion.node.handoff-drain}) is over: stop now. */
  enum DrainOver implements Command { INSTANCE }

  /** Sent to itself once recovered: records a new incarnation, then connects. */
  private enum Incarnate implements Command { INSTANCE }

  public sealed interface Event extends CborSerializable {}

  /** The upstream listed this catalog (its own names): when it changed, and once per start ({@link #onIncarnate}). */
  public record CatalogListed(UpstreamCatalog catalog, long atMillis) implements Event {}

  /** The OAuth client state changed; {@code auth} (secrets sealed) replaces the old one (null: none). */
  public record AuthChanged(StoredAuth auth, long atMillis) implements Event {}

  /** Persisted state: the last catalog listed, and an OAuth upstream's sealed client state (else null). */
  public record State(UpstreamCatalog catalog, StoredAuth auth) implements CborSerializable {
    State applied(CatalogListed e) {
      return new State(e.catalog(), auth);
    }
    State applied(AuthChanged e) {
      return new State(catalog, e.auth());
    }
  }

  /** What Bastion does with the answer to a request it sent on its own. */
  interface Callback {
    Effect<Event, State> apply(State state, ObjectNode answer);
  }

  /** Creates the (not yet started) transport of a server; {@link UpstreamTransports#create} in production. */
  interface TransportFactory extends BiFunction<ActorSystem<?>, ServerConfig, UpstreamTransport> {}

  // ---------------------------------------------------------------- skeleton

  public static void init(ActorSystem<?> system, Function<String, Optional<ServerConfig>> configs,
      NodeSettings settings, SessionPort sessions) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_TYPE_KEY, ctx -> configs.apply(ctx.getEntityId())
                .<Behavior<Command>>map(cfg -> create(cfg, settings, sessions, null, configs))
                .orElseGet(() -> UnconfiguredUpstream.create(ctx.getEntityId(), ctx.getShard(),
                    () -> configs.apply(ctx.getEntityId()).isPresent())))
            .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(ServerConfig config, NodeSettings settings, SessionPort sessions) {
    return create(config, settings, sessions, null);
  }

  /** With another transport factory (a fake one in unit tests; null: the real ones, with OAuth tokens). */
  static Behavior<Command> create(ServerConfig config, NodeSettings settings, SessionPort sessions,
      TransportFactory transports) {
    return create(config, settings, sessions, transports, name -> Optional.of(config));
  }

  /**
   * {@code current}: this node's configuration of a server now (the file overlaid with the admin
   * API's changes). A {@link Wakeup} that finds it changed or gone stops the entity, and the next
   * wake-up starts it again with the new configuration.
   */
  static Behavior<Command> create(ServerConfig config, NodeSettings settings, SessionPort sessions,
      TransportFactory transports, Function<String, Optional<ServerConfig>> current) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new UpstreamServer(ctx, timers, config, settings, sessions, transports, current)));
  }

  final ActorContext<Command> ctx;
  final ServerConfig config;
  final UpstreamConnection connection;
  final UpstreamTraffic traffic;
  final UpstreamAuth auth;
  private final kamon.metric.Gauge inFlightGauge;
  private final Function<String, Optional<ServerConfig>> current;
  private int reportedInFlight = -1;
  private final TimerScheduler<Command> timers;
  private final Duration handoffDrain;
  /** Told to stop (hand-off, shutdown) with requests still running: stops when they are done. */
  private boolean draining;
  private final UpstreamPublication publication;

  private UpstreamServer(ActorContext<Command> ctx, TimerScheduler<Command> timers, ServerConfig config,
      NodeSettings settings, SessionPort sessions, TransportFactory transports,
      Function<String, Optional<ServerConfig>> current) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), config.name()),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.config = config;
    this.current = current;
    this.timers = timers;
    this.handoffDrain = settings.handoffDrain();
    this.inFlightGauge = Metrics.upstreamInFlight(config.name());
    this.publication = new UpstreamPublication(this);
    this.traffic = new UpstreamTraffic(this, settings, sessions);
    this.auth = new UpstreamAuth(this, timers);
    this.connection = new UpstreamConnection(this, timers,
        transports != null ? transports : (sys, cfg) -> UpstreamTransports.create(sys, cfg, auth.bearer()));
  }

  /**
   * Sharding's stop (a hand-off to another node, or this node shutting down): the requests this
   * entity is running are answered first, within the drain time; regions hold new messages for
   * the shard meanwhile, and the edge holds calls for an upstream whose owner is leaving.
   */
  private Effect<Event, State> onStop() {
    if (traffic.inFlight() == 0) {
      return Effect().stop();
    }
    if (!draining) {
      draining = true;
      ctx.getLog().info("Upstream [{}] stopping: draining [{}] requests (at most {})", config.name(),
          traffic.inFlight(), handoffDrain);
      timers.startSingleTimer(DrainOver.INSTANCE, handoffDrain);
    }
    return Effect().none();
  }

  @Override
  public State emptyState() {
    return new State(UpstreamCatalog.empty(config.name(), config.toolPrefix()), null);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(20, 2);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(CatalogListed.class, State::applied)
        .onEvent(AuthChanged.class, State::applied).build();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), s -> ctx.getSelf().tell(Incarnate.INSTANCE))
        .onSignal(PostStop.instance(), s -> {
          connection.close("entity stopped");
          inFlightGauge.update(0);
        })
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    CommandHandler<Command, Event, State> handler = commands();
    // Every change of the in-flight table happens in a command: publish its size after each one.
    return (state, command) -> {
      try {
        return handler.apply(state, command);
      } finally {
        int n = traffic.inFlight();
        if (n != reportedInFlight) {
          reportedInFlight = n;
          inFlightGauge.update(n);
        }
        if (draining && n == 0) {
          ctx.getSelf().tell(Stop.INSTANCE);
        }
      }
    };
  }

  private CommandHandler<Command, Event, State> commands() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Forward.class, this::onForward)
        .onCommand(Cancel.class, c -> traffic.cancel(c))
        .onCommand(ClientAnswer.class, a -> traffic.clientAnswer(a))
        .onCommand(SessionEnded.class, e -> traffic.sessionEnded(e))
        .onCommand(Wakeup.class, w -> current() ? Effect().none() : stale())
        .onCommand(ReconnectNow.class, (st, c) -> connection.onReconnectNow(st))
        .onCommand(Stop.class, s -> onStop())
        .onCommand(DrainOver.class, d -> {
          traffic.failAll("upstream " + config.name() + " moved to another node while the request ran");
          return Effect().stop();
        })
        .onCommand(Inbound.class, connection::onInbound)
        .onCommand(TransportClosed.class, connection::onTransportClosed)
        .onCommand(Started.class, connection::onStarted)
        .onCommand(StartFailed.class, connection::onStartFailed)
        .onCommand(SendFailed.class, traffic::onSendFailed)
        .onCommand(TimedOut.class, traffic::onTimedOut)
        .onCommand(Reconnect.class, connection::onReconnect)
        // A key's entity gets no Wakeup (UpstreamKeeper knows servers only): it checks here.
        .onCommand(HealthTick.class, (s, t) -> KeyedUpstreams.isKeyed(config.name()) && !current() ? stale()
            : connection.onHealthTick(s, t))
        .onCommand(Sweep.class, (st, c) -> {
          traffic.sweep();
          return Effect().none();
        })
        .onCommand(Incarnate.class, (s, i) -> onIncarnate(s))
        .onCommand(CompleteAuthorization.class, auth::onCompleteAuthorization).onCommand(AuthStep.class, auth::onAuthStep)
        .onCommand(CodeExchanged.class, auth::onCodeExchanged).onCommand(Reauthorize.class, auth::onReauthorize)
        .onCommand(RefreshDue.class, (s, r) -> auth.onRefreshDue(s))
        .onCommand(GetStatus.class, (s, g) -> Effect().none().thenReply(g.replyTo(), publication::status))
        .build();
  }

  /** Whether this node's configuration of this entity is still the one it runs (its key still exists). */
  private boolean current() {
    return current.apply(config.name()).filter(config::equals).isPresent();
  }

  /** The configuration changed or was removed: stop; the next {@link Wakeup} (or call) starts the new one. */
  private Effect<Event, State> stale() {
    ctx.getLog().info("Upstream [{}]: configuration changed or removed; restarting", config.name());
    traffic.failAll("upstream " + config.name() + " was reconfigured or removed while the request ran");
    return Effect().stop();
  }

  /** The effect factories, for this entity's handler classes. */
  EffectFactories<Event, State> effects() {
    return Effect();
  }

  /**
   * Starts a new incarnation: an event is written (the unchanged catalog, so the journal keeps
   * one event type), and its sequence number, which no earlier start of this entity on any node
   * can have reached, becomes the incarnation that orders this start's statuses after theirs.
   * Calls arriving meanwhile are stashed (the state is connecting).
   */
  private Effect<Event, State> onIncarnate(State s) {
    if (publication.incarnated()) {
      return Effect().none();
    }
    return Effect().persist(new CatalogListed(s.catalog(), System.currentTimeMillis()))
        .thenRun(after -> {
          publication.incarnate(lastSequenceNumber(ctx));
          connection.start(after);
        });
  }

  private Effect<Event, State> onForward(State s, Forward f) {
    if (connection.connecting()) {
      return Effect().stash();
    }
    if (!connection.usable()) {
      String url = KeyedUpstreams.isKeyed(config.name()) ? auth.authorizationUrl(s) : null;
      if (url != null && UpstreamStatus.NEEDS_AUTHORIZATION.equals(connection.status())) {
        f.replyTo().fail(Fault.UPSTREAM_UNAVAILABLE, f.downstreamId(), f.method(),
            KeyedUpstreams.authorizationNeeded(config.name(), url), Json.object().put("authorizationUrl", url));
        return Effect().none();
      }
      f.replyTo().fail(Fault.UPSTREAM_UNAVAILABLE, f.downstreamId(), f.method(),
          "upstream " + config.name() + " is unavailable (" + connection.status() + ")"
              + (connection.lastError() == null ? "" : ": " + connection.lastError()));
      return Effect().none();
    }
    traffic.forward(f);
    return Effect().none();
  }

  /** The catalog as published (the prefix from config). */
  UpstreamCatalog currentCatalog(State s) {
    return publication.currentCatalog(s);
  }

  /** Publishes this upstream's status and catalog to every node ({@link UpstreamPublication}). */
  void publish(State s) {
    publication.publish(s);
  }
}
