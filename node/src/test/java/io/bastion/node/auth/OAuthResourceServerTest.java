package io.bastion.node.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.TokenRequest;
import io.bastion.node.it.TsClient;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.protocol.Json;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Bastion as an OAuth resource server, end to end: a real authorization server
 * (mock-oauth2-server on 127.0.0.1), the official TypeScript SDK client with its OAuth provider,
 * a real upstream (server-everything over stdio) and the node's real HTTP edge. Every bad token is
 * minted by the authorization server or by nimbus, never written by hand. The node's whole log
 * output of the run is captured and searched for every token and secret used.
 */
@Timeout(value = 4, unit = java.util.concurrent.TimeUnit.MINUTES)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.MethodName.class)
class OAuthResourceServerTest {
  static final String ISSUER_ID = "agents";
  static final String ADMIN = "admin-token-0123456789";
  static final String FULL_KEY = "vk-full-0123456789";
  static final String CLIENT_SECRET = "ci-agent-secret-7f3a9c";
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  MockOAuth2Server idp;
  BastionTestNode node;
  String issuer;
  String resource;
  final ConcurrentLinkedQueue<String> logLines = new ConcurrentLinkedQueue<>();
  final List<String> secrets = new ArrayList<>();
  CapturingAppender appender;

  /** Every log event of the run, formatted with its throwable. */
  final class CapturingAppender extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent e) {
      if (e.getLoggerName().startsWith("no.nav.")) {
        return; // the authorization server's own logs are not the node's
      }
      logLines.add(e.getLoggerName() + " " + e.getFormattedMessage()
          + (e.getThrowableProxy() == null ? "" : " " + ThrowableProxyUtil.asString(e.getThrowableProxy())));
    }
  }

  @BeforeAll
  void start() throws Exception {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    appender = new CapturingAppender();
    appender.setContext(ctx);
    appender.start();
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(appender);
    ctx.getLogger("io.bastion").setLevel(Level.DEBUG);

    // Netty, not OkHttp's MockWebServer: the node's Kamon brings OkHttp 4, the mock server's
    // MockWebServer wants OkHttp 5, and only one can be on the test classpath.
    idp = new MockOAuth2Server(new OAuth2Config(false, null, null, false,
        new no.nav.security.mock.oauth2.token.OAuth2TokenProvider(), java.util.Set.of(new ResourceIndicatorCallback()),
        new no.nav.security.mock.oauth2.http.NettyWrapper(null)));
    idp.start(InetAddress.getByName("127.0.0.1"), 0);
    // The mock names its issuer after the Host it is asked on: use 127.0.0.1 throughout.
    issuer = idp.issuerUrl(ISSUER_ID).toString().replace("//localhost:", "//127.0.0.1:");
    // The mock makes an issuer's signing key on its first request: let that happen before the node asks.
    assertThat(get(issuer + "/.well-known/openid-configuration", null).statusCode()).isEqualTo(200);
    node = BastionTestNode.startYaml("""
        gateway:
          oauth:
            issuer: "%s"
            required_scopes: [mcp:tools]
            clock_skew: 30s
            mappings:
              - {claim: sub, value: ci-agent, key: ci-key}
              - {claim: sub, value: ci-agent-2, key: ci-key}
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["%s", "%s", "stdio"]
        virtual_keys:
          - key_name: ci-key
            key: vk-ci-0123456789
            mcp_clients: [{name: everything, allowed_tools: ["echo"]}]
            tool_groups: [ops]
          - key_name: full
            key: %s
            mcp_clients: [{name: everything, allowed_tools: ["*"]}]
        tool_groups:
          - name: ops
            tools: [{server: everything, tools: [echo]}]
          - name: other
            tools: [{server: everything, tools: [get-sum]}]
        audit:
          flush_interval: 100ms
        admin:
          token: %s
        """.formatted(issuer, EverythingServer.nodeBinary(), EverythingServer.script(), FULL_KEY, ADMIN),
        Map.of(), com.typesafe.config.ConfigFactory.empty());
    node.awaitReady("everything");
    // Tokens are answered 503 until the node has loaded the IdP's keys in the background.
    Eventually.poll(Duration.ofSeconds(60), Eventually.EVERY, () -> List.copyOf(logLines),
        lines -> lines.stream().anyMatch(l -> l.contains("the signing keys of issuer " + issuer + " are loaded")),
        lines -> "the node did not load the IdP's keys: " + lines.stream().filter(l -> l.contains("OAuth")).toList());
    resource = node.mcpUrl();
    secrets.add(CLIENT_SECRET);
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
    if (idp != null) {
      idp.shutdown();
    }
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(appender);
    ctx.getLogger("io.bastion").setLevel(null);
  }

  /** Issues tokens as an IdP that honours RFC 8707: aud is the requested resource, scope the requested scope. */
  static final class ResourceIndicatorCallback implements OAuth2TokenCallback {
    @Override
    public String issuerId() {
      return ISSUER_ID;
    }

    @Override
    public String subject(TokenRequest r) {
      return r.getClientAuthentication() != null ? r.getClientAuthentication().getClientID().getValue()
          : r.getClientID().getValue();
    }

    @Override
    public String typeHeader(TokenRequest r) {
      return "at+jwt";
    }

    @Override
    public List<String> audience(TokenRequest r) {
      return r.getResources() == null ? List.of("default") : r.getResources().stream().map(URI::toString).toList();
    }

    @Override
    public Map<String, Object> addClaims(TokenRequest r) {
      return r.getScope() == null ? Map.of() : Map.of("scope", r.getScope().toString());
    }

    @Override
    public long tokenExpiry() {
      return 600;
    }
  }

  // ------------------------------------------------------------------ the SDK client, end to end

  @Test
  void sdkClientDiscoversTheIdpGetsATokenAndSeesOnlyItsKeysTools() throws Exception {
    JsonNode r = TsClient.runScript(Duration.ofSeconds(90), "ts-oauth-client.mjs", resource,
        "--client-id", "ci-agent", "--client-secret", CLIENT_SECRET, "--issuer", issuer, "--scope", "mcp:tools",
        "--tool", "everything__echo", "--args", "{\"message\":\"hello over oauth\"}");

    assertThat(r.has("error")).as(r.toPrettyString()).isFalse();
    assertThat(r.path("authorized").asBoolean()).isTrue();
    secrets.add(r.path("accessToken").asText());
    JWTClaimsSet claims = SignedJWT.parse(r.path("accessToken").asText()).getJWTClaimsSet();
    assertThat(claims.getAudience()).containsExactly(resource);
    assertThat(claims.getStringClaim("scope")).isEqualTo("mcp:tools");
    List<String> tools = new ArrayList<>();
    r.path("tools").forEach(t -> tools.add(t.asText()));
    assertThat(tools).containsExactly("everything__echo");
    assertThat(TsClient.text(r.path("call"))).contains("hello over oauth");

    JsonNode audit = Eventually.poll(Duration.ofSeconds(20), Eventually.EVERY,
        () -> getJson(node.baseUrl() + "/api/v1/audit?key=ci-key", "Bearer " + ADMIN),
        a -> a.path("total").asLong() > 0, a -> "no audit row for ci-key: " + a);
    JsonNode row = audit.path("records").get(0);
    assertThat(row.path("tool").asText()).isEqualTo("echo");
    assertThat(row.path("subject").asText()).isEqualTo("ci-agent");
    assertThat(row.path("outcome").asText()).isEqualTo("ok");
  }

  @Test
  void theLegacySseTransportTakesTheSameTokens() throws Exception {
    String token = token("ci-agent", resource, "mcp:tools", 600);
    secrets.add(token);

    JsonNode r = TsClient.ok(TsClient.run(node.sseUrl(), "call", "--transport", "sse",
        "--header", "Authorization: Bearer " + token, "--tool", "everything__echo", "--args", "{\"message\":\"sse\"}"));

    assertThat(TsClient.text(r.path("result"))).contains("sse");
  }

  @Test
  void virtualKeysStillWorkBesideOAuth() {
    JsonNode r = TsClient.ok(TsClient.run(resource, "list-tools", "--header", "Authorization: Bearer " + FULL_KEY));
    List<String> names = new ArrayList<>();
    r.path("names").forEach(n -> names.add(n.asText()));
    assertThat(names).contains("everything__echo", "everything__get-sum");
  }

  // ------------------------------------------------------------------ discovery

  @Test
  void protectedResourceMetadataIsServedPathAwareAndAtTheRoot() throws Exception {
    for (String path : List.of("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource")) {
      HttpResponse<String> r = get(node.baseUrl() + path, null);
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      JsonNode m = Json.MAPPER.readTree(r.body());
      assertThat(m.path("resource").asText()).isEqualTo(resource);
      assertThat(m.path("authorization_servers").get(0).asText()).isEqualTo(issuer);
      assertThat(m.path("scopes_supported").get(0).asText()).isEqualTo("mcp:tools");
      assertThat(m.path("bearer_methods_supported").get(0).asText()).isEqualTo("header");
    }
    JsonNode group = Json.MAPPER.readTree(get(node.baseUrl() + "/.well-known/oauth-protected-resource/mcp/ops", null).body());
    assertThat(group.path("resource").asText()).isEqualTo(resource + "/ops");
    assertThat(get(node.baseUrl() + "/.well-known/oauth-protected-resource/elsewhere", null).statusCode()).isEqualTo(404);
  }

  @Test
  void noCredentialGetsA401ThatPointsAtTheMetadata() throws Exception {
    HttpResponse<String> r = initialize(null, Map.of());

    assertThat(r.statusCode()).isEqualTo(401);
    String challenge = r.headers().firstValue("WWW-Authenticate").orElseThrow();
    assertThat(challenge).startsWith("Bearer ").doesNotContain("error=")
        .contains("resource_metadata=\"" + node.baseUrl() + "/.well-known/oauth-protected-resource/mcp\"")
        .contains("scope=\"mcp:tools\"");
  }

  // ------------------------------------------------------------------ refusals

  @Test
  void aValidTokenOpensASession() throws Exception {
    String token = token("ci-agent", resource, "mcp:tools", 600);
    secrets.add(token);

    HttpResponse<String> r = initialize("Bearer " + token, Map.of());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Mcp-Session-Id")).isPresent();
  }

  @Test
  void anExpiredTokenIsRefused() throws Exception {
    String token = token("ci-agent", resource, "mcp:tools", -3600);
    assertRefused(token, Map.of(), 401, "invalid_token", "expired");
  }

  @Test
  void aTokenForAnotherAudienceIsRefused() throws Exception {
    String token = token("ci-agent", "https://other.example.com/mcp", "mcp:tools", 600);
    assertRefused(token, Map.of(), 401, "invalid_token", "another resource");
  }

  @Test
  void aTokenFromAnotherIssuerIsRefused() throws Exception {
    String token = idp.anyToken(okhttp3.HttpUrl.parse(issuer.replace("/" + ISSUER_ID, "/elsewhere")),
        Map.of("sub", "ci-agent", "aud", resource, "scope", "mcp:tools"), Duration.ofMinutes(10)).serialize();
    assertRefused(token, Map.of(), 401, "invalid_token", null);
  }

  @Test
  void aTokenSignedByAnUnknownKeyIsRefused() throws Exception {
    RSAKey rogue = new RSAKeyGenerator(2048).keyID("rogue-key").generate();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(rogue.getKeyID()).build(), claims());
    jwt.sign(new RSASSASigner(rogue));
    assertRefused(jwt.serialize(), Map.of(), 401, "invalid_token", "signature");
  }

  @Test
  void anUnsignedTokenIsRefused() throws Exception {
    assertRefused(new PlainJWT(claims()).serialize(), Map.of(), 401, "invalid_token", "alg none");
  }

  @Test
  void aKeyAndATokenTogetherAreRefused() throws Exception {
    String token = token("ci-agent", resource, "mcp:tools", 600);
    assertRefused(token, Map.of("x-api-key", FULL_KEY), 400, "invalid_request", "both");
  }

  @Test
  void aTokenWithoutTheRequiredScopeGetsA403StepUpChallenge() throws Exception {
    String token = token("ci-agent", resource, "profile", 600);
    HttpResponse<String> r = assertRefused(token, Map.of(), 403, "insufficient_scope", null);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("scope=\"mcp:tools\"");
  }

  @Test
  void aTokenNoMappingCoversIsForbidden() throws Exception {
    String token = token("stranger", resource, "mcp:tools", 600);
    secrets.add(token);
    HttpResponse<String> r = initialize("Bearer " + token, Map.of());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("no virtual key is mapped");
  }

  @Test
  void aGroupPathWantsATokenForThatGroupsResource() throws Exception {
    String forGroup = token("ci-agent", resource + "/ops", "mcp:tools", 600);
    String forMcp = token("ci-agent", resource, "mcp:tools", 600);
    secrets.add(forGroup);
    secrets.add(forMcp);

    assertThat(post(resource + "/ops", "Bearer " + forGroup, null, INITIALIZE).statusCode()).isEqualTo(200);

    HttpResponse<String> wrong = post(resource + "/ops", "Bearer " + forMcp, null, INITIALIZE);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("error=\"invalid_token\"")
        .contains("resource_metadata=\"" + node.baseUrl() + "/.well-known/oauth-protected-resource/mcp/ops\"");

    String forOther = token("ci-agent", resource + "/other", "mcp:tools", 600);
    secrets.add(forOther);
    HttpResponse<String> notAttached = post(resource + "/other", "Bearer " + forOther, null, INITIALIZE);
    assertThat(notAttached.statusCode()).isEqualTo(403);
    assertThat(notAttached.body()).contains("not attached to tool group other");
  }

  @Test
  void aSessionIsBoundToTheTokensSubjectNotJustItsKey() throws Exception {
    String alice = token("ci-agent", resource, "mcp:tools", 600);
    String bob = token("ci-agent-2", resource, "mcp:tools", 600);
    secrets.add(alice);
    secrets.add(bob);
    HttpResponse<String> opened = post(resource, "Bearer " + alice, null, INITIALIZE);
    assertThat(opened.statusCode()).isEqualTo(200);
    String session = opened.headers().firstValue("Mcp-Session-Id").orElseThrow();
    String list = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}";

    // Same key (both subjects map to ci-key), another subject: the session does not exist for bob.
    assertThat(post(resource, "Bearer " + bob, session, list).statusCode()).isEqualTo(404);
    HttpResponse<String> own = post(resource, "Bearer " + alice, session, list);
    assertThat(own.statusCode()).isEqualTo(200);
    assertThat(own.body()).contains("everything__echo").doesNotContain("everything__get-sum");
  }

  @Test
  void aWrongVirtualKeyGetsTheOAuthChallengeToo() throws Exception {
    HttpResponse<String> r = initialize("Bearer vk-not-a-key-0000", Map.of());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("error=\"invalid_token\"")
        .contains("resource_metadata=");
  }

  /** Runs last (methods run in name order): every token and secret of the tests above. */
  @Test
  void zzNoTokenOrSecretReachedTheLogs() {
    assertThat(secrets).hasSizeGreaterThan(8);
    // The refusals were logged (at DEBUG, captured here), with their reasons and nothing else.
    assertThat(logLines).anyMatch(l -> l.contains("OAuth token refused: the access token has expired"));
    assertNoSecretsLogged();
  }

  @AfterAll
  void finallyNoSecretsInTheLogs() {
    assertNoSecretsLogged();
  }

  private void assertNoSecretsLogged() {
    assertThat(logLines).as("the node logged something during the run").isNotEmpty();
    String all = String.join("\n", logLines);
    for (String secret : secrets) {
      assertThat(secret).isNotBlank();
      assertThat(all).as("a token or secret in the node's logs").doesNotContain(secret);
      // A JWT's signature part alone identifies it too.
      if (secret.chars().filter(c -> c == '.').count() == 2 && !secret.endsWith(".")) {
        assertThat(all).doesNotContain(secret.substring(secret.lastIndexOf('.') + 1));
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  /** A token the authorization server signs with its own key for issuer {@link #issuer}. */
  private String token(String subject, String audience, String scope, long expirySeconds) {
    return idp.anyToken(okhttp3.HttpUrl.parse(issuer), Map.of("sub", subject, "aud", audience, "scope", scope),
        Duration.ofSeconds(expirySeconds)).serialize();
  }

  private JWTClaimsSet claims() {
    return new JWTClaimsSet.Builder().issuer(issuer).audience(resource).subject("ci-agent")
        .claim("scope", "mcp:tools").issueTime(new Date())
        .expirationTime(new Date(System.currentTimeMillis() + 600_000)).build();
  }

  private HttpResponse<String> assertRefused(String token, Map<String, String> extra, int status, String error,
      String inDescription) throws Exception {
    secrets.add(token);
    HttpResponse<String> r = initialize("Bearer " + token, extra);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    String challenge = r.headers().firstValue("WWW-Authenticate").orElseThrow();
    assertThat(challenge).startsWith("Bearer ").contains("error=\"" + error + "\"")
        .contains("resource_metadata=\"" + node.baseUrl() + "/.well-known/oauth-protected-resource/mcp\"");
    if (inDescription != null) {
      assertThat(challenge).contains(inDescription);
    }
    assertThat(r.body()).doesNotContain(token);
    return r;
  }

  static final String INITIALIZE = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
      + "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
      + "\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}";

  private static HttpResponse<String> post(String url, String authorization, String session, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .header("Authorization", authorization).POST(HttpRequest.BodyPublishers.ofString(body));
    if (session != null) {
      b.header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-11-25");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> initialize(String authorization, Map<String, String> extra) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(resource)).timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
            + "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
            + "\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}"));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    extra.forEach(b::header);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String url, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET();
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode getJson(String url, String authorization) {
    try {
      return Json.MAPPER.readTree(get(url, authorization).body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
