package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ClusterConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.config.ServerConfig;
import io.bastion.node.it.FixtureServer;
import io.bastion.node.call.RequestStream;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.McpHttp;
import io.bastion.protocol.UpstreamCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The replicated directory serves only configured servers, orders statuses by version (not by
 * wall clocks), and a server that is configured nowhere is refused at once.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class UpstreamDirectoryTest {

  private static UpstreamStatus status(String name, String state, long version, long updatedAtMillis) {
    return new UpstreamStatus(name, state, null, "pekko://bastion@127.0.0.1:1", 0, List.of(), null, null,
        UpstreamCatalog.empty(name, name), updatedAtMillis, version);
  }

  @Test
  void theReplicatedMapKeepsTheHigherVersionWhateverTheWritersClocksSay() {
    var a = new SelfUniqueAddress(new UniqueAddress(new Address("pekko", "bastion", "10.0.0.1", 25520), 1L));
    var b = new SelfUniqueAddress(new UniqueAddress(new Address("pekko", "bastion", "10.0.0.2", 25520), 2L));
    // The newer incarnation is written first, by a node whose clock is far behind; the stale one
    // later, by a node whose clock is an hour ahead. A wall clock would let the stale one win.
    UpstreamStatus newer = status("s", UpstreamStatus.READY, UpstreamStatus.version(5, 1), 1_000L);
    UpstreamStatus stale = status("s", UpstreamStatus.BACKING_OFF, UpstreamStatus.version(4, 9),
        System.currentTimeMillis() + 3_600_000L);
    LWWMap<String, UpstreamStatus> onA = LWWMap.<String, UpstreamStatus>create()
        .put(a, "s", newer, UpstreamDirectory.VERSION_CLOCK);
    LWWMap<String, UpstreamStatus> onB = LWWMap.<String, UpstreamStatus>create()
        .put(b, "s", stale, UpstreamDirectory.VERSION_CLOCK);
    assertThat(onA.merge(onB).get("s").get()).isEqualTo(newer);
    assertThat(onB.merge(onA).get("s").get()).isEqualTo(newer);
    // And a later publish of the same incarnation replaces an earlier one.
    UpstreamStatus next = status("s", UpstreamStatus.BACKING_OFF, UpstreamStatus.version(5, 2), 500L);
    assertThat(onA.put(a, "s", next, UpstreamDirectory.VERSION_CLOCK).merge(onB).get("s").get()).isEqualTo(next);
  }

  @Test
  void removedServersAreNotServedAndUnknownServersAnswerAtOnce() throws Exception {
    Path data = Files.createTempDirectory("bastion-dir-test-");
    try (FixtureServer fixture = FixtureServer.startHttp()) {
      ServerConfig alpha = fixture.config("alpha");
      ServerConfig beta = fixture.config("beta");
      // Node 1 still runs the old configuration (alpha and beta); node 2 the new one (alpha only).
      BastionTestNode n1 = BastionTestNode.startWithData(config(List.of(alpha, beta), List.of()),
          ConfigFactory.empty(), data);
      BastionTestNode n2 = null;
      BastionTestNode n3 = null;
      try {
        n1.awaitReady("alpha");
        n1.awaitReady("beta");
        long alphaIncarnation = n1.directory().statuses().get("alpha").incarnation();
        assertThat(alphaIncarnation).isPositive();

        n2 = BastionTestNode.startWithData(config(List.of(alpha), List.of(n1.clusterHostPort())),
            ConfigFactory.empty(), data);
        BastionTestNode second = n2;
        await("node 2 receives beta's replicated entry", Duration.ofSeconds(20),
            () -> second.directory().replicatedNames().contains("beta"));
        second.awaitReady("alpha");

        // (a) Node 2 serves only its own configuration, although beta's entry reached it.
        assertThat(n2.directory().statuses()).containsKey("alpha").doesNotContainKey("beta");
        assertThat(n2.directory().catalog().tools()).extracting(e -> e.target().server())
            .isNotEmpty().containsOnly("alpha");
        assertThat(n1.directory().statuses()).containsKey("beta");
        McpHttp mcp = new McpHttp();
        String session = mcp.initialize(n2.mcpUrl(), false);
        try (McpHttp.Exchange list = mcp.post(n2.mcpUrl(), session, McpHttp.request(1, "tools/list", null))) {
          String tools = list.response().toString();
          assertThat(tools).contains("alpha__test_simple_text").doesNotContain("beta__");
        }
        long started = System.nanoTime();
        try (McpHttp.Exchange call = mcp.post(n2.mcpUrl(), session, McpHttp.request(2, "tools/call",
            McpHttp.json("{\"name\":\"beta__test_simple_text\",\"arguments\":{}}")))) {
          JsonNode r = call.response(Duration.ofSeconds(10));
          assertThat(r.path("error").path("code").asInt()).as("%s", r).isEqualTo(-32602);
          assertThat(r.path("error").path("message").asText()).contains("Unknown tool");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));

        // (b) A forward to a server configured on no node is answered at once, not dropped.
        started = System.nanoTime();
        RequestStream.Event answer = ClusterSharding.get(n2.running().system())
            .entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, "ghost")
            .<RequestStream.Event>ask(replyTo -> new UpstreamServer.Forward("s1",
                JsonNodeFactory.instance.numberNode(7), "tools/call",
                McpHttp.json("{\"name\":\"t\",\"arguments\":{}}"), io.bastion.node.call.Reply.toStream(replyTo)), Duration.ofSeconds(5))
            .toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(answer).isInstanceOf(RequestStream.Final.class);
        JsonNode msg = ((RequestStream.Final) answer).json();
        assertThat(msg.path("id").asInt()).isEqualTo(7);
        assertThat(msg.path("error").path("code").asInt()).isEqualTo(-32602);
        assertThat(msg.path("error").path("message").asText()).contains("ghost");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));

        // The node that still ran beta leaves: beta's entry goes from the replicated map (its
        // owner is gone), and a node that joins afterwards never sees it.
        n1.close();
        await("beta's entry is removed once its owner has left", Duration.ofSeconds(30),
            () -> !second.directory().replicatedNames().contains("beta"));
        UpstreamStatus moved = second.awaitReady("alpha");
        // (c) alpha restarted on node 2 with a higher incarnation than on node 1.
        assertThat(moved.owner()).isEqualTo(org.apache.pekko.cluster.Cluster.get(second.running().system())
            .selfAddress().toString());
        assertThat(moved.incarnation()).isGreaterThan(alphaIncarnation);

        n3 = BastionTestNode.startWithData(config(List.of(alpha), List.of(n2.clusterHostPort())),
            ConfigFactory.empty(), data);
        BastionTestNode third = n3;
        await("node 3 sees alpha", Duration.ofSeconds(20),
            () -> third.directory().statuses().containsKey("alpha"));
        assertThat(n3.directory().replicatedNames()).doesNotContain("beta");
      } finally {
        for (BastionTestNode n : new BastionTestNode[] {n3, n2, n1}) {
          if (n != null) {
            n.close();
          }
        }
      }
    } finally {
      try (var files = Files.walk(data)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void theLocalViewIgnoresStaleVersionsAndUnconfiguredServers() throws Exception {
    try (FixtureServer fixture = FixtureServer.startHttp();
        BastionTestNode node = BastionTestNode.start(List.of(fixture.config("alpha")))) {
      UpstreamStatus ready = node.awaitReady("alpha");
      UpstreamDirectory dir = node.directory();
      // Older version, but stamped an hour in the future by a skewed clock: must not win.
      UpstreamStatus stale = new UpstreamStatus("alpha", UpstreamStatus.FAILED, "stale", ready.owner(), 3,
          List.of(), null, null, UpstreamCatalog.empty("alpha", "alpha"),
          System.currentTimeMillis() + 3_600_000L, ready.version() - 1);
      dir.apply(Map.of("alpha", stale));
      assertThat(dir.statuses().get("alpha").state()).isEqualTo(UpstreamStatus.READY);
      assertThat(dir.catalog().tools()).isNotEmpty();
      // A newer version wins even with an older timestamp.
      UpstreamStatus newer = new UpstreamStatus("alpha", UpstreamStatus.BACKING_OFF, "newer", ready.owner(), 1,
          List.of(), null, null, ready.catalog(), 0L, ready.version() + 1_000);
      dir.apply(Map.of("alpha", newer));
      assertThat(dir.statuses().get("alpha").lastError()).isEqualTo("newer");
      // A server outside this node's configuration is never served.
      dir.apply(Map.of("gone", new UpstreamStatus("gone", UpstreamStatus.READY, null, ready.owner(), 0,
          List.of(), null, null, new UpstreamCatalog("gone", "gone", ready.catalog().tools(), List.of(), List.of(), List.of()), 0L, 1L)));
      assertThat(dir.statuses()).doesNotContainKey("gone");
    }
  }

  private static BastionConfig config(List<ServerConfig> servers, List<String> seeds) {
    ClusterConfig cluster = new ClusterConfig("127.0.0.1", 0, seeds, ClusterConfig.Management.DISABLED);
    return new BastionConfig(Path.of("test.yaml"), GatewayConfig.DEFAULT, servers, List.of(), List.of(),
        List.of(), List.of(), null, null, null, List.of()).withCluster(cluster);
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out: " + what);
  }
}
