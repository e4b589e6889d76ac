package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.sun.net.httpserver.HttpServer;
import io.bastion.config.OAuthConfig;
import io.bastion.protocol.Json;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Client ID Metadata Documents: the document's content, when Bastion uses its URL as the client id
 * (the server announces support and the URL is https) and the fall back to Dynamic Client
 * Registration otherwise, against a registration endpoint on loopback that counts its calls.
 */
class ClientMetadataDocumentTest {

  private static final URI CIMD = URI.create("https://bastion.example.com/oauth/client-metadata.json");
  private static final URI REDIRECT = URI.create("https://bastion.example.com/oauth/callback");
  private final OAuthFlows flows = new OAuthFlows(TokenCipher.of(TokenCipher.newKey(), java.util.List.of()));
  private final AtomicInteger registrations = new AtomicInteger();
  private HttpServer server;
  private String base;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    server.createContext("/register", ex -> {
      try (ex) {
        registrations.incrementAndGet();
        byte[] body = "{\"client_id\":\"dyn-1\",\"token_endpoint_auth_method\":\"none\"}".getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(201, body.length);
        ex.getResponseBody().write(body);
      }
    });
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private StoredAuth discovered(Boolean cimdSupported) throws Exception {
    var md = Json.object().put("issuer", base).put("authorization_endpoint", base + "/authorize")
        .put("token_endpoint", base + "/token").put("registration_endpoint", base + "/register");
    md.putArray("response_types_supported").add("code");
    md.putArray("code_challenge_methods_supported").add("S256");
    if (cimdSupported != null) {
      md.put("client_id_metadata_document_supported", cimdSupported);
    }
    // Stored as discovery stores it: parsed by Nimbus and written back.
    String stored = AuthorizationServerMetadata.parse(md.toString()).toJSONObject().toJSONString();
    return StoredAuth.discovered(base, stored, "https://mcp.example.com/mcp", "mcp:tools");
  }

  @Test
  void theDocumentNamesItsUrlTheCallbackAndAPublicClient() throws Exception {
    JsonNode doc = Json.MAPPER.readTree(ClientMetadataDocument.json(CIMD, REDIRECT));
    assertThat(doc.path("client_id").asText()).isEqualTo(CIMD.toString());
    assertThat(doc.path("redirect_uris").get(0).asText()).isEqualTo(REDIRECT.toString());
    assertThat(doc.path("redirect_uris").size()).isEqualTo(1);
    assertThat(doc.path("token_endpoint_auth_method").asText()).isEqualTo("none");
    assertThat(doc.path("grant_types").toString()).contains("authorization_code").contains("refresh_token");
    assertThat(doc.path("response_types").toString()).isEqualTo("[\"code\"]");
    assertThat(doc.path("client_name").asText()).isEqualTo("Bastion");
  }

  @Test
  void aServerThatSupportsThemGetsTheUrlAsClientIdAndNoRegistration() throws Exception {
    StoredAuth a = flows.ensureClient(discovered(true), OAuthConfig.discovered(), REDIRECT, CIMD);
    assertThat(a.clientId()).isEqualTo(CIMD.toString());
    assertThat(a.registered()).isFalse();
    assertThat(a.authMethod()).isEqualTo("none");
    assertThat(a.sealedClientSecret()).isNull();
    assertThat(registrations.get()).isZero();

    StoredAuth pending = flows.startAuthorization(a, "linear");
    String query = URI.create(pending.authorizationUrl()).getRawQuery();
    assertThat(URLDecoder.decode(query, StandardCharsets.UTF_8)).contains("client_id=" + CIMD)
        .contains("redirect_uri=" + REDIRECT).contains("code_challenge_method=S256");
  }

  @Test
  void otherwiseBastionFallsBackToDynamicRegistration() throws Exception {
    // The server does not announce support, or says false.
    for (Boolean flag : new Boolean[] {null, false}) {
      StoredAuth a = flows.ensureClient(discovered(flag), OAuthConfig.discovered(), REDIRECT, CIMD);
      assertThat(a.clientId()).isEqualTo("dyn-1");
      assertThat(a.registered()).isTrue();
    }
    // It does, but Bastion has no https URL for its document (a plain-http external URL).
    StoredAuth a = flows.ensureClient(discovered(true), OAuthConfig.discovered(), REDIRECT,
        URI.create("http://127.0.0.1:8080/oauth/client-metadata.json"));
    assertThat(a.clientId()).isEqualTo("dyn-1");
    a = flows.ensureClient(discovered(true), OAuthConfig.discovered(), REDIRECT, null);
    assertThat(a.clientId()).isEqualTo("dyn-1");
    assertThat(registrations.get()).isEqualTo(4);
  }

  @Test
  void aPreRegisteredClientIdStillComesFirst() throws Exception {
    OAuthConfig cfg = new OAuthConfig(null, "pre-registered", null, null, null, null, null, null);
    StoredAuth a = flows.ensureClient(discovered(true), cfg, REDIRECT, CIMD);
    assertThat(a.clientId()).isEqualTo("pre-registered");
    assertThat(registrations.get()).isZero();
  }
}
