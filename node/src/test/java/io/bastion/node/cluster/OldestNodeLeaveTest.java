package io.bastion.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.node.it.FixtureServer;
import io.bastion.node.session.LocalSessions;
import io.bastion.node.session.RemoteSessions;
import io.bastion.node.testkit.BastionTestCluster;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.McpHttp.Exchange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.IntStream;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.sharding.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Leave;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The oldest node leaves through {@code Cluster.leave} (what management HTTP's {@code
 * operation=Leave} does) and keeps serving HTTP for its drain: Pekko stops its sharding regions at
 * once (the next oldest takes the coordinators over as soon as it sees it {@code Exiting}), yet
 * tools/calls entering it are still answered, through another member's region ({@code UpstreamRegion}).
 * Two real nodes, a real streamable-HTTP upstream.
 */
@Timeout(180)
class OldestNodeLeaveTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final int UPSTREAMS = 6;
  private static final McpHttp mcp = new McpHttp();
  private static FixtureServer fixture;
  private static BastionTestCluster cluster;

  @BeforeAll
  static void startCluster() {
    fixture = FixtureServer.startHttp();
    // Several upstreams: the coordinator spreads their shards over both nodes.
    BastionConfig base = new BastionConfig(Path.of("oldest-leaves.yaml"), GatewayConfig.DEFAULT,
        IntStream.rangeClosed(1, UPSTREAMS).mapToObj(i -> fixture.config("f" + i)).toList(),
        null, null, null, null, null, null, null, null);
    // A drain long enough to call the node after its regions stopped (its phase's limit raised to match).
    cluster = BastionTestCluster.start(2, base, ConfigFactory.parseString("""
        bastion.node.shutdown-drain = 6s
        pekko.coordinated-shutdown.phases.before-service-unbind.timeout = 10s
        pekko.cluster.sharding.rebalance-interval = 500ms
        """).withFallback(BastionTestCluster.fastFailover()));
    for (BastionTestNode n : cluster.nodes()) {
      for (int i = 1; i <= UPSTREAMS; i++) {
        n.awaitReady("f" + i);
      }
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  private static JsonNode call(BastionTestNode n, String session, String server, long id) {
    try (Exchange e = mcp.post(n.mcpUrl(), session, McpHttp.request(id, "tools/call",
        McpHttp.json("{\"name\":\"" + server + "__test_simple_text\",\"arguments\":{}}")))) {
      assertThat(e.status).as("tools/call #%d on %s", id, n.baseUrl()).isEqualTo(200);
      JsonNode r = e.response(WAIT);
      assertThat(r.has("result")).as("answer %s", r).isTrue();
      assertThat(r.at("/result/isError").asBoolean(false)).as("answer %s", r).isFalse();
      return r;
    }
  }

  private static String address(BastionTestNode n) {
    return Cluster.get(n.running().system()).selfMember().address().toString();
  }

  /** An upstream whose entity runs on {@code n}, or null. */
  private static String runsOn(BastionTestNode n) {
    return IntStream.rangeClosed(1, UPSTREAMS).mapToObj(i -> "f" + i)
        .filter(s -> address(n).equals(n.directory().statuses().get(s).owner())
            && "ready".equals(n.directory().statuses().get(s).state()))
        .findFirst().orElse(null);
  }

  @Test
  void toolCallsEnteringTheOldestNodeAfterItsRegionStoppedAreStillAnswered() {
    BastionTestNode oldest = cluster.node(0);
    BastionTestNode other = cluster.node(1);
    // An upstream the other node runs: its shard keeps its home while the oldest leaves. (One the
    // oldest ran needs a new home, which no coordinator gives until the oldest is removed:
    // docs/cluster.md, "Leaving the oldest node".)
    // The first node started them all; rebalancing moves some to the other.
    Eventually.until(Duration.ofSeconds(60), () -> runsOn(other) != null, "an upstream running on the other node");
    String server = runsOn(other);
    other.awaitReady(server);
    // A session whose entity runs on the other node and that the oldest has validated once (so it
    // needs no ask to the session's shard later): this test is about the upstream's calls.
    String session = null;
    for (int i = 0; i < 50 && session == null; i++) {
      String s = mcp.initialize(other.mcpUrl(), false);
      if (LocalSessions.get(other.running().system()).find(s).isPresent()) {
        session = s;
      }
    }
    assertThat(session).as("a session living on the other node").isNotNull();
    call(oldest, session, server, 1);
    String known = session;
    // The entity's first update reaches the oldest's cache shortly after the answer.
    Eventually.until(WAIT, () -> RemoteSessions.get(oldest.running().system()).use(known).isPresent(),
        "the session cached on the oldest node");

    var system = oldest.running().system();
    var region = ClusterSharding.get(Adapter.toClassic(system)).shardRegion("UpstreamServer");
    TestProbe<Object> probe = TestProbe.create(system);
    Cluster.get(system).manager().tell(Leave.create(Cluster.get(system).selfMember().address()));
    probe.expectTerminated(Adapter.toTyped(region), Duration.ofSeconds(30));

    // Its port is still open (the drain): these go through the other node's region to the upstream's new home.
    for (long id = 2; id <= 4; id++) {
      assertThat(call(oldest, session, server, id).at("/result/content/0/text").asText()).isNotBlank();
    }
  }
}
