package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.OAuthUpstreamFixture;
import io.bastion.node.upstream.UpstreamStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Upstream OAuth end to end, against a real authorization server (mock-oauth2-server) and an MCP
 * server that validates its tokens (audience, scope, signature): Bastion discovers everything
 * from the upstream's 401, registers dynamically, waits in {@code needs_authorization} with an
 * authorization URL, completes code + PKCE when the "browser" comes back to {@code /oauth/callback},
 * calls tools, refreshes when the upstream refuses an expired token, retries a refresh that fails
 * transiently, and after a refused (revoked) refresh token asks for authorization again, without
 * affecting the other upstream. The node's log of the whole run holds none of the secrets used.
 */
@Timeout(180)
class UpstreamOAuthTest {

  private static final String ADMIN = "admin-token-for-oauth-tests";
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final McpHttp mcp = new McpHttp();

  static String yaml(URI guardedUrl) {
    return """
        mcp:
          servers:
            - name: guarded
              type: http
              url: %s
              auth: {type: oauth}
              backoff: {initial: 200ms, max: 1s}
            - name: everything
              type: stdio
              command: ["%s", "%s", "stdio"]
        admin:
          token: %s
        """.formatted(guardedUrl, EverythingServer.nodeBinary(), EverythingServer.script(), ADMIN);
  }

  /** A node whose one server {@code guarded} ({@code type} at {@code url}) has {@code tuning} lines, sealing with {@code key}. */
  static BastionTestNode guardedNode(String type, URI url, String key, String... tuning) {
    StringBuilder yaml = new StringBuilder("mcp:\n  servers:\n    - name: guarded\n      type: " + type
        + "\n      url: " + url + "\n      auth: {type: oauth}\n");
    for (String line : tuning) {
      yaml.append("      ").append(line).append('\n');
    }
    return BastionTestNode.startYaml(yaml.toString(), Map.of(), sealingKey(key));
  }

  static com.typesafe.config.Config sealingKey(String key) {
    return ConfigFactory.parseMap(Map.of("bastion.upstream-oauth.key", key));
  }

  /** Follows {@code url} the way an operator's browser would, then waits for the upstream to connect. */
  static void authorize(OAuthUpstreamFixture fx, BastionTestNode node, String url) throws Exception {
    assertThat(fx.authorizeLikeABrowser(url).status()).isEqualTo(200);
    node.awaitReady("guarded");
  }

  @Test
  void discoversRegistersAuthorizesRefreshesAndAsksAgainAfterRevocation() throws Exception {
    String key = TokenCipher.newKey();
    try (OAuthUpstreamFixture fx = OAuthUpstreamFixture.start(); LogCapture logs = LogCapture.open();
        BastionTestNode node = BastionTestNode.startYaml(yaml(fx.mcpUrl()), Map.of(), sealingKey(key))) {
      mcpUrl = node.mcpUrl();
      node.awaitReady("everything");

      // 1. Discovery and registration happen on their own; then an operator is needed.
      UpstreamStatus waiting = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      assertThat(fx.registeredClients()).hasSize(1);
      String url = waiting.authorizationUrl();
      assertThat(url).startsWith(fx.issuer() + "/authorize").contains("code_challenge_method=S256")
          .contains("resource=" + java.net.URLEncoder.encode(fx.mcpUrl().toString(), "UTF-8"))
          .contains("client_id=" + fx.registeredClients().get(0))
          .contains("redirect_uri=" + java.net.URLEncoder.encode(node.baseUrl() + "/oauth/callback", "UTF-8"));
      HttpResponse<String> listing = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(node.baseUrl() + "/api/v1/servers")).header("Authorization", "Bearer " + ADMIN).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode servers = McpHttp.JSON.readTree(listing.body());
      JsonNode guarded = server(servers, "guarded");
      assertThat(guarded.path("state").asText()).isEqualTo("needs_authorization");
      assertThat(guarded.path("authorizationUrl").asText()).isEqualTo(url);

      // The node's external URL is plain http: no Client ID Metadata Document is offered.
      assertThat(get(node.baseUrl() + "/oauth/client-metadata.json").statusCode()).isEqualTo(404);

      // A forged state is refused, and the server still waits.
      HttpResponse<String> forged = get(node.baseUrl() + "/oauth/callback?code=x&state=guarded.forged");
      assertThat(forged.statusCode()).isEqualTo(400);
      assertThat(forged.body()).contains("unknown or expired authorization");

      // 2. The operator's browser: the authorization server approves and redirects to the callback.
      var page = fx.authorizeLikeABrowser(url);
      assertThat(page.status()).isEqualTo(200);
      assertThat(page.body()).contains("now authorized for upstream guarded");
      node.awaitReady("guarded");
      assertThat(fx.grants()).containsExactly("authorization_code");

      String session = mcp.initialize(node.mcpUrl(), false);
      assertThat(callEcho(session, 1, "hello")).isEqualTo("Echo: hello");

      // 3. The upstream starts refusing the token (expired early): Bastion refreshes it and goes on.
      fx.expireSeenTokens();
      String again = Eventually.poll(WAIT, Duration.ofMillis(200), () -> tryEcho(session, "after expiry"),
          "Echo: after expiry"::equals, last -> "no echo after the forced expiry: " + last);
      assertThat(again).isEqualTo("Echo: after expiry");
      assertThat(fx.grants()).contains("refresh_token");

      // 4. A refresh that fails transiently is retried with backoff, never a lockout.
      fx.failRefreshTransiently(true);
      fx.expireSeenTokens();
      long refreshesBefore = fx.grants().stream().filter("refresh_token"::equals).count();
      Eventually.until(WAIT, () -> fx.grants().stream().filter("refresh_token"::equals).count()
          >= refreshesBefore + 2, "refresh retried");
      assertThat(node.directory().statuses().get("guarded").state()).isNotEqualTo(UpstreamStatus.NEEDS_AUTHORIZATION);
      fx.failRefreshTransiently(false);
      Eventually.poll(WAIT, Duration.ofMillis(200), () -> tryEcho(session, "after outage"),
          "Echo: after outage"::equals, last -> "no echo after the outage: " + last);

      // 5. The refresh token is revoked: needs authorization again; the other upstream is untouched.
      fx.refuseRefresh(true);
      fx.expireSeenTokens();
      UpstreamStatus asked = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      assertThat(asked.authorizationUrl()).isNotEqualTo(url).startsWith(fx.issuer() + "/authorize");
      assertThat(node.directory().statuses().get("everything").state()).isEqualTo(UpstreamStatus.READY);
      String everything = mcp.initialize(node.mcpUrl(), false);
      try (McpHttp.Exchange call = mcp.post(node.mcpUrl(), everything, McpHttp.request(7, "tools/call",
          McpHttp.json("{\"name\":\"everything__echo\",\"arguments\":{\"message\":\"still here\"}}")))) {
        assertThat(call.response().toString()).contains("still here");
      }

      // 6. The operator authorizes again (same registration), and tools work again.
      fx.refuseRefresh(false);
      authorize(fx, node, asked.authorizationUrl());
      assertThat(fx.registeredClients()).hasSize(1);
      String later = mcp.initialize(node.mcpUrl(), false);
      assertThat(callEcho(later, 3, "back")).isEqualTo("Echo: back");

      // 7. Revoke through the admin API: no tokens, needs authorization; without the token: refused.
      assertThat(post(node.baseUrl() + "/api/v1/servers/guarded/oauth/revoke", null).statusCode()).isEqualTo(401);
      assertThat(post(node.baseUrl() + "/api/v1/servers/guarded/oauth/revoke", ADMIN).statusCode()).isEqualTo(202);
      node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);

      // Nothing secret in the log of the whole run.
      List<String> lines = logs.lines();
      assertThat(lines).isNotEmpty();
      assertThat(fx.secrets()).hasSizeGreaterThanOrEqualTo(6);
      for (String secret : fx.secrets()) {
        assertThat(lines).noneMatch(l -> l.contains(secret));
      }
      assertThat(lines).noneMatch(l -> l.contains(key));
    }
  }

  /**
   * A call refused with 401 while Bastion believed its token valid is retried once after a refresh,
   * on the same connection (the health ping is slowed down so that the call, not a ping, meets the
   * 401); a failed refresh fails the call with a clear error, and a refused one also puts the server
   * in {@code needs_authorization}.
   */
  @Test
  void aCallRefusedWith401IsRetriedOnceAfterARefresh() throws Exception {
    String key = TokenCipher.newKey();
    try (OAuthUpstreamFixture fx = OAuthUpstreamFixture.start(); LogCapture logs = LogCapture.open();
        BastionTestNode node = guardedNode("http", fx.mcpUrl(), key, "health_interval: 10m", "backoff: {initial: 200ms, max: 1s}")) {
      mcpUrl = node.mcpUrl();
      UpstreamStatus waiting = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      authorize(fx, node, waiting.authorizationUrl());
      String session = mcp.initialize(node.mcpUrl(), false);
      assertThat(callEcho(session, 1, "first")).isEqualTo("Echo: first");
      long incarnationBefore = node.directory().statuses().get("guarded").incarnation();

      // The upstream refuses the current token: the very first call after that succeeds.
      int mark = logs.lines().size();
      fx.expireSeenTokens();
      int refusalsBefore = fx.unauthorizedAnswers();
      int callsBefore = fx.toolCalls();
      assertThat(callEcho(session, 2, "retried")).isEqualTo("Echo: retried");
      assertThat(fx.unauthorizedAnswers()).isEqualTo(refusalsBefore + 1);
      assertThat(fx.toolCalls()).isEqualTo(callsBefore + 1);
      assertThat(fx.grants()).containsExactly("authorization_code", "refresh_token");
      List<String> since = logs.lines().subList(mark, logs.lines().size());
      assertThat(since).anyMatch(l -> l.contains("refused the OAuth token of a call: refreshing it"));
      // The connection stayed up: no reconnect was needed for the retry.
      assertThat(since).noneMatch(l -> l.contains("Upstream [guarded]") && l.contains("retrying in ["));
      assertThat(node.directory().statuses().get("guarded").state()).isEqualTo(UpstreamStatus.READY);
      assertThat(node.directory().statuses().get("guarded").incarnation()).isEqualTo(incarnationBefore);

      // The refresh fails transiently: the call fails with a clear error; later calls work again.
      fx.failRefreshTransiently(true);
      fx.expireSeenTokens();
      assertThat(callEcho(session, 3, "outage")).contains("the refresh failed").contains("try again shortly")
          .doesNotContain("Echo:");
      fx.failRefreshTransiently(false);
      Eventually.poll(WAIT, Duration.ofMillis(200), () -> tryEcho(session, "after outage"),
          "Echo: after outage"::equals, last -> "no echo after the outage: " + last);

      // The refresh token is revoked: the call says the server needs authorization, and it does.
      fx.refuseRefresh(true);
      fx.expireSeenTokens();
      assertThat(callEcho(session, 4, "revoked")).contains("needs authorization by an operator")
          .contains("invalid_grant").doesNotContain("Echo:");
      UpstreamStatus asked = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      assertThat(asked.authorizationUrl()).startsWith(fx.issuer() + "/authorize");
      for (String secret : fx.secrets()) {
        assertThat(logs.lines()).noneMatch(l -> l.contains(secret));
      }
    }
  }

  /**
   * While a failed refresh waits for its backoff (here at least 3 s), calls refused with 401 fail
   * at once instead of each starting a refresh: an outage of the authorization server is not
   * hammered by the calls.
   */
  @Test
  void aRefreshThatJustFailedIsNotRepeatedForEveryRefusedCall() throws Exception {
    String key = TokenCipher.newKey();
    try (OAuthUpstreamFixture fx = OAuthUpstreamFixture.start();
        BastionTestNode node = guardedNode("http", fx.mcpUrl(), key, "health_interval: 10m", "backoff: {initial: 3s, max: 6s}")) {
      mcpUrl = node.mcpUrl();
      UpstreamStatus waiting = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      authorize(fx, node, waiting.authorizationUrl());
      String session = mcp.initialize(node.mcpUrl(), false);
      assertThat(callEcho(session, 1, "first")).isEqualTo("Echo: first");

      fx.failRefreshTransiently(true);
      fx.expireSeenTokens();
      assertThat(callEcho(session, 2, "outage")).contains("the refresh failed (refresh at").contains("503");
      long refreshes = fx.grants().stream().filter("refresh_token"::equals).count();
      assertThat(refreshes).isEqualTo(1);
      assertThat(callEcho(session, 3, "again")).contains("the refresh failed (it failed moments ago)")
          .contains("try again shortly");
      assertThat(fx.grants().stream().filter("refresh_token"::equals).count()).isEqualTo(refreshes);

      // The backoff's own retry renews the token once the server is back; calls work again.
      fx.failRefreshTransiently(false);
      Eventually.poll(WAIT, Duration.ofMillis(200), () -> tryEcho(session, "back"),
          "Echo: back"::equals, last -> "no echo after the outage: " + last);
    }
  }

  /**
   * An authorization server that announces Client ID Metadata Documents gets the document's https
   * URL as client id, and nothing is registered; every node serves the document it names.
   */
  @Test
  void withClientIdMetadataDocumentsTheDocumentUrlIsTheClientId() throws Exception {
    String key = TokenCipher.newKey();
    String cimd = "https://bastion.example.com/oauth/client-metadata.json";
    try (OAuthUpstreamFixture fx = OAuthUpstreamFixture.start()) {
      fx.clientIdMetadataDocuments(true);
      try (BastionTestNode node = BastionTestNode.startYaml(yaml(fx.mcpUrl()), Map.of(), ConfigFactory.parseMap(
          Map.of("bastion.upstream-oauth.key", key, "bastion.upstream-oauth.client-metadata-url", cimd)))) {
        mcpUrl = node.mcpUrl();
        UpstreamStatus waiting = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
        String callback = node.baseUrl() + "/oauth/callback";
        assertThat(waiting.authorizationUrl()).contains("client_id=" + java.net.URLEncoder.encode(cimd, "UTF-8"))
            .contains("redirect_uri=" + java.net.URLEncoder.encode(callback, "UTF-8"));
        assertThat(fx.registeredClients()).isEmpty();

        HttpResponse<String> docResponse = get(node.baseUrl() + "/oauth/client-metadata.json");
        assertThat(docResponse.statusCode()).isEqualTo(200);
        assertThat(docResponse.headers().firstValue("Content-Type")).hasValueSatisfying(
            t -> assertThat(t).startsWith("application/json"));
        JsonNode doc = McpHttp.JSON.readTree(docResponse.body());
        assertThat(doc.path("client_id").asText()).isEqualTo(cimd);
        assertThat(doc.path("redirect_uris").get(0).asText()).isEqualTo(callback);
        assertThat(doc.path("token_endpoint_auth_method").asText()).isEqualTo("none");

        authorize(fx, node, waiting.authorizationUrl());
        String session = mcp.initialize(node.mcpUrl(), false);
        assertThat(callEcho(session, 1, "by url")).isEqualTo("Echo: by url");
        assertThat(fx.registeredClients()).isEmpty();
      }
    }
  }

  @Test
  void aToolThatNeedsMoreScopeStepsUpTheAuthorization() throws Exception {
    String key = TokenCipher.newKey();
    try (OAuthUpstreamFixture fx = OAuthUpstreamFixture.start();
        BastionTestNode node = BastionTestNode.startYaml(yaml(fx.mcpUrl()), Map.of(), sealingKey(key))) {
      mcpUrl = node.mcpUrl();
      UpstreamStatus waiting = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      assertThat(waiting.authorizationUrl()).doesNotContain("mcp%3Aadmin");
      authorize(fx, node, waiting.authorizationUrl());
      String session = mcp.initialize(node.mcpUrl(), false);

      // 403 insufficient_scope with scope="... mcp:admin": Bastion asks for the union of scopes.
      assertThat(callTool(session, 1, "admin")).contains("insufficient_scope");
      UpstreamStatus stepUp = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      assertThat(stepUp.authorizationUrl()).contains("mcp%3Aadmin").contains("mcp%3Atools");
      authorize(fx, node, stepUp.authorizationUrl());

      String later = mcp.initialize(node.mcpUrl(), false);
      assertThat(callTool(later, 2, "admin")).isEqualTo("authorized");
      assertThat(fx.registeredClients()).hasSize(1);
    }
  }

  @Test
  void aLegacySseUpstreamIsAuthorizedTheSameWay() throws Exception {
    String key = TokenCipher.newKey();
    try (OAuthUpstreamFixture fx = OAuthUpstreamFixture.start();
        BastionTestNode node = guardedNode("sse", fx.sseUrl(), key, "backoff: {initial: 200ms, max: 1s}")) {
      mcpUrl = node.mcpUrl();
      UpstreamStatus waiting = node.awaitState("guarded", UpstreamStatus.NEEDS_AUTHORIZATION, WAIT);
      assertThat(waiting.authorizationUrl())
          .contains("resource=" + java.net.URLEncoder.encode(fx.sseUrl().toString(), "UTF-8"));
      authorize(fx, node, waiting.authorizationUrl());

      String session = mcp.initialize(node.mcpUrl(), false);
      assertThat(callEcho(session, 1, "over sse")).isEqualTo("Echo: over sse");
    }
  }

  private String callTool(String session, long id, String tool) {
    try (McpHttp.Exchange call = mcp.post(mcpUrl, session, McpHttp.request(id, "tools/call",
        McpHttp.json("{\"name\":\"guarded__" + tool + "\",\"arguments\":{}}")))) {
      JsonNode answer = call.response();
      return answer.path("result").path("content").path(0).path("text").asText(answer.toString());
    }
  }

  private static JsonNode server(JsonNode servers, String name) {
    for (JsonNode s : servers.path("servers")) {
      if (s.path("name").asText().equals(name)) {
        return s;
      }
    }
    throw new AssertionError("no server " + name + " in " + servers);
  }

  private String callEcho(String session, long id, String message) {
    try (McpHttp.Exchange call = mcp.post(mcpUrl, session, McpHttp.request(id, "tools/call",
        McpHttp.json("{\"name\":\"guarded__echo\",\"arguments\":{\"message\":\"" + message + "\"}}")))) {
      JsonNode answer = call.response();
      return answer.path("result").path("content").path(0).path("text").asText(answer.toString());
    }
  }

  private String mcpUrl;

  private String tryEcho(String session, String message) {
    try {
      return callEcho(session, System.nanoTime() & 0xFFFFFF, message);
    } catch (RuntimeException | AssertionError e) {
      return e.toString();
    }
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(String url, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
