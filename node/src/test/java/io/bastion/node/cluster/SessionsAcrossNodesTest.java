package io.bastion.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.bastion.config.BastionConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.node.session.LocalSessions;
import io.bastion.node.session.RemoteSessions;
import io.bastion.node.testkit.BastionTestCluster;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.McpHttp.Exchange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sessions served by a node that does not run their entity, on two real nodes with a 2 s session
 * idle timeout: such a node validates the session from its {@link RemoteSessions} cache after its
 * first request, yet the session stays exactly as alive as its entity says. A session in use (on
 * its own node or through another's cache) does not idle out; an unused one idles out everywhere;
 * a DELETE on any node is seen at once on every node that cached the session.
 */
@Timeout(180)
class SessionsAcrossNodesTest {
  private static final Duration IDLE = Duration.ofSeconds(2);
  private static final McpHttp mcp = new McpHttp();
  private static BastionTestCluster cluster;

  @BeforeAll
  static void startCluster() {
    GatewayConfig gateway = new GatewayConfig(GatewayConfig.DEFAULT_HOST, 0,
        GatewayConfig.DEFAULT_MAX_REQUEST_BYTES, List.of(), IDLE, null);
    BastionConfig base = new BastionConfig(Path.of("sessions-across-nodes.yaml"), gateway, List.of(),
        null, null, null, null, null, null, null, null);
    cluster = BastionTestCluster.start(2, base, BastionTestCluster.fastFailover());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static boolean entityRunsOn(BastionTestNode n, String session) {
    return LocalSessions.get(n.running().system()).find(session).isPresent();
  }

  private static RemoteSessions cacheOf(BastionTestNode n) {
    return RemoteSessions.get(n.running().system());
  }

  /** A session opened through {@code edge} whose entity runs on {@code home} (ids hash to shards: a few tries). */
  private static String sessionLivingOn(BastionTestNode home, BastionTestNode edge) {
    for (int i = 0; i < 64; i++) {
      String s = mcp.initialize(edge.mcpUrl(), false);
      if (entityRunsOn(home, s)) {
        return s;
      }
      try (Exchange d = mcp.delete(edge.mcpUrl(), s)) {
        assertThat(d.status).isBetween(200, 204);
      }
    }
    throw new AssertionError("no session landed on " + home.baseUrl() + " in 64 tries");
  }

  private static int list(BastionTestNode n, String session) {
    try (Exchange e = mcp.post(n.mcpUrl(), session, McpHttp.request(1, "tools/list", null))) {
      if (e.status == 200) {
        assertThat(e.response().has("result")).as("tools/list on %s", n.baseUrl()).isTrue();
      }
      return e.status;
    }
  }

  /** Uses {@code session} through {@code n} every 200 ms for three idle timeouts; every call must be served. */
  private static void keepUsing(BastionTestNode n, String session) throws InterruptedException {
    long until = System.nanoTime() + IDLE.multipliedBy(3).toNanos();
    while (System.nanoTime() < until) {
      assertThat(list(n, session)).as("session %s in use through %s", session, n.baseUrl()).isEqualTo(200);
      Thread.sleep(200);
    }
  }

  @Test
  void aSessionInUseOnAnotherNodeIsServedFromItsCacheAndDoesNotIdleOut() throws InterruptedException {
    BastionTestNode home = cluster.node(0);
    BastionTestNode other = cluster.node(1);
    String session = sessionLivingOn(home, other);
    assertThat(list(other, session)).isEqualTo(200);
    Eventually.until(Duration.ofSeconds(10), () -> cacheOf(other).use(session).isPresent(),
        "the entity tells the node that used the session");
    keepUsing(other, session);
    assertThat(entityRunsOn(home, session)).as("the entity is still open").isTrue();
  }

  /** Regression: a session used only on the node of its entity (validated without an ask) idled out in use. */
  @Test
  void aSessionInUseOnItsOwnNodeDoesNotIdleOut() throws InterruptedException {
    BastionTestNode home = cluster.node(1);
    String session = sessionLivingOn(home, home);
    keepUsing(home, session);
    assertThat(entityRunsOn(home, session)).isTrue();
  }

  @Test
  void anUnusedSessionIdlesOutOnEveryNode() {
    BastionTestNode home = cluster.node(0);
    BastionTestNode other = cluster.node(1);
    String session = sessionLivingOn(home, other);
    assertThat(list(other, session)).isEqualTo(200);
    Eventually.until(Duration.ofSeconds(10), () -> cacheOf(other).use(session).isPresent(), "cached");

    Eventually.until(IDLE.multipliedBy(10),
        () -> !entityRunsOn(home, session) && cacheOf(other).use(session).isEmpty(),
        "the idle session is gone from its node and from the cache");
    assertThat(list(other, session)).isEqualTo(404);
    assertThat(list(home, session)).isEqualTo(404);
  }

  @Test
  void aDeleteOnAnyNodeIsSeenAtOnceByANodeThatCachedTheSession() {
    BastionTestNode home = cluster.node(0);
    BastionTestNode other = cluster.node(1);
    for (int i = 0; i < 5; i++) {
      // Deleted on the entity's node, then used at once on the node that cached it.
      String session = sessionLivingOn(home, other);
      assertThat(list(other, session)).isEqualTo(200);
      Eventually.until(Duration.ofSeconds(10), () -> cacheOf(other).use(session).isPresent(), "cached");
      try (Exchange d = mcp.delete(home.mcpUrl(), session)) {
        assertThat(d.status).isBetween(200, 204);
      }
      assertThat(list(other, session)).as("round %d: deleted on the entity's node", i).isEqualTo(404);

      // Deleted through the node that cached it.
      String second = sessionLivingOn(home, other);
      assertThat(list(other, second)).isEqualTo(200);
      Eventually.until(Duration.ofSeconds(10), () -> cacheOf(other).use(second).isPresent(), "cached");
      try (Exchange d = mcp.delete(other.mcpUrl(), second)) {
        assertThat(d.status).isBetween(200, 204);
      }
      assertThat(list(other, second)).as("round %d: deleted through the caching node", i).isEqualTo(404);
      assertThat(list(home, second)).isEqualTo(404);
    }
  }
}
