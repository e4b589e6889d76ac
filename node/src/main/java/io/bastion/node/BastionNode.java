package io.bastion.node;

import com.typesafe.config.Config;
import io.bastion.config.BastionConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.config.ServerConfig;
import io.bastion.node.governance.Governance;
import io.bastion.node.governance.GovernanceRoutes;
import io.bastion.node.governance.KeyAccessPolicy;
import io.bastion.node.governance.KeyDirectory;
import io.bastion.node.http.AccessPolicy;
import io.bastion.node.http.AdminRoutes;
import io.bastion.node.http.BastionRoutes;
import io.bastion.node.http.EdgeSettings;
import io.bastion.node.http.McpDispatcher;
import io.bastion.node.http.McpEdge;
import io.bastion.node.http.StreamRegistry;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.metrics.NodeMetrics;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.persistence.StoreSchema;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

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

  /** Creates the ActorSystem from the config (and overrides) and starts the node in it. */
  public static CompletionStage<Running> start(BastionConfig config, Config overrides) {
    Config pekko = NodeConfig.pekkoConfig(config, overrides);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bastion", pekko);
    return init(system, config).thenApply(b -> new Running(system, b, config))
        .whenComplete((ok, err) -> {
          if (err != null) {
            system.terminate();
          }
        });
  }

  /** Starts every part of a node inside an existing system; completes when the HTTP edge is bound. */
  public static CompletionStage<ServerBinding> init(ActorSystem<?> system, BastionConfig config) {
    NodeSettings settings = NodeSettings.fromConfig(system.settings().config());
    AtomicBoolean configLoaded = new AtomicBoolean(true);
    GatewayConfig gw = config.gateway();
    try {
      KeyDirectory.checkOpenAccess(config).ifPresent(w -> system.log().warn("!!! {} !!!", w));
    } catch (IllegalStateException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    KeyDirectory keys = new KeyDirectory(config);
    Metrics.install(system.settings().config());
    return StoreSchema.ensure(system).thenCompose(done -> {
      joinSelfIfNoSeeds(system);
      SessionEntity.init(system, gw.sessionIdleTimeout());
      UpstreamServer.init(system, config::server, settings);
      AccessPolicy policy = new KeyAccessPolicy(config);
      Governance governance = Governance.start(system, config, keys, settings);
      StreamRegistry streams = new StreamRegistry(policy);
      UpstreamDirectory.get(system).addListener(streams);
      NodeMetrics.get(system).start(streams, governance.audit(),
          system.settings().config().getDuration("bastion.metrics.sample-interval"));
      List<String> names = config.servers().stream().map(ServerConfig::name).toList();
      system.systemActorOf(UpstreamKeeper.create(names, settings.upstreamKeepaliveInterval()),
          "bastion-upstream-keeper", Props.empty());
      McpDispatcher dispatcher = new McpDispatcher(system, settings, policy, governance);
      EdgeSettings edge = new EdgeSettings(gw.host(), gw.maxRequestBytes(), gw.allowedOrigins(),
          gw.sessionIdleTimeout());
      McpEdge mcp = new McpEdge(system, edge, settings, dispatcher, streams, keys);
      AdminRoutes admin = new AdminRoutes(system, configLoaded::get);
      return Http.get(system).newServerAt(gw.host(), gw.port())
          .bind(new BastionRoutes(mcp, admin,
              new GovernanceRoutes(governance.audit(), config.adminToken()).route()).route())
          .thenApply(b -> b.addToCoordinatedShutdown(Duration.ofSeconds(5), system));
    });
  }

  private static void joinSelfIfNoSeeds(ActorSystem<?> system) {
    if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }
}
