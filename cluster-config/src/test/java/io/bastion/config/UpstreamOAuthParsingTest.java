package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UpstreamOAuthParsingTest {

  private static String httpServer(String... authLines) {
    return "mcp:\n  servers:\n    - name: gh\n      type: http\n      url: https://mcp.example.com/mcp\n"
        + "      auth:\n" + String.join("", java.util.Arrays.stream(authLines).map(l -> "        " + l + "\n").toList());
  }

  @Test
  void minimalOAuthDiscoversEverything() {
    ServerConfig s = Yaml.parse(httpServer("type: oauth")).server("gh").orElseThrow();

    assertThat(s.oauth()).isEqualTo(OAuthConfig.discovered());
    assertThat(s.oauth().grant()).isEqualTo(OAuthConfig.Grant.AUTHORIZATION_CODE);
    assertThat(s.oauth().clientName()).isEqualTo("Bastion");
  }

  @Test
  void perKeyIsReadAndNeedsTheAuthorizationCodeGrant() {
    assertThat(Yaml.parse(httpServer("type: oauth")).server("gh").orElseThrow().oauth().perKey()).isFalse();
    assertThat(Yaml.parse(httpServer("type: oauth", "per_key: true")).server("gh").orElseThrow().oauth().perKey())
        .isTrue();
    assertThat(Yaml.problems(httpServer("type: oauth", "per_key: yes please"))).containsExactly(
        "mcp.servers[0].auth.per_key: expected true or false, got the string \"yes please\"");
    assertThat(Yaml.problems(httpServer("type: oauth", "per_key: true", "grant: client_credentials",
        "client_id: c", "client_secret: s"))).containsExactly("mcp.servers[0].auth.per_key: needs grant"
            + " authorization_code (a person authorizes each key; client_credentials has no person to ask)");
  }

  /** A fresh key as PKCS#8 PEM, the form {@code openssl genpkey} writes. */
  static String pem(String algorithm, int size) throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance(algorithm);
    g.initialize(size);
    return "-----BEGIN PRIVATE KEY-----\n"
        + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(g.generateKeyPair().getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }

  @Test
  void privateKeyJwtReadsTheKeyFromTheEnvironment() throws Exception {
    String ec = pem("EC", 256);
    java.util.Map<String, String> env = java.util.Map.of("PK", ec, "RSA_PK", pem("RSA", 2048));
    OAuthConfig o = Yaml.parse(httpServer("type: oauth", "grant: client_credentials", "client_id: gw",
        "token_endpoint_auth: private_key_jwt", "private_key: ${PK}"), env).server("gh").orElseThrow().oauth();

    assertThat(o.tokenEndpointAuth()).isEqualTo("private_key_jwt");
    assertThat(o.privateKey()).isEqualTo(ec);
    assertThat(o.signingAlgorithm()).isNull();
    assertThat(o.assertionAudience()).isEqualTo("issuer");
    assertThat(PrivateKeys.defaultAlgorithm(PrivateKeys.parse(o.privateKey()))).isEqualTo("ES256");
    assertThat(o.toString()).contains("privateKey=***").doesNotContain(ec.substring(30, 60));

    OAuthConfig rsa = Yaml.parse(httpServer("type: oauth", "client_id: gw", "token_endpoint_auth: private_key_jwt",
        "private_key: ${RSA_PK}", "signing_algorithm: PS256", "assertion_audience: token_endpoint"), env)
        .server("gh").orElseThrow().oauth();
    assertThat(rsa.signingAlgorithm()).isEqualTo("PS256");
    assertThat(rsa.assertionAudience()).isEqualTo("token_endpoint");
    assertThat(PrivateKeys.defaultAlgorithm(PrivateKeys.parse(rsa.privateKey()))).isEqualTo("RS256");
  }

  @Test
  void privateKeyJwtProblemsAreReportedAtTheirPathWithoutTheKey() throws Exception {
    java.util.Map<String, String> env = java.util.Map.of("PK", pem("EC", 256), "BAD", "-----BEGIN PRIVATE KEY-----\n"
        + "bm90IGEga2V5\n-----END PRIVATE KEY-----", "OLD", "-----BEGIN RSA PRIVATE KEY-----\nxyz\n-----END RSA PRIVATE KEY-----");
    assertThat(Yaml.failure(httpServer("type: oauth", "client_id: gw", "token_endpoint_auth: private_key_jwt"), env)
        .problems()).extracting(p -> p.path() + ": " + p.problem()).containsExactly(
        "mcp.servers[0].auth.token_endpoint_auth: private_key_jwt needs private_key (a PKCS#8 PEM key, usually ${ENV})");
    assertThat(Yaml.failure(httpServer("type: oauth", "token_endpoint_auth: private_key_jwt", "private_key: ${PK}"),
        env).problems()).extracting(p -> p.path() + ": " + p.problem()).containsExactly(
        "mcp.servers[0].auth.token_endpoint_auth: private_key_jwt needs client_id (the key belongs to a registered client)");
    assertThat(Yaml.failure(httpServer("type: oauth", "client_id: gw", "private_key: ${PK}"), env).problems())
        .extracting(p -> p.path() + ": " + p.problem())
        .containsExactly("mcp.servers[0].auth.private_key: needs token_endpoint_auth: private_key_jwt");
    assertThat(Yaml.failure(httpServer("type: oauth", "client_id: gw", "token_endpoint_auth: private_key_jwt",
        "private_key: ${BAD}"), env).problems()).extracting(p -> p.path() + ": " + p.problem()).containsExactly(
        "mcp.servers[0].auth.private_key: the PEM key is neither an RSA nor an EC private key");
    assertThat(Yaml.failure(httpServer("type: oauth", "client_id: gw", "token_endpoint_auth: private_key_jwt",
        "private_key: ${OLD}"), env).problems()).extracting(p -> p.path() + ": " + p.problem()).containsExactly(
        "mcp.servers[0].auth.private_key: expected a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----), got a traditional"
            + " one; convert it with openssl pkcs8 -topk8 -nocrypt");
    assertThat(Yaml.failure(httpServer("type: oauth", "client_id: gw", "token_endpoint_auth: private_key_jwt",
        "private_key: ${PK}", "signing_algorithm: RS256"), env).problems()).extracting(p -> p.path() + ": " + p.problem())
        .containsExactly("mcp.servers[0].auth.signing_algorithm: RS256 does not fit the private_key (RS and PS need"
            + " an RSA key, ES an EC key)");
    assertThat(Yaml.failure(httpServer("type: oauth", "client_id: gw", "token_endpoint_auth: private_key_jwt",
        "private_key: ${PK}", "assertion_audience: everyone"), env).problems()).extracting(p -> p.path() + ": " + p.problem())
        .containsExactly("mcp.servers[0].auth.assertion_audience: expected issuer or token_endpoint, got \"everyone\"");
  }

  @Test
  void serverWithoutAuthHasNoOAuth() {
    ServerConfig s = Yaml.parse(Yaml.stdioServer()).server("s1").orElseThrow();

    assertThat(s.oauth()).isNull();
  }

  @Test
  void everyKeyIsReadAndTheSecretComesFromTheEnvironment() {
    ServerConfig s = Yaml.parse(httpServer("type: oauth", "grant: client_credentials", "client_id: bastion-gw",
        "client_secret: ${LINEAR_TOKEN}", "scopes: [read, write]", "token_endpoint_auth: client_secret_post",
        "authorization_server: https://login.example.com/tenant", "resource: https://mcp.example.com",
        "client_name: Team gateway")).server("gh").orElseThrow();

    OAuthConfig o = s.oauth();
    assertThat(o.grant()).isEqualTo(OAuthConfig.Grant.CLIENT_CREDENTIALS);
    assertThat(o.clientId()).isEqualTo("bastion-gw");
    assertThat(o.clientSecret()).isEqualTo("lin_test");
    assertThat(o.scopes()).containsExactly("read", "write");
    assertThat(o.tokenEndpointAuth()).isEqualTo("client_secret_post");
    assertThat(o.authorizationServer()).isEqualTo(URI.create("https://login.example.com/tenant"));
    assertThat(o.resource()).isEqualTo(URI.create("https://mcp.example.com"));
    assertThat(o.clientName()).isEqualTo("Team gateway");
  }

  @Test
  void scopesMayBeOneSpaceSeparatedString() {
    OAuthConfig o = Yaml.parse(httpServer("type: oauth", "scopes: \"repo  read:org\"")).server("gh").orElseThrow().oauth();

    assertThat(o.scopes()).containsExactly("repo", "read:org");
  }

  @Test
  void secretNeverAppearsInToString() {
    ServerConfig s = Yaml.parse(httpServer("type: oauth", "client_id: c", "client_secret: ${LINEAR_TOKEN}"))
        .server("gh").orElseThrow();

    assertThat(s.toString()).contains("auth=OAuthConfig[").contains("clientId=c").doesNotContain("lin_test");
  }

  @Test
  void problemsAreReportedAtTheirPath() {
    assertThat(Yaml.problems(httpServer("type: basic"))).containsExactly(
        "mcp.servers[0].auth.type: expected oauth (the only auth type; static credentials go in headers), got \"basic\"");
    assertThat(Yaml.problems(httpServer("client_id: x"))).containsExactly("mcp.servers[0].auth.type: is required");
    assertThat(Yaml.problems(httpServer("type: oauth", "grant: password"))).containsExactly(
        "mcp.servers[0].auth.grant: expected authorization_code or client_credentials, got \"password\"");
    assertThat(Yaml.problems(httpServer("type: oauth", "token_endpoint_auth: tls_client_auth"))).containsExactly(
        "mcp.servers[0].auth.token_endpoint_auth: expected one of: none, client_secret_basic, client_secret_post,"
            + " private_key_jwt; got \"tls_client_auth\"");
    assertThat(Yaml.problems(httpServer("type: oauth", "client_secret: s"))).containsExactly(
        "mcp.servers[0].auth.client_secret: needs client_id (a secret belongs to a pre-registered client)");
    assertThat(Yaml.problems(httpServer("type: oauth", "grant: client_credentials", "client_id: c"))).containsExactly(
        "mcp.servers[0].auth.grant: client_credentials needs client_id and client_secret (or private_key_jwt with"
            + " private_key)");
    assertThat(Yaml.problems(httpServer("type: oauth", "scope: read"))).containsExactly(
        "mcp.servers[0].auth.scope: unknown key; expected one of: type, grant, client_id, client_secret, scopes,"
            + " token_endpoint_auth, authorization_server, resource, client_name, per_key, private_key, signing_algorithm, assertion_audience");
    assertThat(Yaml.problems(httpServer("type: oauth", "authorization_server: ftp://x"))).containsExactly(
        "mcp.servers[0].auth.authorization_server: expected an http(s) URL, got \"ftp://x\"");
    assertThat(Yaml.problems(httpServer("type: oauth", "client_id: c", "client_secret: s",
        "token_endpoint_auth: none"))).containsExactly(
        "mcp.servers[0].auth.token_endpoint_auth: is none, but client_secret is set; use client_secret_basic"
            + " or client_secret_post, or drop the secret");
  }

  @Test
  void authIsRefusedOnStdioServers() {
    assertThat(Yaml.problems(Yaml.stdioServer("auth: {type: oauth}"))).containsExactly(
        "mcp.servers[0].auth: not allowed for type stdio (only for http and sse servers)");
  }

  @Test
  void anUnsetSecretVariableIsReportedWithoutItsValue() {
    assertThat(Yaml.problems(httpServer("type: oauth", "client_id: c", "client_secret: ${NOPE_SECRET}")))
        .singleElement().asString().startsWith("mcp.servers[0].auth.client_secret");
    assertThat(Map.of()).isEmpty();
  }
}
