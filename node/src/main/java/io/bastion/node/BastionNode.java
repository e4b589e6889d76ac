package io.bastion.node;

import com.typesafe.config.Config;
import io.bastion.config.BastionConfig;
import io.bastion.config.ClusterConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.config.ServerConfig;
import io.bastion.node.codemode.CodeMode;
import io.bastion.node.auth.OAuthAuthenticator;
import io.bastion.node.auth.ProtectedResource;
import io.bastion.node.auth.ProtectedResourceRoutes;
import io.bastion.node.call.Authenticator;
import io.bastion.node.governance.Governance;
import io.bastion.node.governance.GovernanceRoutes;
import io.bastion.node.governance.KeyAccessPolicy;
import io.bastion.node.governance.KeyDirectory;
import io.bastion.node.governance.GovernanceDefinitions;
import io.bastion.node.governance.ServerDefinitions;
import io.bastion.node.governance.ServerRoutes;
import io.bastion.node.governance.UsageRoutes;
import io.bastion.node.http.ConsoleRoutes;
import io.bastion.node.http.AdminGuard;
import io.bastion.node.http.AdminRoutes;
import io.bastion.node.http.ClusterFigures;
import io.bastion.node.http.CodeModeRoutes;
import io.bastion.node.http.BastionRoutes;
import io.bastion.node.http.EdgeSettings;
import io.bastion.node.http.McpDispatcher;
import io.bastion.node.http.McpEdge;
import io.bastion.node.http.OAuthRoutes;
import io.bastion.node.upstream.oauth.UpstreamOAuth;
import io.bastion.node.http.ReplyRouter;
import io.bastion.node.http.SessionStreams;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.metrics.NodeMetrics;
import io.bastion.persistence.audit.AuditLog;
import io.bastion.node.session.LocalSessions;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.session.StreamReplay;
import io.bastion.node.session.ShardedSessionPort;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamRoute;
import io.bastion.node.upstream.KeyedUpstreams;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.node.upstream.UpstreamStatus;
import io.bastion.persistence.StoreSchema;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * Wires a node: store schema, cluster membership, the sharded entities, the replicated upstream
 * directory and the HTTP edge. {@link Main} only parses the command line and calls {@link #start}.
 */
public final class BastionNode {

  /** A started node. */
  public record Running(ActorSystem<Void> system, ServerBinding binding, BastionConfig config) {
    public InetSocketAddress address() {
      return binding.localAddress();
    }

    public String mcpUrl() {
      return "http://" + address().getHostString() + ":" + address().getPort() + "/mcp";
    }

    public void stop() {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  private BastionNode() {}

  /**
   * Creates the ActorSystem from the config (and overrides) and starts the node in it. Completes
   * when the HTTP edge is bound and this node is Up in the cluster; fails with a {@link
   * StartupException} saying what to fix when a port is taken, the store is unreachable, or the
   * seed nodes do not let it join within {@code bastion.node.join-timeout}.
   */
  public static CompletionStage<Running> start(BastionConfig config, Config overrides) {
    Config pekko = NodeConfig.pekkoConfig(config, overrides);
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), ClusterConfig.SYSTEM_NAME, pekko);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(StartupFailures.describe(e, pekko));
    }
    return init(system, config).thenApply(b -> new Running(system, b, config))
        .whenComplete((ok, err) -> {
          if (err != null) {
            system.terminate();
          }
        });
  }

  /**
   * Starts every part of a node inside an existing system; completes when the HTTP edge (and
   * Pekko Management, when enabled) is bound and this node is Up in the cluster. Failures are
   * {@link StartupException}s with a message for the operator.
   */
  public static CompletionStage<ServerBinding> init(ActorSystem<?> system, BastionConfig config) {
    Config root = system.settings().config();
    NodeSettings settings = NodeSettings.fromConfig(root);
    AtomicBoolean configLoaded = new AtomicBoolean(true);
    GatewayConfig gw = config.gateway();
    try {
      KeyDirectory.checkOpenAccess(config).ifPresent(w -> system.log().warn("!!! {} !!!", w));
    } catch (IllegalStateException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    KeyDirectory keys = new KeyDirectory(config);
    Metrics.install(system.settings().config());
    // Set once the join is under way: completes when this node is Up, fails after the join timeout.
    CompletableFuture<Done> up = new CompletableFuture<>();
    CompletionStage<ServerBinding> bound = StoreSchema.ensure(system)
        .exceptionally(err -> {
          throw StartupFailures.storeUnreachable(err, root);
        })
        .thenCompose(done -> {
      joinSelfIfNoSeeds(system);
      awaitUp(system).whenComplete((ok, err) -> {
        if (err == null) {
          up.complete(ok);
        } else {
          up.completeExceptionally(err);
        }
      });
      SessionEntity.init(system, gw.sessionIdleTimeout(), settings.maxRequestTimeout());
      StreamReplay.init(system, gw.sessionIdleTimeout());
      List<String> names = config.servers().stream().map(ServerConfig::name).toList();
      // Before any entity publishes: this node serves only the servers in its own configuration.
      UpstreamDirectory directory = UpstreamDirectory.get(system);
      directory.configure(names);
      // The config's servers overlaid with the admin API's (journaled, replicated like keys).
      ServerDefinitions servers = new ServerDefinitions(system, config, settings.askTimeout());
      if (gw.publicUrl() != null) {
        UpstreamOAuth.get(system).defaultCallbackBase(gw.publicUrl()); // known before any upstream starts
      }
      // Entity ids: the servers, and <server>@<key> for the keys of per_key OAuth servers.
      Function<String, Optional<ServerConfig>> upstreams =
          KeyedUpstreams.configs(servers::server, k -> keys.byName(k).isPresent());
      UpstreamServer.init(system, upstreams, settings, new ShardedSessionPort(system));
      UpstreamRoute.get(system).configureStandby(servers::server, servers::names);
      drainBeforeUnbind(system, settings.shutdownDrain());
      KeyAccessPolicy policy = new KeyAccessPolicy(config);
      Governance governance = Governance.start(system, config, keys, settings);
      governance.serversFrom(servers::server);
      SessionStreams streams = new SessionStreams(system, policy, settings.sseKeepalive());
      directory.addListener(streams);
      ReplyRouter router = new ReplyRouter(system, settings.maxRequestTimeout().plus(settings.askTimeout()),
          settings.sseKeepalive(), settings.ssePollAfter(), settings.ssePollRetry());
      registerSamplers(system, streams, governance, directory);
      system.systemActorOf(UpstreamKeeper.create(servers::names, settings.upstreamKeepaliveInterval()),
          "bastion-upstream-keeper", Props.empty());
      CodeMode codeMode = CodeMode.start(system, config.codeMode(), policy, governance, servers::codeModeFlag);
      McpDispatcher dispatcher = new McpDispatcher(system, settings, policy, governance, codeMode);
      EdgeSettings edge = new EdgeSettings(gw.host(), gw.maxRequestBytes(), gw.allowedOrigins(),
          gw.sessionIdleTimeout());
      // gateway.oauth: OAuth access tokens beside virtual keys (docs/oauth.md).
      ProtectedResource resource = gw.oauth() == null ? null : new ProtectedResource(gw);
      Authenticator authenticator = keys;
      if (resource != null) {
        OAuthAuthenticator oauth = new OAuthAuthenticator(gw.oauth(), keys, resource);
        warmUp(system, oauth, Duration.ofSeconds(1));
        authenticator = oauth;
      }
      McpEdge mcp = new McpEdge(system, edge, settings, dispatcher, streams, authenticator, router);
      AdminRoutes admin = new AdminRoutes(system, configLoaded::get, names, settings.readyWaitForUpstreams());
      AdminGuard guard = new AdminGuard(config.adminToken(), gw.host());
      GovernanceDefinitions definitions = new GovernanceDefinitions(system, config, keys, policy,
          settings.askTimeout());
      // Bind only once the admin API's changes are in force: a key deleted through the API must
      // not work again for a moment after a restart. The registry is a sharded entity and answers
      // only once this node is Up, so a node that cannot join fails with the join failure (after
      // bastion.node.join-timeout), not with the registry's patience running out.
      servers.start();
      // The API's servers too are in force before the port is bound (the registry answers by now).
      return firstFailure(definitions.start(REGISTRY_PATIENCE).thenCompose(x -> servers.load()).exceptionally(err -> {
            throw StartupFailures.registryUnreadable(err, REGISTRY_PATIENCE);
          }), up)
          .thenCompose(ready -> Http.get(system).newServerAt(gw.host(), gw.port())
              .bind(new BastionRoutes(mcp, admin, guard, extraRoutes(resource,
                  new GovernanceRoutes(governance.audit(), guard, definitions, system).route(),
                  new OAuthRoutes(system, guard, n -> upstreams.apply(n).isPresent()).route(),
                  new ServerRoutes(guard, servers, system).route(),
                  new UsageRoutes(guard, governance.audit(), definitions, keys, system, settings.askTimeout()).route(),
                  ClusterFigures.start(system, settings.askTimeout(), guard).route(),
                  new CodeModeRoutes(guard, codeMode, n -> keys.byName(n).isPresent()).route(),
                  new ConsoleRoutes().route()))
                  .handler(system))
              .exceptionally(err -> {
                throw StartupFailures.portInUse(err, gw.host(), gw.port(), "HTTP");
              }))
          .thenApply(b -> {
            if (resource != null) {
              resource.bound(b.localAddress());
            }
            // Upstream OAuth's redirect URI: the public URL, else this node's bound address.
            UpstreamOAuth.get(system).defaultCallbackBase(gw.publicUrl() != null ? gw.publicUrl()
                : java.net.URI.create("http://" + b.localAddress().getHostString() + ":" + b.localAddress().getPort()));
            return b.addToCoordinatedShutdown(Duration.ofSeconds(5), system);
          });
    });
    return bound
        .thenCompose(b -> startManagement(system).thenApply(x -> b))
        .thenCompose(b -> up.thenApply(x -> b));
  }

  /** The routes after the core ones: the admin API, and the RFC 9728 metadata when OAuth is on. */
  private static org.apache.pekko.http.javadsl.server.Route[] extraRoutes(ProtectedResource resource,
      org.apache.pekko.http.javadsl.server.Route... routes) {
    if (resource == null) {
      return routes;
    }
    org.apache.pekko.http.javadsl.server.Route[] all = java.util.Arrays.copyOf(routes, routes.length + 1);
    all[routes.length] = new ProtectedResourceRoutes(resource).route();
    return all;
  }

  /** Loads the IdP's signing keys off the request path, retrying with backoff (at most every minute) until they are in. */
  private static void warmUp(ActorSystem<?> system, OAuthAuthenticator oauth, Duration delay) {
    var blocking = system.dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking());
    CompletableFuture.supplyAsync(oauth::warmUp, blocking).thenAccept(ok -> {
      if (!ok && !system.whenTerminated().isCompleted()) {
        system.scheduler().scheduleOnce(delay, () -> warmUp(system, oauth,
            delay.multipliedBy(2).compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : delay.multipliedBy(2)),
            system.executionContext());
      }
    });
  }

  /**
   * On the way out, keep serving for {@code drain} before the HTTP port is unbound: readiness is
   * already 503 (the member is no longer Up), so load balancers stop sending here meanwhile.
   */
  private static void drainBeforeUnbind(ActorSystem<?> system, Duration drain) {
    if (drain.isZero()) {
      return;
    }
    org.apache.pekko.actor.CoordinatedShutdown.get(system).addTask(
        org.apache.pekko.actor.CoordinatedShutdown.PhaseBeforeServiceUnbind(), "bastion-drain", () -> {
          system.log().info("Leaving: readiness is 503; serving for {} more before closing the HTTP port", drain);
          return org.apache.pekko.pattern.Patterns.after(drain, system.classicSystem().scheduler(),
              system.executionContext(), () -> java.util.concurrent.CompletableFuture.completedFuture(
                  org.apache.pekko.Done.getInstance()));
        });
  }

  /** Each package's figures, sampled by the metrics leaf. */
  private static void registerSamplers(ActorSystem<?> system, SessionStreams streams, Governance governance,
      UpstreamDirectory directory) {
    NodeMetrics metrics = NodeMetrics.get(system);
    LocalSessions sessions = LocalSessions.get(system);
    metrics.register(() -> Metrics.sessionsOpen(sessions.size()));
    metrics.register(() -> Metrics.streamsOpen(streams.openStreams()));
    AuditLog audit = governance.audit();
    long[] lastDropped = {0};
    metrics.register(() -> {
      Metrics.auditQueueDepth(audit.queued());
      long dropped = audit.dropped();
      Metrics.auditDropped(dropped - lastDropped[0]);
      lastDropped[0] = dropped;
    });
    metrics.register(() -> directory.statuses().values().forEach(s -> UpstreamStatus.STATES
        .forEach(state -> Metrics.upstreamState(s.name(), state, state.equals(s.state())))));
    metrics.start(system.settings().config().getDuration("bastion.metrics.sample-interval"));
  }

  /** How long a starting node tries to read the admin API's overlay before it gives up. */
  private static final Duration REGISTRY_PATIENCE = Duration.ofSeconds(60);

  /**
   * Completes as {@code main} does, but fails as soon as {@code guard} fails (the node will not
   * join: no point waiting for what needs the cluster).
   */
  private static <T> CompletionStage<T> firstFailure(CompletionStage<T> main, CompletionStage<?> guard) {
    CompletableFuture<T> result = new CompletableFuture<>();
    main.whenComplete((ok, err) -> {
      if (err == null) {
        result.complete(ok);
      } else {
        result.completeExceptionally(err);
      }
    });
    guard.whenComplete((ok, err) -> {
      if (err != null) {
        result.completeExceptionally(err);
      }
    });
    return result;
  }

  /**
   * Pekko Management HTTP ({@code /cluster/members}, leave, down) unless disabled. A taken
   * management port does not stop the node (it serves clients without it; the operator sees a
   * warning naming the port): several nodes on one host that forgot {@code --management-port}
   * must not fail because of an operator convenience.
   */
  private static CompletionStage<Done> startManagement(ActorSystem<?> system) {
    Config root = system.settings().config();
    if (!root.getBoolean("bastion.cluster.management-enabled")) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    String host = root.getString("pekko.management.http.hostname");
    int port = root.getInt("pekko.management.http.port");
    return PekkoManagement.get(system).start()
        .<Done>thenApply(uri -> {
          system.log().info("Pekko Management HTTP on {}", uri);
          return Done.getInstance();
        })
        .exceptionally(err -> {
          system.log().warn("Pekko Management HTTP not started: {}; set cluster.management.port or"
              + " --management-port (0 disables it)",
              StartupFailures.portInUse(err, host, port, "management").getMessage());
          return Done.getInstance();
        });
  }

  /**
   * Completes when this node is Up; fails after {@code bastion.node.join-timeout} (the seed nodes
   * point nowhere, or none of them is up) instead of waiting forever.
   */
  private static CompletionStage<Done> awaitUp(ActorSystem<?> system) {
    Config root = system.settings().config();
    Duration timeout = root.getDuration("bastion.node.join-timeout");
    List<String> seeds = root.getStringList("pekko.cluster.seed-nodes");
    CompletableFuture<Done> up = new CompletableFuture<>();
    org.apache.pekko.cluster.Cluster classic = org.apache.pekko.cluster.Cluster.get(system);
    classic.registerOnMemberUp(() -> up.complete(Done.getInstance()));
    var timer = system.scheduler().scheduleOnce(timeout, () -> up.completeExceptionally(
        new StartupException(seeds.isEmpty()
            ? "could not form a cluster of one within " + StartupFailures.show(timeout)
            : "could not join the cluster via seed nodes " + seeds + " within "
                + StartupFailures.show(timeout) + " (is a seed node running and reachable from "
                + classic.selfAddress() + "?)")), system.executionContext());
    return up.whenComplete((ok, err) -> timer.cancel());
  }

  private static void joinSelfIfNoSeeds(ActorSystem<?> system) {
    if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }
}
