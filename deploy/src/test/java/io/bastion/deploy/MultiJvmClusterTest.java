package io.bastion.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real JVMs started by {@code deploy/cluster.sh} on PostgreSQL, server-everything over stdio as the
 * upstream, and a steady load of {@code tools/call everything__echo} from 4 clients, each sending
 * round-robin to every live node with the session it initialized on one of them. Then:
 * (a) {@code cluster.sh add} — no failed request; (b) {@code cluster.sh leave} of the node owning
 * the upstream, through management HTTP — no failed request (a client whose session lived on the
 * leaving node gets 404 and re-initializes: counted apart); (c) {@code kill -9} of the node that
 * owns the upstream {@code standby} (the same server with {@code failover: warm_standby}; the
 * clients call both in turn) — only the calls the survivors sent to it before they knew it was lost
 * fail (each survivor's log says when it knew), within a bounded window; calls
 * that arrive meanwhile for {@code everything} ({@code failover: hold}) are held and served once it
 * is ready on a survivor, those for {@code standby} are served by the survivors' standby
 * connections before its entity runs on a survivor.
 *
 * <p>The clients' rotation drops a node when the test stops or kills it, as a load balancer with
 * health checks would: the failures counted are those of requests sent to live nodes. Counts and
 * windows are printed and written to {@code deploy/target/multi-jvm/report.txt} (node logs beside it).
 */
class MultiJvmClusterTest {
  static final int CLIENTS = 4;
  static final String DB = "bastion_multijvm_test";

  /** Cluster state and node logs stay in its directory after the run, for diagnosis. */
  static LocalCluster cluster;
  static final List<String> report = new ArrayList<>();

  final LoadClients load = new LoadClients(n -> cluster.httpPort(n), false).tools("everything__echo", "standby__echo");

  @BeforeAll
  static void prerequisites() throws Exception {
    cluster = new LocalCluster(DeployFilesTest.DEPLOY.resolve("target/multi-jvm"), Map.of());
    cluster.clean();
    LocalCluster.requirePostgres();
    LocalCluster.ensureEverything(cluster.dir);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      log("cluster.sh stop:%n%s", cluster.stop());
      Files.write(cluster.dir.resolve("report.txt"), report);
    }
  }

  @Test
  void addLeaveAndKillUnderSteadyLoad() throws Exception {
    Path config = cluster.writeConfig("", "", LocalCluster.everything("standby", "failover: warm_standby"), "");
    log("%s", cluster.start(3, config, DB));
    for (int n = 1; n <= 3; n++) {
      load.rotation.add(n);
    }
    awaitUpstreamReady(Duration.ofSeconds(60), -1);
    cluster.awaitUpstreamReady("standby", Duration.ofSeconds(60), -1, () -> List.copyOf(load.rotation));

    for (int i = 0; i < CLIENTS; i++) {
      load.start("c" + i, null);
    }
    try {
      // steady state before anything happens
      long warm = System.currentTimeMillis();
      Thread.sleep(4000);
      // A busy box serves fewer calls in those 4 s: wait (bounded) for the first 20 instead.
      long deadline = warm + 60_000;
      while (load.window(warm, System.currentTimeMillis()).ok <= 20 && System.currentTimeMillis() < deadline) {
        Thread.sleep(250);
      }
      Window baseline = load.window(warm, System.currentTimeMillis());
      log("baseline: %s", baseline);
      assertThat(baseline.ok).as("requests succeed before any change").isGreaterThan(20);

      // (a) a node joins
      long aStart = System.currentTimeMillis();
      int added = cluster.add();
      log("cluster.sh add: node %d ready", added);
      load.rotation.add(added);
      Thread.sleep(5000);
      Window a = load.window(aStart, System.currentTimeMillis());
      log("(a) add node %d: %s", added, a);
      printStatus();

      // (b) the node owning the upstream leaves through management HTTP
      int owner = awaitUpstreamReady(Duration.ofSeconds(30), -1);
      long bStart = System.currentTimeMillis();
      load.rotation.remove((Integer) owner);
      Thread.sleep(1000); // requests already sent to it finish; it still serves them
      LocalCluster.Result leave = cluster.script(Duration.ofMinutes(2), "leave", "--management", "" + owner);
      log("cluster.sh leave %d:%n%s", owner, leave.output());
      assertThat(leave.code()).as("cluster.sh leave:\n" + leave.output()).isZero();
      int newOwner = awaitUpstreamReady(Duration.ofSeconds(30), owner);
      long handOff = System.currentTimeMillis() - bStart;
      Thread.sleep(5000);
      Window b = load.window(bStart, System.currentTimeMillis());
      log("(b) leave node %d (upstream owner; now on node %d, %d ms after the leave began): %s",
          owner, newOwner, handOff, b);
      printStatus();

      // (c) kill -9 of the node owning the upstream with standbys (maybe the other one's too)
      int victim = cluster.awaitUpstreamReady("standby", Duration.ofSeconds(30), -1, () -> List.copyOf(load.rotation));
      int holdOwner = awaitUpstreamReady(Duration.ofSeconds(30), -1);
      load.rotation.remove((Integer) victim);
      long cStart = System.currentTimeMillis();
      LocalCluster.Result kill = cluster.script(Duration.ofSeconds(30), "kill", "" + victim);
      log("cluster.sh kill %d:%n%s", victim, kill.output());
      assertThat(kill.code()).isZero();
      int standbyMoved = cluster.awaitUpstreamReady("standby", Duration.ofSeconds(60), victim,
          () -> List.copyOf(load.rotation));
      long standbyBack = System.currentTimeMillis() - cStart;
      int survivor = awaitUpstreamReady(Duration.ofSeconds(60), victim);
      long upstreamBack = System.currentTimeMillis() - cStart;
      // full service: 5 s in a row of successes and no failure, within 60 s of the kill
      long backAt = load.awaitFullService(cStart, Duration.ofSeconds(60), 5000);
      Window c = load.window(cStart, System.currentTimeMillis());
      Window cs = load.window(cStart, System.currentTimeMillis(), e -> "standby__echo".equals(e.tool()));
      Window ch = load.window(cStart, System.currentTimeMillis(), e -> "everything__echo".equals(e.tool()));
      // The failure window runs from the kill to the answer of the last failed request; the outage
      // from the kill to the first success answered after it (calls sent meanwhile may wait and succeed).
      long lastFail = c.lastFailEnd < 0 ? 0 : c.lastFailEnd - cStart;
      long firstOk = c.firstOkEnd < 0 ? -1 : c.firstOkEnd - cStart;
      // Served calls reach /metrics with the next Kamon tick (5 s): wait up to two ticks for them.
      long standbyCalls = cluster.awaitPositiveMetricSum("bastion_upstream_standby_calls_total", "standby",
          load.rotation, Duration.ofSeconds(12));
      log("(c) kill -9 node %d (owner of standby; everything on node %d): standby's entity ready on node %d "
          + "after %d ms, everything ready on node %d after %d ms; failure window %d ms "
          + "(last failed request sent at +%d ms, answered at +%d ms); first success answered at +%d ms; "
          + "full service (5 s without failure) from +%d ms; %s", victim, holdOwner, standbyMoved, standbyBack,
          survivor, upstreamBack, lastFail, c.lastFail < 0 ? 0 : c.lastFail - cStart, lastFail, firstOk,
          backAt < 0 ? -1 : backAt - cStart, c);
      log("(c) standby__echo: %s; first success at +%d ms, last failure answered at +%d ms; "
          + "%d calls served by the survivors' standbys", cs, cs.firstOkEnd < 0 ? -1 : cs.firstOkEnd - cStart,
          cs.lastFailEnd < 0 ? -1 : cs.lastFailEnd - cStart, standbyCalls);
      log("(c) everything__echo (failover: hold): %s; first success at +%d ms", ch,
          ch.firstOkEnd < 0 ? -1 : ch.firstOkEnd - cStart);
      log("(c) per second since the kill: %s", c.perSecond(cStart));
      printStatus();

      assertThat(a.failures).as("(a) failed requests while a node joined: " + a.failureSamples).isZero();
      assertThat(b.failures).as("(b) failed requests while the upstream's owner left: " + b.failureSamples).isZero();
      // Sessions survive both: a shard handed off parks its sessions for the next home.
      assertThat(a.reinits).as("(a) sessions lost while a node joined").isZero();
      assertThat(b.reinits).as("(b) sessions lost while the upstream's owner left").isZero();
      assertThat(backAt).as("(c) full service back within 60 s of the kill").isPositive();
      // Only calls a survivor sent to the killed node before it knew the node was lost may fail:
      // those running there at the kill, and those that entered a survivor before its failure
      // detector (or gossip) told it. Later calls are held until the upstream runs on a survivor,
      // or served by a standby connection. Not a count per client: a client whose call failed fast
      // on one survivor (standby's calls fail at unreachability) may send its next call to the
      // other before that one knows, and that call fails at the downing.
      for (LoadClients.Event f : c.all) {
        if (f.kind() != LoadClients.Kind.FAIL) {
          continue;
        }
        long learned = learnedLoss(f.node(), cStart);
        assertThat(learned).as("(c) node %d logged the loss of node %d (see its log)", f.node(), victim).isPositive();
        assertThat(f.at()).as("(c) a call failed that node %d received %d ms after it knew node %d was lost: %s",
            f.node(), f.at() - learned, victim, f.detail()).isLessThanOrEqualTo(learned);
      }
      assertThat(lastFail).as("(c) failure window after kill -9 (ms): " + c.failureSamples).isLessThan(20_000);
      assertThat(firstOk).as("(c) first success after kill -9 (ms)").isBetween(0L, 30_000L);
      // The survivors served standby's calls themselves while its owner was lost.
      assertThat(standbyCalls).as("(c) calls served by standby connections").isPositive();
      assertThat(a.ok).isPositive();
      assertThat(b.ok).isPositive();
    } finally {
      load.stop();
    }
  }

  /** When {@code node} first marked a member lost at or after {@code after}, from its log; -1 if it did not. */
  long learnedLoss(int node, long after) throws Exception {
    long unreachable = cluster.loggedAt(node, "is unreachable: calls for its upstreams", after);
    long downed = cluster.loggedAt(node, "was downed: calls it was running fail", after);
    return unreachable < 0 ? downed : downed < 0 ? unreachable : Math.min(unreachable, downed);
  }

  void printStatus() throws Exception {
    log("cluster.sh status:%n%s", cluster.status());
  }

  int awaitUpstreamReady(Duration timeout, int notOn) throws Exception {
    return cluster.awaitUpstreamReady("everything", timeout, notOn, () -> List.copyOf(load.rotation));
  }

  static void log(String fmt, Object... args) {
    String s = String.format(fmt, args);
    System.out.println("[multi-jvm] " + s);
    report.add(s);
  }
}
