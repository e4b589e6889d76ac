package io.bastion.node.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ClusterConfig;
import io.bastion.config.StoreConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.cluster.MemberStatus;

/**
 * Several real Bastion nodes in this JVM, clustered, each with its own ActorSystem, HTTP edge and
 * ephemeral Artery port, all sharing one fresh PostgreSQL database (H2 files cannot be shared
 * between systems safely). The first node joins itself; the others are seeded with its address.
 *
 * <p>Needs PostgreSQL on 127.0.0.1:5432 with user {@code postgres} and trust auth (override with
 * {@code -Dbastion.test.pg.url=jdbc:postgresql://host:port/}, {@code -Dbastion.test.pg.user}).
 * The database {@code bastion_it_<random>} is created here and dropped by {@link #close()}.
 */
public final class BastionTestCluster implements AutoCloseable {
  public static final String PG_ADMIN_URL =
      System.getProperty("bastion.test.pg.url", "jdbc:postgresql://127.0.0.1:5432/");
  public static final String PG_USER = System.getProperty("bastion.test.pg.user", "postgres");

  private final String database;
  private final List<BastionTestNode> nodes = new ArrayList<>();
  private final BastionConfig base;
  private final Config overrides;

  private BastionTestCluster(String database, BastionConfig base, Config overrides) {
    this.database = database;
    this.base = base;
    this.overrides = overrides;
  }

  /** Starts {@code n} nodes of {@code base} (gateway, servers...; store and cluster are replaced). */
  public static BastionTestCluster start(int n, BastionConfig base, Config overrides) {
    String db = createDatabase();
    BastionTestCluster cluster = new BastionTestCluster(db, base, overrides);
    try {
      for (int i = 0; i < n; i++) {
        cluster.addNode();
      }
      cluster.awaitMembersUp(n, Duration.ofSeconds(30));
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** The JDBC URL of this cluster's database. */
  public String storeUrl() {
    return PG_ADMIN_URL + database;
  }

  public StoreConfig store() {
    return new StoreConfig(StoreConfig.Type.POSTGRES, storeUrl(), PG_USER, "", null);
  }

  /** Starts one more node, seeded with the first running node's Artery address. */
  public BastionTestNode addNode() {
    List<String> seeds = nodes.stream().filter(BastionTestNode::isRunning).findFirst()
        .map(first -> List.of(first.clusterHostPort())).orElse(List.of());
    ClusterConfig cluster = new ClusterConfig("127.0.0.1", 0, seeds, ClusterConfig.Management.DISABLED);
    BastionConfig c = base.withCluster(cluster);
    c = new BastionConfig(c.source(), c.gateway(), c.servers(), c.virtualKeys(), c.teams(),
        c.customers(), c.toolGroups(), c.audit(), store(), c.adminToken(), c.warnings(), cluster, c.codeMode());
    BastionTestNode node = BastionTestNode.start(c, overrides);
    nodes.add(node);
    return node;
  }

  public List<BastionTestNode> nodes() {
    return nodes;
  }

  public BastionTestNode node(int i) {
    return nodes.get(i);
  }

  public List<BastionTestNode> running() {
    return nodes.stream().filter(BastionTestNode::isRunning).toList();
  }

  /** Waits until every running node sees {@code n} members, all Up. */
  public void awaitMembersUp(int n, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      boolean ok = true;
      for (BastionTestNode node : running()) {
        var state = org.apache.pekko.cluster.Cluster.get(node.running().system()).state();
        List<String> members = new ArrayList<>();
        state.getMembers().forEach(m -> members.add(m.address() + "=" + m.status()));
        last = node.clusterHostPort() + " sees " + members + " unreachable " + state.getUnreachable().size();
        long up = members.stream().filter(m -> m.endsWith("=" + MemberStatus.up())).count();
        if (members.size() != n || up != n || !state.getUnreachable().isEmpty()) {
          ok = false;
          break;
        }
      }
      if (ok) {
        return;
      }
      sleep(100);
    }
    throw new AssertionError("cluster did not reach " + n + " Up members within " + timeout + ": " + last);
  }

  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      try {
        nodes.get(i).close();
      } catch (RuntimeException e) {
        // best effort
      }
    }
    dropDatabase(database);
  }

  public static String createDatabase() {
    String name = "bastion_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(PG_ADMIN_URL + "postgres", PG_USER, "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL is needed at " + PG_ADMIN_URL + " (user " + PG_USER
          + ", trust auth) for cluster tests: " + e.getMessage(), e);
    }
    return name;
  }

  public static void dropDatabase(String name) {
    try (Connection c = DriverManager.getConnection(PG_ADMIN_URL + "postgres", PG_USER, "");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      System.err.println("could not drop test database " + name + ": " + e.getMessage());
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  /** Overrides for a test cluster: quick failure detection and downing, so a lost node costs seconds. */
  public static Config fastFailover() {
    return ConfigFactory.parseString("""
        pekko.cluster.split-brain-resolver.stable-after = 3s
        pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        pekko.loglevel = WARNING
        """);
  }
}
