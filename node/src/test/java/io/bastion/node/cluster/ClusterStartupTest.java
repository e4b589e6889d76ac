package io.bastion.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ClusterConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.config.GatewayConfig;
import io.bastion.config.StoreConfig;
import io.bastion.node.BastionNode;
import io.bastion.node.StartupException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that cannot start says why in one line and the launcher exits 1: seed nodes that point
 * nowhere (after the join timeout, not never), a store that cannot be reached (naming the URL,
 * never the password), an HTTP or cluster port that is taken.
 */
@Timeout(90)
class ClusterStartupTest {
  private static final Config TEST = ConfigFactory.parseString("""
      pekko.coordinated-shutdown.exit-jvm = off
      pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
      pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
      pekko.loglevel = WARNING
      bastion.node.join-timeout = 3s
      pekko-persistence-jdbc.shared-databases.bastion.db.connectionTimeout = 1s
      """);

  @TempDir
  Path dir;

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private BastionConfig config(int httpPort, ClusterConfig cluster, StoreConfig store) {
    return new BastionConfig(Path.of("startup-test.yaml"), GatewayConfig.DEFAULT.withHostPort("127.0.0.1", httpPort),
        List.of(), null, null, null, null, null,
        store == null ? new StoreConfig(StoreConfig.Type.H2, null, null, null, dir) : store, null, null, cluster);
  }

  private static ClusterConfig single(int port) {
    return new ClusterConfig("127.0.0.1", port, List.of(), ClusterConfig.Management.DISABLED);
  }

  private static Throwable failure(BastionConfig config) {
    long t0 = System.nanoTime();
    Throwable t = catchThrowable(() -> BastionNode.start(config, TEST).toCompletableFuture().join());
    System.out.printf("ClusterStartupTest: failed after %d ms: %s%n", (System.nanoTime() - t0) / 1_000_000,
        t == null ? null : (t.getCause() == null ? t : t.getCause()).getMessage());
    assertThat(t).as("start must fail").isNotNull();
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    assertThat(cause).isInstanceOf(StartupException.class);
    return cause;
  }

  @Test
  void seedNodesThatPointNowhereFailAfterTheJoinTimeout() throws IOException {
    int nowhere = freePort();
    long t0 = System.nanoTime();
    Throwable t = failure(config(0, new ClusterConfig("127.0.0.1", 0, List.of("127.0.0.1:" + nowhere),
        ClusterConfig.Management.DISABLED), null));
    long ms = (System.nanoTime() - t0) / 1_000_000;

    assertThat(t.getMessage()).startsWith("could not join the cluster via seed nodes [pekko://bastion@127.0.0.1:"
        + nowhere + "] within 3s");
    assertThat(ms).isBetween(2_500L, 20_000L);
  }

  @Test
  void unreachableStoreIsNamedWithoutItsPassword() throws IOException {
    int nowhere = freePort();
    String url = "jdbc:postgresql://127.0.0.1:" + nowhere + "/bastion";
    Throwable t = failure(config(0, single(0),
        new StoreConfig(StoreConfig.Type.POSTGRES, url, "bastion", "s3cret-pw", null)));

    assertThat(t.getMessage()).startsWith("the store is unreachable: " + url + " (user bastion)");
    assertThat(t.getMessage()).doesNotContain("s3cret-pw");
  }

  @Test
  void takenHttpPortIsReported() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Throwable t = failure(config(taken.getLocalPort(), single(0), null));
      assertThat(t.getMessage()).isEqualTo("port " + taken.getLocalPort() + " on 127.0.0.1 is already in use (HTTP)");
    }
  }

  @Test
  void takenClusterPortIsReported() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Throwable t = failure(config(0, single(taken.getLocalPort()), null));
      assertThat(t.getMessage()).isEqualTo("port " + taken.getLocalPort() + " on 127.0.0.1 is already in use (cluster)");
    }
  }

  // ---- the launcher ----

  private record Run(int code, String out, String err) {}

  private static Run main(String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Method run = Class.forName("io.bastion.node.Main").getDeclaredMethod("run", String[].class,
        PrintStream.class, PrintStream.class);
    run.setAccessible(true);
    int code = (int) run.invoke(null, args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Path yaml(String text) throws IOException {
    Path file = dir.resolve("bastion.yaml");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void launcherExitsOneWithTheJoinFailure() throws Exception {
    int nowhere = freePort();
    Path file = yaml("store: {data_dir: \"" + dir.resolve("data") + "\"}\n");
    System.setProperty("bastion.node.join-timeout", "3s");
    System.setProperty("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    System.setProperty("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook", "off");
    ConfigFactory.invalidateCaches();
    try {
      Run r = main("--config", file.toString(), "--port", "0", "--cluster-port", "0",
          "--seed", "127.0.0.1:" + nowhere, "--management-port", "0");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("bastion: failed to start: could not join the cluster via seed nodes "
          + "[pekko://bastion@127.0.0.1:" + nowhere + "] within 3s");
      assertThat(r.err()).doesNotContain("\tat ");
    } finally {
      System.clearProperty("bastion.node.join-timeout");
      System.clearProperty("pekko.cluster.jmx.multi-mbeans-in-same-jvm");
      System.clearProperty("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook");
      ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void launcherRejectsBadClusterFlagsWithExitTwo() throws Exception {
    Run seed = main("--seed", "nohost");
    assertThat(seed.code()).isEqualTo(2);
    assertThat(seed.err()).contains("bastion: --seed expects host:port, got nohost");
    Run port = main("--cluster-port", "99999");
    assertThat(port.code()).isEqualTo(2);
    assertThat(port.err()).contains("--cluster-port expects a number from 0 to 65535, got 99999");
    Run mgmt = main("--management-port");
    assertThat(mgmt.code()).isEqualTo(2);
    assertThat(mgmt.err()).contains("--management-port needs a value");
    Path bad = yaml("cluster: {seed_nodes: [\"127.0.0.1:25520\", \"x\"]}\n");
    Run config = main("--config", bad.toString());
    assertThat(config.code()).isEqualTo(2);
    assertThat(config.err()).contains("cluster.seed_nodes[1]: expected host:port, got \"x\"");
    Run help = main("--help");
    assertThat(help.out()).contains("--cluster-host", "--cluster-port", "--seed HOST:PORT", "--management-port");
  }

  @Test
  void yamlAndFlagsMapToPekkoSettings() throws Exception {
    BastionConfig fromYaml = ConfigLoader.parse("""
        cluster:
          host: 10.0.0.7
          port: 25521
          seed_nodes: ["10.0.0.5:25520", "10.0.0.6:25520"]
          management: {host: 0.0.0.0, port: 8558}
        """, Path.of("t.yaml"), Map.of());
    Config pekko = io.bastion.node.NodeConfig.pekkoConfig(fromYaml, ConfigFactory.empty());
    assertThat(pekko.getString("pekko.remote.artery.canonical.hostname")).isEqualTo("10.0.0.7");
    assertThat(pekko.getInt("pekko.remote.artery.canonical.port")).isEqualTo(25521);
    assertThat(pekko.getStringList("pekko.cluster.seed-nodes"))
        .containsExactly("pekko://bastion@10.0.0.5:25520", "pekko://bastion@10.0.0.6:25520");
    assertThat(pekko.getString("pekko.management.http.hostname")).isEqualTo("0.0.0.0");
    assertThat(pekko.getInt("pekko.management.http.port")).isEqualTo(8558);
    assertThat(pekko.getBoolean("pekko.management.http.route-providers-read-only")).isFalse();
    assertThat(pekko.getBoolean("bastion.cluster.management-enabled")).isTrue();
    assertThat(pekko.getString("pekko.cluster.downing-provider-class")).contains("SplitBrainResolverProvider");
    assertThat(pekko.getString("pekko.cluster.split-brain-resolver.active-strategy")).isEqualTo("keep-majority");
    assertThat(pekko.getBoolean("pekko.cluster.run-coordinated-shutdown-when-down")).isTrue();
    assertThat(pekko.getDuration("bastion.node.join-timeout")).hasSeconds(20);

    Method override = Class.forName("io.bastion.node.Main").getDeclaredMethod("overrideCluster",
        BastionConfig.class, String.class, Integer.class, List.class, Integer.class);
    override.setAccessible(true);
    BastionConfig flagged = (BastionConfig) override.invoke(null, fromYaml, "127.0.0.1", 25530,
        List.of("127.0.0.1:25530"), 0);
    assertThat(flagged.cluster()).isEqualTo(new ClusterConfig("127.0.0.1", 25530, List.of("127.0.0.1:25530"),
        new ClusterConfig.Management("0.0.0.0", 8558, false)));
    Config flaggedPekko = io.bastion.node.NodeConfig.pekkoConfig(flagged, ConfigFactory.empty());
    assertThat(flaggedPekko.getBoolean("bastion.cluster.management-enabled")).isFalse();
    BastionConfig port = (BastionConfig) override.invoke(null, fromYaml, null, null, null, 9000);
    assertThat(port.cluster().management()).isEqualTo(new ClusterConfig.Management("0.0.0.0", 9000, true));
    assertThat(port.cluster().seedNodes()).hasSize(2);
  }
}
