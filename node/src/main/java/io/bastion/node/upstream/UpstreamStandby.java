package io.bastion.node.upstream;

import io.bastion.config.ServerConfig;
import io.bastion.node.NodeSettings;
import io.bastion.node.upstream.UpstreamServer.Forward;
import io.bastion.node.upstream.transport.UpstreamTransport;
import io.bastion.node.upstream.transport.UpstreamTransports;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * This node's standby connections ({@link StandbyConnection}): while the node running an
 * upstream's entity is lost, {@link UpstreamRoute} gives calls of servers with {@code failover:
 * standby | warm_standby} to this node's own connection instead of holding them until the entity
 * runs on a survivor. The failover then takes as long as it takes to notice the loss (the failure
 * detector's few seconds), not that plus the downing decision, the shard's move and the
 * upstream's start.
 *
 * <p>{@code standby} connections open with the first call that needs one and close once idle for
 * {@link #IDLE_CLOSE} with the owner alive. {@code warm_standby} connections are opened on every
 * node but the owner's and kept (the owner itself needs none: it is never lost to itself). A
 * standby that failed is not retried for {@link #RETRY_AFTER}; calls meanwhile are held as with
 * {@code failover: hold}.
 *
 * <p>{@code active_active} connections are kept like warm ones, and serve every call entering
 * this node while they are ready ({@link #serveActive}), whether the owner is alive or not.
 *
 * <p>Trade-off: for as long as the owner is only unreachable (not yet downed), it may still be
 * running and serving other nodes' calls, so the upstream briefly has two connections from the
 * cluster. Each call still goes to exactly one of them. That is harmless for an HTTP server and
 * for a stateless stdio one, but a stdio server that keeps state in its process would answer
 * from another state: hence {@code hold} is the default for stdio (docs/cluster.md).
 */
final class UpstreamStandby {

  static final Duration IDLE_CLOSE = Duration.ofSeconds(60);
  static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  /** Creates the transport of a standby (the real ones in production, no OAuth: standby upstreams have none). */
  interface Transports extends Function<ServerConfig, UpstreamTransport> {}

  private final Transports transports;
  private final NodeSettings settings;
  private final long retryAfterNanos;
  private final Map<String, StandbyConnection> connections = new ConcurrentHashMap<>();
  /** When a standby of a server last closed on its own; it is not reopened before {@link #RETRY_AFTER}. */
  private final Map<String, Long> failedAt = new ConcurrentHashMap<>();
  private volatile Function<String, Optional<ServerConfig>> configs = name -> Optional.empty();
  private volatile Supplier<Collection<String>> names = List::of;
  /** The servers with {@code failover: active_active}, as of the last {@link #tick}. */
  private volatile Set<String> active = Set.of();

  UpstreamStandby(org.apache.pekko.actor.typed.ActorSystem<?> system, NodeSettings settings) {
    this(cfg -> UpstreamTransports.create(system, cfg), settings, RETRY_AFTER);
  }

  /** {@code retryAfter}: how long a standby that failed is not reopened ({@link #RETRY_AFTER}). */
  UpstreamStandby(Transports transports, NodeSettings settings, Duration retryAfter) {
    this.transports = transports;
    this.settings = settings;
    this.retryAfterNanos = retryAfter.toNanos();
  }

  /** Where this node's server configurations come from (until called, no server has a standby). */
  void configure(Function<String, Optional<ServerConfig>> configs, Supplier<Collection<String>> names) {
    this.configs = configs;
    this.names = names;
  }

  /**
   * Serves {@code forward} through this node's standby of {@code server}; false when it cannot
   * (no standby for this server, a subscription, or its standby failed less than {@link
   * #RETRY_AFTER} ago): the caller holds the call instead.
   */
  boolean serve(String server, Forward forward) {
    Optional<ServerConfig> cfg = configs.apply(server);
    if (cfg.isEmpty() || !cfg.get().failover().standby() || SubscriptionBook.isSubscription(forward)) {
      return false;
    }
    StandbyConnection c = connection(cfg.get());
    if (c == null) {
      return false;
    }
    c.forward(forward);
    return true;
  }

  /**
   * {@code failover: active_active}: serves {@code forward} through this node's connection to
   * {@code server} if it has one and it is ready; false otherwise (the server is not active-active,
   * this node runs its entity and so keeps no connection, the connection is starting or closed, or
   * the call is a subscription): the caller sends it to the entity.
   */
  boolean serveActive(String server, Forward forward) {
    if (active.isEmpty() || !active.contains(server) || SubscriptionBook.isSubscription(forward)) {
      return false;
    }
    StandbyConnection c = connections.get(server);
    return c != null && c.forwardIfReady(forward);
  }

  /** Calls this node served through its active-active connection to {@code server} now open (tests, status). */
  long activeCalls(String server) {
    StandbyConnection c = connections.get(server);
    return c == null ? 0 : c.activeCalls();
  }

  /** Whether {@code server}'s calls are served by standbys while its owner is lost. */
  boolean enabled(String server) {
    return configs.apply(server).map(cfg -> cfg.failover().standby()).orElse(false);
  }

  /** The client cancelled a request: forwarded to the standby that runs it, if any. */
  void cancel(String server, UpstreamServer.Cancel cancel) {
    StandbyConnection c = connections.get(server);
    if (c != null) {
      c.cancel(cancel.sessionId(), cancel.downstreamId(), cancel.reason());
    }
  }

  /**
   * The route's periodic tick: sweeps deadlines, opens the warm standbys this node should keep
   * ({@code needed}: the server's owner is known and is not this node), closes idle cold ones whose
   * owner is not lost, and those whose configuration changed or went away.
   */
  void tick(Predicate<String> ownerLost, Predicate<String> ownedHere) {
    long now = System.nanoTime();
    for (Map.Entry<String, StandbyConnection> e : connections.entrySet()) {
      String server = e.getKey();
      StandbyConnection c = e.getValue();
      c.sweep(now);
      Optional<ServerConfig> cfg = configs.apply(server);
      boolean stale = cfg.isEmpty() || !cfg.get().equals(c.config);
      boolean closed = c.phase() == StandbyConnection.Phase.CLOSED;
      boolean warmWanted = cfg.isPresent() && cfg.get().failover().warm() && !ownedHere.test(server);
      boolean idle = !warmWanted && !ownerLost.test(server) && c.inFlight() == 0
          && (ownedHere.test(server) || now - c.lastUsedNanos() > IDLE_CLOSE.toNanos());
      if (stale || closed || idle) {
        if (connections.remove(server, c)) {
          if (closed && c.failure() != null) {
            failedAt.put(server, c.closedAtNanos());
          }
          c.close();
        }
      }
    }
    Set<String> activeNow = new HashSet<>();
    for (String server : names.get()) {
      Optional<ServerConfig> cfg = configs.apply(server).filter(s -> s.failover().warm());
      cfg.filter(s -> s.failover().servesLocally()).ifPresent(s -> activeNow.add(server));
      cfg.filter(s -> !ownedHere.test(server)).ifPresent(this::connection);
    }
    if (!activeNow.equals(active)) {
      active = Set.copyOf(activeNow);
    }
  }

  /** This node's open standby connections (tests, status). */
  int open() {
    return connections.size();
  }

  /** Closes every standby (the node stops). */
  void closeAll() {
    connections.values().forEach(StandbyConnection::close);
    connections.clear();
  }

  /** The open standby of {@code cfg}, opened now if there is none; null while a failed one may not be retried. */
  private StandbyConnection connection(ServerConfig cfg) {
    StandbyConnection c = connections.get(cfg.name());
    if (c != null && c.config.equals(cfg) && c.phase() != StandbyConnection.Phase.CLOSED) {
      return c;
    }
    if (c != null && c.failure() != null) {
      failedAt.put(cfg.name(), c.closedAtNanos());
    }
    Long failed = failedAt.get(cfg.name());
    if (failed != null && System.nanoTime() - failed < retryAfterNanos) {
      return null;
    }
    return connections.compute(cfg.name(), (name, old) -> {
      if (old != null && old.config.equals(cfg) && old.phase() != StandbyConnection.Phase.CLOSED) {
        return old;
      }
      if (old != null) {
        old.close();
      }
      return new StandbyConnection(cfg, transports.apply(cfg), UpstreamTraffic.requestTimeout(cfg, settings)).start();
    });
  }

}
