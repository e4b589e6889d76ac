package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.bastion.config.OAuthConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The discovery order and fallbacks, against a real HTTP server on loopback serving what each case publishes. */
class OAuthDiscoveryTest {

  private HttpServer server;
  private String base;
  private final Map<String, String> documents = new ConcurrentHashMap<>();
  private final List<String> asked = new CopyOnWriteArrayList<>();
  private volatile String challenge;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    server.createContext("/", ex -> {
      try (ex) {
        String path = ex.getRequestURI().getPath();
        asked.add(ex.getRequestMethod() + " " + path);
        String doc = documents.get(path);
        if (path.equals("/redirect")) {
          ex.getResponseHeaders().add("Location", base + "/meta/custom");
          ex.sendResponseHeaders(302, -1);
        } else if (path.equals("/mcp")) {
          if (challenge != null) {
            ex.getResponseHeaders().add("WWW-Authenticate", challenge);
          }
          ex.sendResponseHeaders(401, -1);
        } else if (doc == null) {
          ex.sendResponseHeaders(404, -1);
        } else {
          byte[] body = doc.replace("$BASE", base).getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/json");
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
        }
      }
    });
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static final String AS = """
      {"issuer":"$BASE/tenant","authorization_endpoint":"$BASE/tenant/authorize","token_endpoint":"$BASE/tenant/token",
       "response_types_supported":["code"],"code_challenge_methods_supported":["S256"]}""";

  @Test
  void challengeMetadataThenPathInsertedAuthorizationServerMetadata() throws Exception {
    challenge = "Bearer resource_metadata=\"" + "http://127.0.0.1:" + server.getAddress().getPort()
        + "/meta/custom\", scope=\"a b\"";
    documents.put("/meta/custom", "{\"resource\":\"$BASE/mcp\",\"authorization_servers\":[\"$BASE/tenant\"],"
        + "\"scopes_supported\":[\"x\"]}");
    documents.put("/.well-known/oauth-authorization-server/tenant", AS);

    StoredAuth a = OAuthDiscovery.discover(URI.create(base + "/mcp"), false, OAuthConfig.discovered());

    assertThat(a.issuer()).isEqualTo(base + "/tenant");
    assertThat(a.scope()).isEqualTo("a b");
    assertThat(a.resource()).isEqualTo(base + "/mcp");
    assertThat(asked).containsExactly("POST /mcp", "GET /meta/custom", "GET /.well-known/oauth-authorization-server/tenant");
  }

  @Test
  void withoutAChallengePathAwareThenRootResourceMetadataThenOpenIdDiscovery() throws Exception {
    documents.put("/.well-known/oauth-protected-resource", "{\"authorization_servers\":[\"$BASE/tenant\"],"
        + "\"scopes_supported\":[\"files:read\",\"files:write\"]}");
    documents.put("/tenant/.well-known/openid-configuration", AS);

    StoredAuth a = OAuthDiscovery.discover(URI.create(base + "/mcp"), false, OAuthConfig.discovered());

    assertThat(a.scope()).isEqualTo("files:read files:write");
    assertThat(asked).containsExactly("POST /mcp", "GET /.well-known/oauth-protected-resource/mcp",
        "GET /.well-known/oauth-protected-resource", "GET /.well-known/oauth-authorization-server/tenant",
        "GET /.well-known/openid-configuration/tenant", "GET /tenant/.well-known/openid-configuration");
  }

  @Test
  void a20250326ServerWithoutAnyMetadataGetsTheDefaultEndpointsAtItsOrigin() throws Exception {
    StoredAuth a = OAuthDiscovery.discover(URI.create(base + "/mcp"), false,
        new OAuthConfig(null, null, null, List.of("files"), null, null, null, null));

    assertThat(a.issuer()).isEqualTo(base);
    var md = com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata.parse(a.metadata());
    assertThat(md.getAuthorizationEndpointURI()).isEqualTo(URI.create(base + "/authorize"));
    assertThat(md.getTokenEndpointURI()).isEqualTo(URI.create(base + "/token"));
    assertThat(md.getRegistrationEndpointURI()).isEqualTo(URI.create(base + "/register"));
    assertThat(a.scope()).isEqualTo("files");
  }

  @Test
  void metadataForAnotherResourceIsRefused() {
    documents.put("/.well-known/oauth-protected-resource/mcp",
        "{\"resource\":\"https://elsewhere.example.com/mcp\",\"authorization_servers\":[\"$BASE/tenant\"]}");

    assertThatThrownBy(() -> OAuthDiscovery.discover(URI.create(base + "/mcp"), false, OAuthConfig.discovered()))
        .isInstanceOf(OAuthFailure.class).hasMessageContaining("another resource");
  }

  @Test
  void anAuthorizationServerWithoutS256IsRefused() {
    documents.put("/.well-known/oauth-protected-resource", "{\"authorization_servers\":[\"$BASE/tenant\"]}");
    documents.put("/.well-known/oauth-authorization-server/tenant", AS.replace("\"S256\"", "\"plain\""));

    assertThatThrownBy(() -> OAuthDiscovery.discover(URI.create(base + "/mcp"), false, OAuthConfig.discovered()))
        .isInstanceOf(OAuthFailure.class).hasMessageContaining("PKCE S256");
  }

  @Test
  void aChallengePointingAtCloudMetadataIsRefusedBeforeAnyFetch() {
    challenge = "Bearer resource_metadata=\"https://169.254.169.254/latest/meta-data/iam\"";

    assertThatThrownBy(() -> OAuthDiscovery.discover(URI.create(base + "/mcp"), false, OAuthConfig.discovered()))
        .isInstanceOf(OAuthFailure.class).hasMessageContaining("resource_metadata URL")
        .hasMessageContaining("link-local, metadata");
    assertThat(asked).containsExactly("POST /mcp");
  }

  @Test
  void anAuthorizationServerOrEndpointOverPlainHttpElsewhereIsRefused() {
    documents.put("/.well-known/oauth-protected-resource", "{\"authorization_servers\":[\"http://as.example.com\"]}");
    assertThatThrownBy(() -> OAuthDiscovery.discover(URI.create(base + "/mcp"), false, OAuthConfig.discovered()))
        .isInstanceOf(OAuthFailure.class).hasMessageContaining("authorization server named by")
        .hasMessageContaining("must use https");

    documents.put("/.well-known/oauth-protected-resource", "{\"authorization_servers\":[\"$BASE/tenant\"]}");
    documents.put("/.well-known/oauth-authorization-server/tenant",
        AS.replace("\"$BASE/tenant/token\"", "\"https://169.254.169.254/token\""));
    assertThatThrownBy(() -> OAuthDiscovery.discover(URI.create(base + "/mcp"), false, OAuthConfig.discovered()))
        .isInstanceOf(OAuthFailure.class).hasMessageContaining("token endpoint").hasMessageContaining("link-local");
  }

  @Test
  void redirectsAreNotFollowedSoTheyCannotLeadPastTheChecks() throws Exception {
    challenge = "Bearer resource_metadata=\"" + base + "/redirect\"";
    documents.put("/meta/custom", "{\"resource\":\"$BASE/mcp\",\"authorization_servers\":[\"$BASE/tenant\"]}");
    documents.put("/.well-known/oauth-authorization-server/tenant", AS);

    StoredAuth a = OAuthDiscovery.discover(URI.create(base + "/mcp"), false, OAuthConfig.discovered());

    // The redirect counts as no metadata: Bastion goes on with the well-known URLs, never /meta/custom.
    assertThat(asked).contains("GET /redirect").doesNotContain("GET /meta/custom");
    assertThat(a.issuer()).isEqualTo(base);
  }
}
