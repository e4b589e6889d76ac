package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.Urls;
import io.bastion.node.NodeSettings;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.Version;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.SessionPort;
import io.bastion.node.upstream.transport.UpstreamTransport;
import io.bastion.node.upstream.transport.UpstreamTransports;
import io.bastion.persistence.CborSerializable;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;
import io.bastion.protocol.ProtocolVersions;
import io.bastion.protocol.UpstreamCatalog;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One upstream MCP server, sharded by its configured name: exactly one running connection in the
 * whole cluster, on the node that owns the shard.
 *
 * <p>Owns the transport (stdio child, streamable HTTP or legacy SSE client), the MCP handshake,
 * catalog discovery (all pages of tools, resources, templates and prompts), the health loop
 * (ping every interval; reconnect with capped exponential backoff and jitter), and the in-flight
 * table: every forwarded request gets a fresh upstream id, its progress token is rewritten to
 * that id, and responses, progress, log messages and server→client requests find their way back
 * to the client's stream through it.
 *
 * <p>Only the catalog is persisted ({@link CatalogEvent}, written when it changes): a restarted or
 * moved entity publishes its last catalog immediately, so clients keep seeing the tools while it
 * reconnects. Connection state is runtime-only and published to every node through Distributed
 * Data ({@link UpstreamDirectory}).
 *
 * <p>Calls that arrive while connecting are stashed until the connection is ready or the attempt
 * fails; calls that arrive while backing off or failed fail fast with a clear error.
 */
public final class UpstreamServer
    extends EventSourcedBehavior<UpstreamServer.Command, CatalogEvent, UpstreamServer.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "UpstreamServer");

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

  /** Makes sure the entity runs (sent periodically by every node's {@link UpstreamKeeper}). */
  public enum Wakeup implements Command { INSTANCE }

  public enum Stop implements Command { INSTANCE }

  private record Inbound(int generation, ObjectNode message, JsonNode related) implements Command {}

  private record TransportClosed(int generation, Throwable cause) implements Command {}

  private record Started(int generation) implements Command {}

  private record StartFailed(int generation, Throwable cause) implements Command {}

  private record SendFailed(int generation, long upstreamId, Throwable cause) implements Command {}

  private record TimedOut(long upstreamId) implements Command {}

  private record Reconnect(int generation) implements Command {}

  private enum HealthTick implements Command { INSTANCE }

  /** Sent to itself once recovered: records a new incarnation, then connects. */
  private enum Incarnate implements Command { INSTANCE }

  /** Receive timeout of an {@link #unconfigured} entity. */
  private enum Idle implements Command { INSTANCE }

  /** Persisted state: the last catalog the upstream listed. */
  public record State(UpstreamCatalog catalog) implements CborSerializable {}

  private interface Callback extends Function<ObjectNode, Effect<CatalogEvent, State>> {}

  /** One request on the wire. Exactly one of {@code replyTo} (a client's) and {@code callback} (Bastion's own) is set. */
  private record InFlight(long id, String method, String sessionId, JsonNode downstreamId,
      JsonNode downstreamProgressToken, Reply replyTo, Callback callback,
      long startedNanos) {}

  public static void init(ActorSystem<?> system, Function<String, Optional<ServerConfig>> configs,
      NodeSettings settings, SessionPort sessions) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_TYPE_KEY, ctx -> configs.apply(ctx.getEntityId())
                .<Behavior<Command>>map(cfg -> create(cfg, settings, sessions))
                .orElseGet(() -> unconfigured(ctx.getEntityId(), ctx.getShard())))
            .withStopMessage(Stop.INSTANCE));
  }

  /**
   * A server name this node's configuration does not list (removed from the YAML, or only known
   * from a stale directory entry): every forwarded request is answered at once with an error,
   * instead of being dropped and left to the edge's time bound. Passivates after a minute idle.
   */
  static Behavior<Command> unconfigured(String name,
      ActorRef<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> {
      ctx.getLog().info("Upstream [{}] is not in this node's configuration: requests to it are refused", name);
      ctx.setReceiveTimeout(Duration.ofMinutes(1), Idle.INSTANCE);
      return Behaviors.receive(Command.class)
          .onMessage(Forward.class, f -> {
            f.replyTo().fail(Fault.UPSTREAM_NOT_CONFIGURED, f.downstreamId(), f.method(),
                "Unknown upstream server: " + name + " is not in Bastion's configuration");
            return Behaviors.same();
          })
          .onMessageEquals(Idle.INSTANCE, () -> {
            shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
            return Behaviors.same();
          })
          .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
          .onAnyMessage(m -> Behaviors.same())
          .build();
    });
  }

  public static Behavior<Command> create(ServerConfig config, NodeSettings settings, SessionPort sessions) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new UpstreamServer(ctx, timers, config, settings, sessions)));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ServerConfig config;
  private final NodeSettings settings;
  private final UpstreamDirectory directory;
  private final SessionPort sessions;
  private final String owner;
  /** This start of the entity; see {@link UpstreamStatus#version()}. 0 until recorded. */
  private long incarnation;
  private long publishSequence;

  // Runtime state: not persisted, rebuilt by connecting.
  private UpstreamCatalog catalog;
  private UpstreamTransport transport;
  private int generation;
  private String state = UpstreamStatus.CONNECTING;
  private String lastError;
  private int attempts;
  private final ArrayDeque<Long> recentBackoff = new ArrayDeque<>();
  private JsonNode serverInfo;
  private JsonNode capabilities;
  private long nextId = 1;
  private boolean pingOutstanding;
  private boolean refreshing;
  private boolean refreshAgain;
  private final Map<Long, InFlight> inFlight = new HashMap<>();
  private final kamon.metric.Gauge inFlightGauge;
  private int reportedInFlight = -1;
  /**
   * Resource subscriptions, shared by all sessions over the one upstream connection: upstream URI
   * → the Bastion sessions subscribed to it (never empty). The upstream is subscribed to exactly
   * the URIs in this map (re-sent after every reconnect).
   */
  private final Map<String, Set<String>> subscriptions = new LinkedHashMap<>();
  /**
   * URIs with a subscribe or unsubscribe on the wire to the upstream. Later subscribe/unsubscribe
   * requests for the same URI wait here and are replayed in order once it is answered, so the
   * upstream never sees them reordered (streamable HTTP sends each on its own POST).
   */
  private final Map<String, SubscriptionOp> subscriptionOps = new HashMap<>();

  /**
   * One subscribe/unsubscribe on the wire; {@code request} is null when Bastion sent it on its own.
   * {@code unsubscribeAfter}: the last subscriber left while a re-subscribe was on the wire.
   */
  private static final class SubscriptionOp {
    final Forward request;
    final ArrayDeque<Forward> waiting = new ArrayDeque<>();
    boolean unsubscribeAfter;

    SubscriptionOp(Forward request) {
      this.request = request;
    }
  }

  private UpstreamServer(ActorContext<Command> ctx, TimerScheduler<Command> timers,
      ServerConfig config, NodeSettings settings, SessionPort sessions) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), config.name()),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.timers = timers;
    this.config = config;
    this.settings = settings;
    this.directory = UpstreamDirectory.get(ctx.getSystem());
    this.sessions = sessions;
    this.owner = Cluster.get(ctx.getSystem()).selfMember().address().toString();
    this.catalog = UpstreamCatalog.empty(config.name(), config.toolPrefix());
    this.inFlightGauge = Metrics.upstreamInFlight(config.name());
  }

  @Override
  public State emptyState() {
    return new State(UpstreamCatalog.empty(config.name(), config.toolPrefix()));
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(20, 2);
  }

  @Override
  public EventHandler<State, CatalogEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(CatalogEvent.class, (s, e) -> {
      catalog = withCurrentPrefix(e.catalog());
      return new State(e.catalog());
    }).build();
  }

  /** A persisted catalog keeps its tools when the operator changes the prefix; the prefix always comes from config. */
  private UpstreamCatalog withCurrentPrefix(UpstreamCatalog c) {
    return new UpstreamCatalog(config.name(), config.toolPrefix(), c.tools(), c.resources(),
        c.resourceTemplates(), c.prompts());
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), s -> ctx.getSelf().tell(Incarnate.INSTANCE))
        .onSignal(PostStop.instance(), s -> {
          closeTransport("entity stopped");
          inFlightGauge.update(0);
        })
        .build();
  }

  @Override
  public CommandHandler<Command, CatalogEvent, State> commandHandler() {
    CommandHandler<Command, CatalogEvent, State> handler = commands();
    // Every change of the in-flight map happens in a command: publish its size after each one.
    return (state, command) -> {
      try {
        return handler.apply(state, command);
      } finally {
        if (inFlight.size() != reportedInFlight) {
          reportedInFlight = inFlight.size();
          inFlightGauge.update(reportedInFlight);
        }
      }
    };
  }

  private CommandHandler<Command, CatalogEvent, State> commands() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Forward.class, this::onForward)
        .onCommand(Cancel.class, this::onCancel)
        .onCommand(ClientAnswer.class, this::onClientAnswer)
        .onCommand(SessionEnded.class, this::onSessionEnded)
        .onCommand(Wakeup.class, w -> Effect().none())
        .onCommand(Stop.class, s -> Effect().stop())
        .onCommand(Inbound.class, this::onInbound)
        .onCommand(TransportClosed.class, this::onTransportClosed)
        .onCommand(Started.class, this::onStarted)
        .onCommand(StartFailed.class, this::onStartFailed)
        .onCommand(SendFailed.class, this::onSendFailed)
        .onCommand(TimedOut.class, this::onTimedOut)
        .onCommand(Reconnect.class, this::onReconnect)
        .onCommand(HealthTick.class, this::onHealthTick)
        .onCommand(Incarnate.class, (s, i) -> onIncarnate(s))
        .build();
  }

  /**
   * Starts a new incarnation: an event is written (the unchanged catalog, so the journal keeps
   * one event type), and its sequence number, which no earlier start of this entity on any node
   * can have reached, becomes the incarnation that orders this start's statuses after theirs.
   * Calls arriving meanwhile are stashed (the state is connecting).
   */
  private Effect<CatalogEvent, State> onIncarnate(State s) {
    if (incarnation != 0) {
      return Effect().none();
    }
    return Effect().persist(new CatalogEvent(s.catalog(), System.currentTimeMillis()))
        .thenRun(after -> {
          UpstreamStatus seen = directory.statuses().get(config.name());
          // Also above anything already published, should the journal ever have been reset.
          incarnation = Math.max(lastSequenceNumber(ctx), seen == null ? 0 : seen.incarnation() + 1);
          publish();
          connect();
          timers.startTimerWithFixedDelay(HealthTick.INSTANCE, config.healthInterval());
        });
  }

  // ---------------------------------------------------------------- connection lifecycle

  private void connect() {
    generation++;
    state = UpstreamStatus.CONNECTING;
    publish();
    int gen = generation;
    ActorRef<Command> self = ctx.getSelf();
    try {
      transport = UpstreamTransports.create(ctx.getSystem(), config);
      transport.start(new UpstreamTransport.Listener() {
        @Override
        public void onMessage(ObjectNode message, JsonNode relatedRequestId) {
          self.tell(new Inbound(gen, message, relatedRequestId));
        }

        @Override
        public void onClosed(Throwable cause) {
          self.tell(new TransportClosed(gen, cause));
        }
      }).whenComplete((ok, err) -> self.tell(err == null ? new Started(gen) : new StartFailed(gen, err)));
    } catch (RuntimeException e) {
      self.tell(new StartFailed(gen, e));
    }
  }

  private Effect<CatalogEvent, State> onStarted(Started s) {
    if (s.generation() != generation) {
      return Effect().none();
    }
    ObjectNode params = Json.object().put("protocolVersion", ProtocolVersions.LATEST);
    // Advertise only what Bastion can honour by forwarding to its clients; a session whose client
    // lacks the capability gets the request refused by its session.
    ObjectNode caps = params.putObject("capabilities");
    caps.putObject("roots").put("listChanged", true);
    caps.putObject("sampling");
    caps.putObject("elicitation");
    params.putObject("clientInfo").put("name", "bastion").put("version", Version.VERSION);
    sendInternal(Methods.INITIALIZE, params, config.requestTimeout(), this::onInitializeAnswer);
    return Effect().none();
  }

  private Effect<CatalogEvent, State> onInitializeAnswer(ObjectNode answer) {
    if (answer.has("error")) {
      return connectionLost("initialize failed: " + errorText(answer), false);
    }
    JsonNode result = answer.path("result");
    String version = result.path("protocolVersion").asText(null);
    if (!ProtocolVersions.isSupported(version)) {
      return connectionLost("upstream answered initialize with unsupported protocol version " + version, false);
    }
    serverInfo = result.get("serverInfo");
    capabilities = result.get("capabilities");
    transport.protocolVersion(version);
    transport.send(JsonRpc.notification(Methods.NOTIFICATION_INITIALIZED, null));
    resubscribe();
    return discover(true);
  }

  private Effect<CatalogEvent, State> onStartFailed(StartFailed f) {
    if (f.generation() != generation) {
      return Effect().none();
    }
    return connectionLost(describe(f.cause()), false);
  }

  private Effect<CatalogEvent, State> onTransportClosed(TransportClosed c) {
    if (c.generation() != generation) {
      return Effect().none();
    }
    String why = c.cause() == null ? "connection closed" : describe(c.cause());
    return connectionLost("upstream disconnected: " + why, UpstreamStatus.READY.equals(state));
  }

  /**
   * The connection is unusable: fail everything in flight, publish the state and schedule the
   * next attempt with capped exponential backoff and jitter. Stashed calls are released and now
   * fail fast.
   */
  private Effect<CatalogEvent, State> connectionLost(String reason, boolean wasReady) {
    reason = Urls.scrub(reason, config.url());
    closeTransport(reason);
    generation++;
    lastError = reason;
    attempts++;
    state = wasReady ? UpstreamStatus.BACKING_OFF : UpstreamStatus.FAILED;
    long delay = backoffMillis(attempts);
    recentBackoff.addLast(delay);
    while (recentBackoff.size() > 8) {
      recentBackoff.removeFirst();
    }
    ctx.getLog().warn("Upstream [{}] {}; retrying in [{}] ms (attempt [{}])",
        config.name(), reason, delay, attempts);
    failAllInFlight("upstream " + config.name() + " is unavailable: " + reason);
    publish();
    timers.startSingleTimer("reconnect", new Reconnect(generation), Duration.ofMillis(delay));
    return Effect().unstashAll();
  }

  long backoffMillis(int attempt) {
    long min = config.backoffMin().toMillis();
    long max = config.backoffMax().toMillis();
    double base = min * Math.pow(2, Math.min(attempt - 1, 30));
    double jittered = base * (1 + ThreadLocalRandom.current().nextDouble(0.2));
    return (long) Math.min(max, jittered);
  }

  private Effect<CatalogEvent, State> onReconnect(Reconnect r) {
    if (r.generation() == generation && !UpstreamStatus.READY.equals(state)) {
      connect();
    }
    return Effect().none();
  }

  private void closeTransport(String reason) {
    if (transport != null) {
      UpstreamTransport t = transport;
      transport = null;
      pingOutstanding = false;
      refreshing = false;
      t.close().whenComplete((ok, err) -> {
        if (err != null) {
          ctx.getSystem().log().debug("closing upstream [{}] failed: {}", config.name(), err.toString());
        }
      });
    }
  }

  private Effect<CatalogEvent, State> onHealthTick(HealthTick t) {
    if (UpstreamStatus.READY.equals(state) && !pingOutstanding) {
      pingOutstanding = true;
      sendInternal(Methods.PING, null, config.pingTimeout(), answer -> {
        pingOutstanding = false;
        if (answer.has("error") && answer.path("error").path("code").asInt() != ErrorCodes.METHOD_NOT_FOUND) {
          return connectionLost("health ping failed: " + errorText(answer), true);
        }
        return Effect().none();
      });
    }
    return Effect().none();
  }

  // ---------------------------------------------------------------- catalog discovery

  /** Lists everything the upstream declares, then persists the catalog if it changed. */
  private Effect<CatalogEvent, State> discover(boolean initial) {
    refreshing = true;
    JsonNode caps = capabilities == null ? Json.object() : capabilities;
    List<JsonNode> tools = new ArrayList<>();
    List<JsonNode> resources = new ArrayList<>();
    List<JsonNode> templates = new ArrayList<>();
    List<JsonNode> prompts = new ArrayList<>();
    Function<Void, Effect<CatalogEvent, State>> done = v -> catalogListed(
        new UpstreamCatalog(config.name(), config.toolPrefix(), tools, resources, templates, prompts), initial);
    Function<Void, Effect<CatalogEvent, State>> afterTemplates = caps.has("prompts")
        ? v -> listAll(Methods.PROMPTS_LIST, "prompts", null, prompts, done) : done;
    Function<Void, Effect<CatalogEvent, State>> afterResources = caps.has("resources")
        ? v -> listAll(Methods.RESOURCES_TEMPLATES_LIST, "resourceTemplates", null, templates, afterTemplates)
        : afterTemplates;
    Function<Void, Effect<CatalogEvent, State>> afterTools = caps.has("resources")
        ? v -> listAll(Methods.RESOURCES_LIST, "resources", null, resources, afterResources)
        : afterResources;
    return caps.has("tools")
        ? listAll(Methods.TOOLS_LIST, "tools", null, tools, afterTools)
        : afterTools.apply(null);
  }

  private Effect<CatalogEvent, State> listAll(String method, String field, String cursor,
      List<JsonNode> acc, Function<Void, Effect<CatalogEvent, State>> then) {
    ObjectNode params = Json.object();
    if (cursor != null) {
      params.put("cursor", cursor);
    }
    sendInternal(method, params, config.requestTimeout(), answer -> {
      if (answer.has("error")) {
        int code = answer.path("error").path("code").asInt();
        if (code == ErrorCodes.METHOD_NOT_FOUND) {
          return then.apply(null);
        }
        return connectionLost(method + " failed: " + errorText(answer), UpstreamStatus.READY.equals(state));
      }
      JsonNode result = answer.path("result");
      result.path(field).forEach(acc::add);
      String next = result.path("nextCursor").asText(null);
      if (next != null && !next.isEmpty() && acc.size() < 100_000) {
        return listAll(method, field, next, acc, then);
      }
      return then.apply(null);
    });
    return Effect().none();
  }

  private Effect<CatalogEvent, State> catalogListed(UpstreamCatalog listed, boolean initial) {
    refreshing = false;
    boolean wasReady = UpstreamStatus.READY.equals(state);
    if (initial) {
      state = UpstreamStatus.READY;
      attempts = 0;
      lastError = null;
      ctx.getLog().info("Upstream [{}] ready: [{}] tools, [{}] resources, [{}] prompts",
          config.name(), listed.tools().size(), listed.resources().size(), listed.prompts().size());
    }
    Effect<CatalogEvent, State> effect;
    if (!listed.equals(catalog)) {
      effect = Effect().persist(new CatalogEvent(listed, System.currentTimeMillis()))
          .thenRun(s -> publish())
          .thenUnstashAll();
    } else {
      publish();
      effect = Effect().unstashAll();
    }
    if (refreshAgain && !initial) {
      refreshAgain = false;
      discover(false);
    } else if (!wasReady && !initial) {
      publish();
    }
    return effect;
  }

  private void refreshCatalog() {
    if (!UpstreamStatus.READY.equals(state)) {
      return;
    }
    if (refreshing) {
      refreshAgain = true;
    } else {
      discover(false);
    }
  }

  private void publish() {
    if (incarnation == 0) {
      return;
    }
    directory.publish(new UpstreamStatus(config.name(), state, lastError, owner, attempts,
        List.copyOf(recentBackoff), serverInfo, capabilities, catalog, System.currentTimeMillis(),
        UpstreamStatus.version(incarnation, ++publishSequence)));
  }

  // ---------------------------------------------------------------- requests

  private Effect<CatalogEvent, State> onForward(Forward f) {
    if (UpstreamStatus.CONNECTING.equals(state)) {
      return Effect().stash();
    }
    if (!UpstreamStatus.READY.equals(state) || transport == null) {
      unavailable(f.replyTo(), f.method(), f.downstreamId(),
          "upstream " + config.name() + " is unavailable (" + state + ")"
              + (lastError == null ? "" : ": " + lastError));
      return Effect().none();
    }
    if (isSubscription(f)) {
      onSubscription(f);
      return Effect().none();
    }
    // The forwarded params are this request's own tree (parsed by the edge, or deserialized): no copy.
    ObjectNode params = f.params() == null ? Json.object() : f.params();
    long id = nextId++;
    JsonNode token = null;
    if (params.path("_meta").isObject() && params.path("_meta").has("progressToken")) {
      ObjectNode meta = (ObjectNode) params.get("_meta");
      token = meta.get("progressToken");
      meta.put("progressToken", id);
    }
    send(new InFlight(id, f.method(), f.sessionId(), f.downstreamId(), token, f.replyTo(), null,
        System.nanoTime()), params, requestTimeout());
    return Effect().none();
  }

  private Duration requestTimeout() {
    Duration t = config.requestTimeout();
    return t.compareTo(settings.maxRequestTimeout()) > 0 ? settings.maxRequestTimeout() : t;
  }

  private void sendInternal(String method, JsonNode params, Duration timeout, Callback callback) {
    long id = nextId++;
    send(new InFlight(id, method, null, null, null, null, callback, System.nanoTime()), params, timeout);
  }

  private void send(InFlight entry, JsonNode params, Duration timeout) {
    inFlight.put(entry.id(), entry);
    timers.startSingleTimer(timeoutKey(entry.id()), new TimedOut(entry.id()), timeout);
    int gen = generation;
    ActorRef<Command> self = ctx.getSelf();
    transport.send(JsonRpc.request(LongNode.valueOf(entry.id()), entry.method(), params))
        .whenComplete((ok, err) -> {
          if (err != null) {
            self.tell(new SendFailed(gen, entry.id(), err));
          }
        });
  }

  private static String timeoutKey(long id) {
    return "timeout-" + id;
  }

  private Effect<CatalogEvent, State> onSendFailed(SendFailed f) {
    InFlight entry = inFlight.remove(f.upstreamId());
    if (entry == null) {
      return Effect().none();
    }
    timers.cancel(timeoutKey(entry.id()));
    String reason = "sending to upstream " + config.name() + " failed: " + describe(f.cause());
    if (entry.callback() != null) {
      return entry.callback().apply(JsonRpc.error(null, ErrorCodes.UPSTREAM_UNAVAILABLE, reason, null));
    }
    unavailable(entry.replyTo(), entry.method(), entry.downstreamId(), reason);
    return Effect().none();
  }

  private Effect<CatalogEvent, State> onTimedOut(TimedOut t) {
    InFlight entry = inFlight.remove(t.upstreamId());
    if (entry == null) {
      return Effect().none();
    }
    if (transport != null) {
      ObjectNode p = Json.object().put("requestId", entry.id()).put("reason", "timed out in Bastion");
      transport.send(JsonRpc.notification(Methods.NOTIFICATION_CANCELLED, p));
    }
    String reason = entry.method() + " to upstream " + config.name() + " timed out";
    if (entry.callback() != null) {
      return entry.callback().apply(JsonRpc.error(null, ErrorCodes.REQUEST_TIMEOUT, reason, null));
    }
    entry.replyTo().fail(Fault.UPSTREAM_TIMEOUT, entry.downstreamId(), entry.method(), reason);
    return Effect().none();
  }

  private Effect<CatalogEvent, State> onCancel(Cancel c) {
    Iterator<InFlight> it = inFlight.values().iterator();
    while (it.hasNext()) {
      InFlight e = it.next();
      if (e.replyTo() != null && c.sessionId().equals(e.sessionId()) && c.downstreamId().equals(e.downstreamId())) {
        it.remove();
        timers.cancel(timeoutKey(e.id()));
        if (transport != null) {
          ObjectNode p = Json.object().put("requestId", e.id());
          if (c.reason() != null) {
            p.put("reason", c.reason());
          }
          transport.send(JsonRpc.notification(Methods.NOTIFICATION_CANCELLED, p));
        }
        e.replyTo().fail(Fault.CLIENT_CANCELLED, e.downstreamId(), e.method(), "Request cancelled");
        break;
      }
    }
    return Effect().none();
  }

  private Effect<CatalogEvent, State> onClientAnswer(ClientAnswer a) {
    if (transport != null) {
      ObjectNode msg = a.message().deepCopy();
      msg.set("id", a.upstreamId());
      transport.send(msg);
    }
    return Effect().none();
  }

  private void failAllInFlight(String reason) {
    List<InFlight> entries = new ArrayList<>(inFlight.values());
    inFlight.clear();
    for (InFlight e : entries) {
      timers.cancel(timeoutKey(e.id()));
      if (e.replyTo() != null) {
        unavailable(e.replyTo(), e.method(), e.downstreamId(), reason);
      }
      // Internal callbacks are dropped: the generation changed, so their answers are moot.
    }
    // Subscription ops are internal requests too: answer the clients waiting on them. The
    // subscription map stays; the next connection re-sends it.
    List<SubscriptionOp> ops = new ArrayList<>(subscriptionOps.values());
    subscriptionOps.clear();
    for (SubscriptionOp op : ops) {
      if (op.request != null) {
        unavailable(op.request.replyTo(), op.request.method(), op.request.downstreamId(), reason);
      }
      for (Forward w : op.waiting) {
        unavailable(w.replyTo(), w.method(), w.downstreamId(), reason);
      }
    }
  }

  // ---------------------------------------------------------------- resource subscriptions

  private static boolean isSubscription(Forward f) {
    return (Methods.RESOURCES_SUBSCRIBE.equals(f.method()) || Methods.RESOURCES_UNSUBSCRIBE.equals(f.method()))
        && f.params() != null && f.params().path("uri").isTextual();
  }

  /**
   * A client's subscribe or unsubscribe. The upstream sees a subscribe only from the first session
   * that watches a URI and an unsubscribe only from the last one that leaves it; everyone else is
   * answered {@code {}} at once.
   */
  private void onSubscription(Forward f) {
    if (!UpstreamStatus.READY.equals(state) || transport == null) {
      unavailable(f.replyTo(), f.method(), f.downstreamId(), "upstream " + config.name() + " is unavailable (" + state + ")");
      return;
    }
    String uri = f.params().get("uri").asText();
    SubscriptionOp op = subscriptionOps.get(uri);
    if (op != null) {
      op.waiting.add(f);
      return;
    }
    Set<String> sessions = subscriptions.get(uri);
    if (Methods.RESOURCES_SUBSCRIBE.equals(f.method())) {
      if (sessions == null) {
        startSubscriptionOp(uri, Methods.RESOURCES_SUBSCRIBE, f);
        return;
      }
      if (sessions.add(f.sessionId())) {
        tellSubscribed(f.sessionId());
      }
    } else if (sessions != null && sessions.remove(f.sessionId()) && sessions.isEmpty()) {
      subscriptions.remove(uri);
      startSubscriptionOp(uri, Methods.RESOURCES_UNSUBSCRIBE, f);
      return;
    }
    f.replyTo().result(JsonRpc.result(f.downstreamId(), Json.object()));
  }

  /** Sends a subscribe/unsubscribe for {@code uri} upstream; {@code request} is the client's, or null for Bastion's own. */
  private void startSubscriptionOp(String uri, String method, Forward request) {
    SubscriptionOp op = new SubscriptionOp(request);
    subscriptionOps.put(uri, op);
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
    sendInternal(method, params, requestTimeout(), answer -> {
      if (subscriptionOps.get(uri) == op) {
        subscriptionOps.remove(uri);
      }
      boolean ok = !answer.has("error");
      if (request == null) {
        if (!ok) {
          ctx.getLog().warn("Upstream [{}] refused {} of [{}]: {}", config.name(), method, uri, errorText(answer));
        }
      } else {
        if (ok && Methods.RESOURCES_SUBSCRIBE.equals(method)) {
          subscriptions.computeIfAbsent(uri, k -> new LinkedHashSet<>()).add(request.sessionId());
          tellSubscribed(request.sessionId());
        }
        request.replyTo().answer(downstreamAnswer(answer, request.downstreamId()));
      }
      for (Forward w : op.waiting) {
        onSubscription(w);
      }
      if (op.unsubscribeAfter && !subscriptions.containsKey(uri) && !subscriptionOps.containsKey(uri)
          && UpstreamStatus.READY.equals(state) && transport != null) {
        startSubscriptionOp(uri, Methods.RESOURCES_UNSUBSCRIBE, null);
      }
      return Effect().none();
    });
  }

  /** After a (re)connect and handshake: the new upstream session knows no subscriptions yet. */
  private void resubscribe() {
    if (subscriptions.isEmpty()) {
      return;
    }
    ctx.getLog().info("Upstream [{}]: re-subscribing to [{}] resource(s)", config.name(), subscriptions.size());
    for (String uri : subscriptions.keySet()) {
      startSubscriptionOp(uri, Methods.RESOURCES_SUBSCRIBE, null);
    }
  }

  /** Tells the session it has a subscription here, so that it reports its end ({@link SessionEnded}). */
  private void tellSubscribed(String sessionId) {
    sessions.subscribed(sessionId, config.name());
  }

  private Effect<CatalogEvent, State> onSessionEnded(SessionEnded e) {
    List<String> unwatched = new ArrayList<>();
    Iterator<Map.Entry<String, Set<String>>> it = subscriptions.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Set<String>> s = it.next();
      if (s.getValue().remove(e.sessionId()) && s.getValue().isEmpty()) {
        it.remove();
        unwatched.add(s.getKey());
      }
    }
    // Not connected: the next connection simply does not re-subscribe them.
    if (UpstreamStatus.READY.equals(state) && transport != null) {
      for (String uri : unwatched) {
        SubscriptionOp op = subscriptionOps.get(uri);
        if (op != null) {
          op.unsubscribeAfter = true; // a re-subscribe is on the wire: unsubscribe once it is answered
        } else {
          startSubscriptionOp(uri, Methods.RESOURCES_UNSUBSCRIBE, null);
        }
      }
    }
    return Effect().none();
  }

  // ---------------------------------------------------------------- inbound messages

  private Effect<CatalogEvent, State> onInbound(Inbound in) {
    if (in.generation() != generation) {
      return Effect().none();
    }
    ObjectNode msg = in.message();
    JsonNode method = msg.get("method");
    if (method != null && msg.has("id")) {
      return onServerRequest(msg, method.asText(), in.related());
    }
    if (method != null) {
      return onNotification(msg, method.asText(), in.related());
    }
    JsonNode id = msg.get("id");
    if (id == null || !id.canConvertToLong()) {
      return Effect().none();
    }
    InFlight entry = inFlight.remove(id.asLong());
    if (entry == null) {
      return Effect().none();
    }
    timers.cancel(timeoutKey(entry.id()));
    if (entry.callback() != null) {
      return entry.callback().apply(msg);
    }
    entry.replyTo().answer(downstreamAnswer(msg, entry.downstreamId()));
    return Effect().none();
  }

  /** The upstream's answer (result or error) re-addressed to the client's request id. */
  private static ObjectNode downstreamAnswer(ObjectNode msg, JsonNode downstreamId) {
    ObjectNode out = Json.object().put("jsonrpc", JsonRpc.VERSION);
    out.set("id", downstreamId);
    if (msg.has("error")) {
      out.set("error", msg.get("error"));
    } else {
      out.set("result", msg.has("result") ? msg.get("result") : Json.object());
    }
    return out;
  }

  private Effect<CatalogEvent, State> onNotification(ObjectNode msg, String method, JsonNode related) {
    switch (method) {
      case Methods.NOTIFICATION_PROGRESS -> {
        JsonNode token = msg.path("params").get("progressToken");
        InFlight entry = token != null && token.canConvertToLong() ? inFlight.get(token.asLong()) : null;
        if (entry != null && entry.replyTo() != null && entry.downstreamProgressToken() != null) {
          ObjectNode copy = msg.deepCopy();
          ((ObjectNode) copy.get("params")).set("progressToken", entry.downstreamProgressToken());
          entry.replyTo().message(copy);
          // Progress shows the request is alive: restart its timeout, within the hard maximum.
          long elapsed = System.nanoTime() - entry.startedNanos();
          Duration left = settings.maxRequestTimeout().minusNanos(elapsed);
          if (!left.isNegative()) {
            Duration t = requestTimeout().compareTo(left) < 0 ? requestTimeout() : left;
            timers.startSingleTimer(timeoutKey(entry.id()), new TimedOut(entry.id()), t);
          }
        }
      }
      case Methods.NOTIFICATION_TOOLS_LIST_CHANGED, Methods.NOTIFICATION_PROMPTS_LIST_CHANGED,
          Methods.NOTIFICATION_RESOURCES_LIST_CHANGED -> refreshCatalog();
      case Methods.NOTIFICATION_RESOURCES_UPDATED -> {
        String uri = msg.path("params").path("uri").asText();
        ObjectNode copy = msg.deepCopy();
        ((ObjectNode) copy.get("params")).put("uri", FederatedCatalog.exposeUri(config.toolPrefix(), uri));
        for (String session : subscriptions.getOrDefault(uri, Set.of())) {
          sessions.resourceUpdated(session, config.name(), copy);
        }
      }
      case Methods.NOTIFICATION_CANCELLED -> { /* the upstream gave up on one of its own requests */ }
      default -> {
        InFlight entry = relatedEntry(related);
        if (entry != null) {
          entry.replyTo().message(msg);
        }
      }
    }
    return Effect().none();
  }

  /**
   * The client request that a message from the upstream belongs to: the one whose HTTP response
   * stream carried it, or (stdio and legacy SSE give no association) the most recent request in
   * flight from a client. Null when no client request is in flight.
   */
  private InFlight relatedEntry(JsonNode related) {
    if (related != null && related.canConvertToLong()) {
      InFlight e = inFlight.get(related.asLong());
      if (e != null && e.replyTo() != null) {
        return e;
      }
    }
    InFlight latest = null;
    for (InFlight e : inFlight.values()) {
      if (e.replyTo() != null && (latest == null || e.id() > latest.id())) {
        latest = e;
      }
    }
    return latest;
  }

  private Effect<CatalogEvent, State> onServerRequest(ObjectNode msg, String method, JsonNode related) {
    JsonNode id = msg.get("id");
    if (Methods.PING.equals(method)) {
      transport.send(JsonRpc.result(id, Json.object()));
      return Effect().none();
    }
    InFlight entry = relatedEntry(related);
    if (entry == null && Methods.ROOTS_LIST.equals(method)) {
      // Asked outside any client request (typically right after initialize): Bastion itself
      // exposes no filesystem roots.
      ObjectNode empty = Json.object();
      empty.putArray("roots");
      transport.send(JsonRpc.result(id, empty));
      return Effect().none();
    }
    if (entry == null) {
      transport.send(JsonRpc.error(id, ErrorCodes.METHOD_NOT_FOUND,
          "Bastion has no client request in flight to forward " + method + " to", null));
      return Effect().none();
    }
    sessions.serverRequest(entry.sessionId(), config.name(), id, method, msg.get("params"), entry.replyTo());
    return Effect().none();
  }

  // ---------------------------------------------------------------- helpers

  private static void unavailable(Reply reply, String method, JsonNode downstreamId, String reason) {
    reply.fail(Fault.UPSTREAM_UNAVAILABLE, downstreamId, method, reason);
  }

  private static String errorText(ObjectNode answer) {
    JsonNode e = answer.path("error");
    return e.path("message").asText("error") + " (" + e.path("code").asInt() + ")";
  }

  /** The root cause's message, without secrets of the upstream's URL. */
  private String describe(Throwable t) {
    Throwable root = t;
    while ((root instanceof java.util.concurrent.CompletionException
        || root instanceof java.util.concurrent.ExecutionException) && root.getCause() != null) {
      root = root.getCause();
    }
    return Urls.scrub(root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage(),
        config.url());
  }
}
