package io.bastion.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.Failover;
import io.bastion.config.GatewayConfig;
import io.bastion.node.it.FixtureServer;
import io.bastion.node.testkit.BastionTestCluster;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.McpHttp.Exchange;
import io.bastion.node.upstream.UpstreamRoute;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code failover: active_active} on two real nodes and a real streamable-HTTP upstream: the node
 * that does not run the upstream's entity keeps its own connection and serves the calls entering
 * it through that connection (progress with the client's token included), while the owner serves
 * its own through the entity and keeps no second connection.
 */
@Timeout(180)
class ActiveActiveTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final McpHttp mcp = new McpHttp();
  private static FixtureServer fixture;
  private static BastionTestCluster cluster;

  @BeforeAll
  static void startCluster() {
    fixture = FixtureServer.startHttp();
    BastionConfig base = new BastionConfig(Path.of("active-active.yaml"), GatewayConfig.DEFAULT,
        List.of(fixture.config("fixture").withFailover(Failover.ACTIVE_ACTIVE)),
        null, null, null, null, null, null, null, null);
    cluster = BastionTestCluster.start(2, base, BastionTestCluster.fastFailover());
    for (BastionTestNode n : cluster.nodes()) {
      n.awaitReady("fixture");
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

  private static String address(BastionTestNode n) {
    return Cluster.get(n.running().system()).selfMember().address().toString();
  }

  private static UpstreamRoute route(BastionTestNode n) {
    return UpstreamRoute.get(n.running().system());
  }

  private static JsonNode call(BastionTestNode n, String session, long id, String tool) {
    try (Exchange e = mcp.post(n.mcpUrl(), session, McpHttp.request(id, "tools/call",
        McpHttp.json("{\"name\":\"" + tool + "\",\"arguments\":{}}")))) {
      assertThat(e.status).as("tools/call %s on %s", tool, n.baseUrl()).isEqualTo(200);
      JsonNode r = e.response(WAIT);
      assertThat(r.has("result")).as("answer %s", r).isTrue();
      assertThat(r.at("/result/isError").asBoolean(false)).as("answer %s", r).isFalse();
      return r;
    }
  }

  @Test
  void callsEnteringTheOtherNodeGoThroughItsOwnConnection() {
    String owner = cluster.node(0).directory().statuses().get("fixture").owner();
    BastionTestNode home = cluster.nodes().stream().filter(n -> address(n).equals(owner)).findFirst().orElseThrow();
    BastionTestNode other = cluster.nodes().stream().filter(n -> n != home).findFirst().orElseThrow();
    String session = mcp.initialize(other.mcpUrl(), false);

    // The other node opens its connection on the route's tick; until its handshake is done the
    // entity serves its calls. Then every call entering it goes through its own connection.
    long[] id = {1};
    Eventually.until(WAIT, () -> {
      call(other, session, id[0]++, "fixture__test_simple_text");
      return route(other).activeCalls("fixture") > 0;
    }, "a call served through the other node's own connection");
    long before = route(other).activeCalls("fixture");
    for (int i = 0; i < 5; i++) {
      assertThat(call(other, session, id[0]++, "fixture__test_simple_text").at("/result/content/0/text").asText())
          .isNotBlank();
    }
    assertThat(route(other).activeCalls("fixture")).as("every call once the connection is ready").isEqualTo(before + 5);

    // Progress comes back with the client's own token over that connection too.
    try (Exchange e = mcp.post(other.mcpUrl(), session, McpHttp.request(100, "tools/call", McpHttp.json(
        "{\"name\":\"fixture__test_tool_with_progress\",\"arguments\":{},\"_meta\":{\"progressToken\":\"p-100\"}}")))) {
      assertThat(e.status).isEqualTo(200);
      assertThat(e.response(WAIT).has("result")).isTrue();
      List<JsonNode> progress = e.seen().stream()
          .filter(m -> "notifications/progress".equals(m.path("method").asText())).toList();
      assertThat(progress).isNotEmpty();
      assertThat(progress).allSatisfy(p -> assertThat(p.at("/params/progressToken").asText()).isEqualTo("p-100"));
    }
    assertThat(route(other).activeCalls("fixture")).isEqualTo(before + 6);

    // The owner serves calls entering it through the entity, and keeps no connection of its own.
    call(home, session, 200, "fixture__test_simple_text");
    assertThat(route(home).standbyConnections()).isZero();
    assertThat(route(home).activeCalls("fixture")).isZero();
  }
}
