package io.bastion.node.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.config.GatewayConfig;
import io.bastion.config.ServerConfig;
import io.bastion.config.StoreConfig;
import io.bastion.node.BastionNode;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A real Bastion node in this JVM for integration tests: HTTP on 127.0.0.1 with an ephemeral
 * port, Artery on an ephemeral port, an H2 file store in a fresh temp directory, a cluster of one
 * (or, with seed nodes in the config's cluster block, a member of a bigger one: see
 * {@link BastionTestCluster}). Pekko Management is off unless the config sets its port.
 */
public final class BastionTestNode implements AutoCloseable {
  private final BastionNode.Running running;
  private final Path dataDir;
  private final boolean keepData;

  private BastionTestNode(BastionNode.Running running, Path dataDir, boolean keepData) {
    this.running = running;
    this.dataDir = dataDir;
    this.keepData = keepData;
  }

  /** Starts a node fronting {@code servers} with default gateway settings. */
  public static BastionTestNode start(List<ServerConfig> servers) {
    return start(servers, ConfigFactory.empty());
  }

  public static BastionTestNode start(List<ServerConfig> servers, Config overrides) {
    BastionConfig base = new BastionConfig(Path.of("test.yaml"), GatewayConfig.DEFAULT, servers,
        List.of(), List.of(), List.of(), List.of(), null, null, null, List.of());
    return start(base, overrides);
  }

  /** Starts a node from YAML text (as a user would write it), with {@code env} for interpolation. */
  public static BastionTestNode startYaml(String yaml, Map<String, String> env, Config overrides) {
    return start(ConfigLoader.parse(yaml, Path.of("test.yaml"), env), overrides);
  }

  public static BastionTestNode start(BastionConfig config, Config overrides) {
    try {
      return start(config, overrides, Files.createTempDirectory("bastion-test-"), false);
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  /**
   * Starts a node whose H2 store lives in {@code dataDir}, which is kept when the node is closed:
   * start again on the same directory to test a restart, or start several nodes of one cluster
   * on it (one JVM shares the H2 database).
   */
  public static BastionTestNode startWithData(BastionConfig config, Config overrides, Path dataDir) {
    return start(config, overrides, dataDir, true);
  }

  private static BastionTestNode start(BastionConfig config, Config overrides, Path data, boolean keepData) {
    {
      BastionConfig c = new BastionConfig(config.source(),
          config.gateway().withHostPort("127.0.0.1", 0), config.servers(), config.virtualKeys(),
          config.teams(), config.customers(), config.toolGroups(), config.audit(),
          config.store().type() == StoreConfig.Type.H2
              ? new StoreConfig(StoreConfig.Type.H2, null, null, null, data) : config.store(),
          config.adminToken(), config.warnings(), testCluster(config.cluster()), config.codeMode());
      Config o = overrides.withFallback(TestConfigs.node());
      BastionNode.Running r = BastionNode.start(c, o).toCompletableFuture().join();
      return new BastionTestNode(r, data, keepData);
    }
  }

  /**
   * Tests must not take the fixed management port 7626: the default management block becomes
   * disabled; an explicit one (another port, or 0 for an ephemeral one) is kept.
   */
  static io.bastion.config.ClusterConfig testCluster(io.bastion.config.ClusterConfig c) {
    return c.management().equals(io.bastion.config.ClusterConfig.Management.DEFAULT)
        ? c.withManagement(io.bastion.config.ClusterConfig.Management.DISABLED) : c;
  }

  public String mcpUrl() {
    return running.mcpUrl();
  }

  /** {@code host:port} of this node's Artery endpoint (what other nodes use as a seed). */
  public String clusterHostPort() {
    var a = org.apache.pekko.cluster.Cluster.get(running.system()).selfAddress();
    return a.getHost().get() + ":" + a.getPort().get();
  }

  /** False once the node's ActorSystem has terminated (left the cluster, or closed). */
  public boolean isRunning() {
    return !running.system().whenTerminated().isCompleted();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + running.address().getPort();
  }

  public String sseUrl() {
    return baseUrl() + "/sse";
  }

  public BastionNode.Running running() {
    return running;
  }

  public UpstreamDirectory directory() {
    return UpstreamDirectory.get(running.system());
  }

  /** Waits until {@code server} is in {@code state} (bounded; fails with the last status seen). */
  public UpstreamStatus awaitState(String server, String state, Duration timeout) {
    return Eventually.poll(timeout, Eventually.EVERY, () -> directory().statuses().get(server),
        last -> last != null && state.equals(last.state()),
        last -> "upstream " + server + " did not reach " + state + " within " + timeout + "; last status: " + last);
  }


  public UpstreamStatus awaitReady(String server) {
    return awaitState(server, UpstreamStatus.READY, Duration.ofSeconds(60));
  }

  @Override
  public void close() {
    if (isRunning()) {
      running.stop();
    }
    if (keepData) {
      return;
    }
    try (var files = Files.walk(dataDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}
