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
    assertThat(Yaml.problems(httpServer("type: oauth", "token_endpoint_auth: private_key_jwt"))).containsExactly(
        "mcp.servers[0].auth.token_endpoint_auth: expected one of: none, client_secret_basic, client_secret_post;"
            + " got \"private_key_jwt\"");
    assertThat(Yaml.problems(httpServer("type: oauth", "client_secret: s"))).containsExactly(
        "mcp.servers[0].auth.client_secret: needs client_id (a secret belongs to a pre-registered client)");
    assertThat(Yaml.problems(httpServer("type: oauth", "grant: client_credentials", "client_id: c"))).containsExactly(
        "mcp.servers[0].auth.grant: client_credentials needs client_id and client_secret");
    assertThat(Yaml.problems(httpServer("type: oauth", "scope: read"))).containsExactly(
        "mcp.servers[0].auth.scope: unknown key; expected one of: type, grant, client_id, client_secret, scopes,"
            + " token_endpoint_auth, authorization_server, resource, client_name, per_key");
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
