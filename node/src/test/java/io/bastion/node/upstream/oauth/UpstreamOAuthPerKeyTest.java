package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.OAuthUpstreamFixture;
import io.bastion.node.upstream.UpstreamStatus;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code auth: {type: oauth, per_key: true}} end to end: one upstream token per virtual key, with
 * a real authorization server (mock-oauth2-server), an MCP server that validates every token and
 * answers {@code whoami} with the token's subject, and the official Java SDK as the clients.
 *
 * <p>The operator authorizes the server's own token, which lists the catalog. A key's first call
 * gets a tool error carrying that key's authorization URL; after its holder approves, the key's
 * calls carry its own token (a subject no other key and not the operator has). Revoking one key
 * leaves the other key and the server untouched. Nothing secret reaches the log.
 */
@Timeout(180)
class UpstreamOAuthPerKeyTest {

  private static final String ADMIN = "admin-token-for-per-key-tests";
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final McpSchema.CallToolRequest WHOAMI = new McpSchema.CallToolRequest("guarded__whoami", Map.of());

  static String yaml(URI guardedUrl) {
    return """
        mcp:
          servers:
            - name: guarded
              type: http
              url: %s
              auth: {type: oauth, per_key: true}
              backoff: {initial: 200ms, max: 1s}
              health_interval: 1s
        virtual_keys:
          - key_name: alice
            key: vk-alice-per-key
            mcp_clients: [{name: guarded, allowed_tools: ["*"]}]
          - key_name: bob
            key: vk-bob-per-key
            mcp_clients: [{name: guarded, allowed_tools: ["*"]}]
        admin:
          token: %s
        """.formatted(guardedUrl, ADMIN);
  }

  @Test
  void eachKeyCallsWithTheTokenItsHolderAuthorized() throws Exception {
    String sealing = TokenCipher.newKey();
    try (OAuthUpstreamFixture fx = OAuthUpstreamFixture.start(); LogCapture logs = LogCapture.open();
        BastionTestNode node = BastionTestNode.startYaml(yaml(fx.mcpUrl()), Map.of(),
            UpstreamOAuthTest.sealingKey(sealing))) {
      // The server's own token, authorized by the operator, lists the catalog.
      UpstreamStatus operator = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      UpstreamOAuthTest.authorize(fx, node, operator.authorizationUrl());
      assertThat(fx.registeredClients()).hasSize(1);
      String operatorSubject = "you are " + fx.registeredClients().get(0);

      try (McpSyncClient alice = client(node, "vk-alice-per-key"); McpSyncClient bob = client(node, "vk-bob-per-key")) {
        assertThat(alice.listTools().tools()).extracting(McpSchema.Tool::name).contains("guarded__whoami");

        // 1. Alice's first call: a tool error with her own authorization URL, nothing sent upstream.
        int upstreamCalls = fx.toolCalls();
        McpSchema.CallToolResult first = alice.callTool(WHOAMI);
        String aliceUrl = authorizationUrlOf(first);
        assertThat(text(first)).contains("needs your authorization").contains("key alice").contains(aliceUrl);
        assertThat(aliceUrl).startsWith(fx.issuer() + "/authorize").isNotEqualTo(operator.authorizationUrl())
            .contains("state=" + URLEncoder.encode("guarded@alice.", StandardCharsets.UTF_8));
        assertThat(fx.toolCalls()).isEqualTo(upstreamCalls);
        JsonNode aliceStatus = getJson(node.baseUrl() + "/api/v1/servers/guarded/oauth/keys/alice", ADMIN);
        assertThat(aliceStatus.path("state").asText()).isEqualTo(UpstreamStatus.NEEDS_AUTHORIZATION);
        assertThat(aliceStatus.path("authorizationUrl").asText()).isEqualTo(aliceUrl);

        // 2. Alice's browser approves; her calls now carry her token.
        var page = fx.authorizeLikeABrowser(aliceUrl);
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("now authorized for upstream guarded@alice");
        String aliceSubject = Eventually.poll(WAIT, Duration.ofMillis(200), () -> text(alice.callTool(WHOAMI)),
            t -> t.startsWith("you are "), last -> "alice never called with her token: " + last);
        assertThat(aliceSubject).isNotEqualTo(operatorSubject);
        assertThat(getJson(node.baseUrl() + "/api/v1/servers/guarded/oauth/keys/alice", ADMIN)
            .path("state").asText()).isEqualTo(UpstreamStatus.READY);

        // 3. Bob is not authorized by Alice's approval: his own URL, his own token.
        McpSchema.CallToolResult bobFirst = bob.callTool(WHOAMI);
        String bobUrl = authorizationUrlOf(bobFirst);
        assertThat(bobUrl).isNotEqualTo(aliceUrl).contains("state=" + URLEncoder.encode("guarded@bob.", StandardCharsets.UTF_8));
        assertThat(fx.authorizeLikeABrowser(bobUrl).status()).isEqualTo(200);
        String bobSubject = Eventually.poll(WAIT, Duration.ofMillis(200), () -> text(bob.callTool(WHOAMI)),
            t -> t.startsWith("you are "), last -> "bob never called with his token: " + last);
        assertThat(bobSubject).isNotEqualTo(aliceSubject).isNotEqualTo(operatorSubject);
        // Without a configured client id, each key registered a client of its own (docs/oauth.md).
        assertThat(fx.registeredClients()).hasSize(3);
        assertThat(text(alice.callTool(WHOAMI))).isEqualTo(aliceSubject);

        // 4. Revoking Alice's token: she is asked again; Bob and the server's own token are untouched.
        assertThat(UpstreamOAuthTest.post(node.baseUrl() + "/api/v1/servers/guarded/oauth/keys/alice/revoke", null).statusCode())
            .isEqualTo(401);
        assertThat(UpstreamOAuthTest.post(node.baseUrl() + "/api/v1/servers/guarded/oauth/keys/alice/revoke", ADMIN).statusCode())
            .isEqualTo(202);
        String again = Eventually.poll(WAIT, Duration.ofMillis(200), () -> text(alice.callTool(WHOAMI)),
            t -> t.contains("needs your authorization"), last -> "alice still called after revocation: " + last);
        assertThat(again).contains("key alice");
        assertThat(text(bob.callTool(WHOAMI))).isEqualTo(bobSubject);
        assertThat(node.directory().statuses().get("guarded").state()).isEqualTo(UpstreamStatus.READY);
      }

      // 5. Bob's key is deleted through the admin API: his entity notices and stops (no connection
      //    left behind), and there is nothing to ask about any more.
      HttpResponse<String> deleted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create(node.baseUrl() + "/api/v1/keys/bob")).header("Authorization", "Bearer " + ADMIN).DELETE().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(deleted.statusCode()).as(deleted.body()).isBetween(200, 204);
      Eventually.until(WAIT, () -> logs.lines().stream()
          .anyMatch(l -> l.contains("Upstream [guarded@bob]: configuration changed or removed")), "bob's entity stopped");
      assertThat(get(node.baseUrl() + "/api/v1/servers/guarded/oauth/keys/bob", ADMIN).statusCode()).isEqualTo(404);

      // Keys and servers that do not exist have no per-key entity; a forged state starts nothing.
      assertThat(get(node.baseUrl() + "/api/v1/servers/guarded/oauth/keys/nobody", ADMIN).statusCode()).isEqualTo(404);
      assertThat(get(node.baseUrl() + "/oauth/callback?code=x&state=guarded%40nobody.forged", null).statusCode())
          .isEqualTo(400);
      // The keyed entities publish nothing: clients see one server.
      assertThat(node.directory().statuses().keySet()).containsExactly("guarded");

      List<String> lines = logs.lines();
      assertThat(fx.secrets()).hasSizeGreaterThanOrEqualTo(6);
      for (String secret : fx.secrets()) {
        assertThat(lines).noneMatch(l -> l.contains(secret));
      }
      assertThat(lines).noneMatch(l -> l.contains(sealing));
    }
  }

  private static McpSyncClient client(BastionTestNode node, String key) {
    var transport = HttpClientStreamableHttpTransport.builder(node.baseUrl()).endpoint("/mcp")
        .httpRequestCustomizer((b, method, uri, body, ctx) -> b.header("x-api-key", key)).build();
    McpSyncClient client = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(30)).build();
    client.initialize();
    return client;
  }

  private static String text(McpSchema.CallToolResult r) {
    return ((McpSchema.TextContent) r.content().get(0)).text();
  }

  /** The authorization URL a key's refused call carries, machine-readable in {@code _meta}. */
  @SuppressWarnings("unchecked")
  private static String authorizationUrlOf(McpSchema.CallToolResult r) {
    assertThat(r.isError()).isTrue();
    assertThat(r.meta()).containsKey("io.bastion/error");
    Map<String, Object> error = (Map<String, Object>) r.meta().get("io.bastion/error");
    assertThat(error).containsEntry("reason", "upstream_unavailable").containsKey("authorizationUrl");
    return (String) error.get("authorizationUrl");
  }

  private static JsonNode getJson(String url, String token) throws Exception {
    HttpResponse<String> r = get(url, token);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return McpHttp.JSON.readTree(r.body());
  }

  private static HttpResponse<String> get(String url, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
