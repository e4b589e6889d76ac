package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.node.testkit.BastionTestCluster;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.OAuthUpstreamFixture;
import io.bastion.node.upstream.UpstreamStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Leave;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Upstream OAuth in a 2-node cluster (PostgreSQL journal): the callback reaches the node that does
 * not own the upstream and still completes its authorization; then the owner leaves, and the other
 * node takes the entity over with the same (persisted, sealed) tokens: no new authorization, no
 * new registration, tools work at once.
 */
@Timeout(180)
class UpstreamOAuthClusterTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private final McpHttp mcp = new McpHttp();

  @Test
  void callbackOnAnyNodeAndTheTokenMovesWithTheEntityWhenItsOwnerLeaves() throws Exception {
    String key = TokenCipher.newKey();
    try (OAuthUpstreamFixture fx = OAuthUpstreamFixture.start()) {
      BastionConfig base = ConfigLoader.parse("""
          mcp:
            servers:
              - name: guarded
                type: http
                url: %s
                auth: {type: oauth}
                backoff: {initial: 200ms, max: 1s}
          """.formatted(fx.mcpUrl()), Path.of("oauth-cluster.yaml"), Map.of());
      try (BastionTestCluster cluster = BastionTestCluster.start(2, base,
          ConfigFactory.parseMap(Map.of("bastion.upstream-oauth.key", key)).withFallback(BastionTestCluster.fastFailover()))) {
        UpstreamStatus waiting = cluster.node(0).awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
        BastionTestNode owner = ownerOf(cluster, waiting.owner());
        BastionTestNode other = cluster.running().stream().filter(n -> n != owner).findFirst().orElseThrow();

        // The provider's redirect reaches the node that does not own the upstream.
        var page = fx.authorizeLikeABrowser(waiting.authorizationUrl(), other.baseUrl());
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("now authorized for upstream guarded");
        other.awaitReady("guarded");
        assertThat(echo(other, "before")).isEqualTo("Echo: before");
        List<String> grantsBefore = fx.grants();

        // The owner leaves; the survivor recovers the entity, tokens included, from the journal.
        Cluster.get(owner.running().system()).manager()
            .tell(Leave.create(Cluster.get(owner.running().system()).selfMember().address()));
        owner.running().system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        String ownerAddress = waiting.owner();
        UpstreamStatus moved = Eventually.poll(WAIT, Duration.ofMillis(100),
            () -> other.directory().statuses().get("guarded"),
            s -> s != null && s.ready() && !ownerAddress.equals(s.owner()), s -> "guarded did not move: " + s);
        assertThat(moved.owner()).isNotEqualTo(ownerAddress);
        assertThat(echo(other, "after")).isEqualTo("Echo: after");
        assertThat(fx.grants()).isEqualTo(grantsBefore);
        assertThat(fx.registeredClients()).hasSize(1);
      }
    }
  }

  private static BastionTestNode ownerOf(BastionTestCluster cluster, String address) {
    return cluster.running().stream()
        .filter(n -> Cluster.get(n.running().system()).selfMember().address().toString().equals(address))
        .findFirst().orElseThrow(() -> new AssertionError("no running node at " + address));
  }

  private String echo(BastionTestNode via, String message) {
    String session = mcp.initialize(via.mcpUrl(), false);
    try (McpHttp.Exchange call = mcp.post(via.mcpUrl(), session, McpHttp.request(1, "tools/call",
        McpHttp.json("{\"name\":\"guarded__echo\",\"arguments\":{\"message\":\"" + message + "\"}}")))) {
      JsonNode answer = call.response(WAIT);
      return answer.path("result").path("content").path(0).path("text").asText(answer.toString());
    }
  }
}
