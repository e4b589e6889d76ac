package io.bastion.node.governance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.protocol.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/**
 * The admin write API: keys, teams, customers and groups created, changed and deleted through
 * {@code /api/v1/...}, in force at once on the node that took the call, on every other node of the
 * cluster within about a second, and after a restart on the same store.
 */
@org.junit.jupiter.api.Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
class GovAdminTest {
  static final String ADMIN = "admin-token-abcdef-0123";

  static String yaml() {
    return """
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["%s", "%s", "stdio"]
        teams:
          - name: eng
        virtual_keys:
          - key_name: cfg-key
            key: vk-config-key-1
            mcp_clients: [{name: everything, allowed_tools: ["echo"]}]
        admin:
          token: %s
        """.formatted(EverythingServer.nodeBinary(), EverythingServer.script(), ADMIN);
  }

  static BastionTestNode start(Path data, String seed) {
    BastionConfig c = ConfigLoader.parse(yaml(), Path.of("admin.yaml"), Map.of());
    String extra = seed == null ? "" : "pekko.cluster.seed-nodes = [\"" + seed + "\"]";
    BastionTestNode n = BastionTestNode.startWithData(c, ConfigFactory.parseString(extra), data);
    n.awaitReady("everything");
    return n;
  }

  record Http(int status, String body, ObjectNode json) {}

  static Http admin(String method, String url, String token, ObjectNode body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(Json.write(body)))
        .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      HttpResponse<String> r = GovClient.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      ObjectNode j = r.body().startsWith("{") ? (ObjectNode) GovClient.read(r.body()) : null;
      return new Http(r.statusCode(), r.body(), j);
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  static ObjectNode body(String json) {
    return (ObjectNode) GovClient.read(json);
  }

  /** Initializes a client with {@code key}; null when refused (with the status in the message). */
  static GovClient client(String base, String key, int expectedStatus) {
    GovClient c = GovClient.mcp(base, "/mcp", GovClient.bearer(key));
    assertThat(c.initialize()).isEqualTo(expectedStatus);
    return expectedStatus == 200 ? c : null;
  }

  static void eventually(Supplier<Boolean> check, Duration within) {
    io.bastion.node.testkit.Eventually.until(within, check::get, "condition");
  }

  @Test
  void createUseUpdateRestartDelete() throws Exception {
    Path data = Files.createTempDirectory("gov-admin-");
    String api = null;
    try (BastionTestNode node = start(data, null)) {
      api = node.baseUrl() + "/api/v1";
      ObjectNode def = body("""
          {"key": "vk-api-created-1", "mcp_clients": [{"name": "everything", "allowed_tools": ["echo"]}]}""");

      // No token, wrong token: 401 with WWW-Authenticate; nothing is created.
      assertThat(admin("PUT", api + "/keys/api-key", null, def).status()).isEqualTo(401);
      assertThat(admin("PUT", api + "/keys/api-key", "wrong-token-123456", def).status()).isEqualTo(401);
      assertThat(admin("GET", api + "/keys", "wrong-token-123456", null).status()).isEqualTo(401);
      assertThat(admin("GET", api + "/servers", "wrong-token-123456", null).status()).isEqualTo(401);
      assertThat(admin("GET", api + "/cluster", null, null).status()).isEqualTo(401);
      assertThat(admin("GET", api + "/servers", ADMIN, null).status()).isEqualTo(200);
      Http cluster = admin("GET", api + "/cluster", ADMIN, null);
      assertThat(cluster.status()).isEqualTo(200);
      assertThat(cluster.json().path("members")).hasSize(1);
      client(node.baseUrl(), "vk-api-created-1", 401);

      // Create: in force at once.
      Http created = admin("PUT", api + "/keys/api-key", ADMIN, def);
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      assertThat(created.json().path("source").asText()).isEqualTo("api");
      assertThat(created.body()).doesNotContain("vk-api-created-1");
      GovClient c = client(node.baseUrl(), "vk-api-created-1", 200);
      assertThat(c.listTools()).containsExactly("everything__echo");
      assertThat(c.call("everything__echo", Json.object().put("message", "hi")).path("result").isObject()).isTrue();
      assertThat(c.call("everything__get-sum", Json.object().put("a", 1).put("b", 2))
          .path("error").path("message").asText()).isEqualTo("Unknown tool: everything__get-sum");

      // The list never carries key values or hashes.
      Http list = admin("GET", api + "/keys", ADMIN, null);
      assertThat(list.status()).isEqualTo(200);
      assertThat(list.json().path("keys").findValuesAsText("key_name")).containsExactly("cfg-key", "api-key");
      assertThat(list.body()).doesNotContain("vk-api-created-1").doesNotContain("vk-config-key-1")
          .doesNotContain(java.util.HexFormat.of().formatHex(KeyDirectory.sha256("vk-api-created-1")))
          .doesNotContain("\"key\"");

      // Invalid bodies: 400 naming each field's path; nothing changes.
      Http bad = admin("PUT", api + "/keys/bad-key", ADMIN, body("""
          {"key": "short", "mcp_clients": [{"name": "everything", "allowed_tools": "echo"}],
           "budget": {"max_usd": -1, "reset": "2d"}, "colour": "red"}"""));
      assertThat(bad.status()).as(bad.body()).isEqualTo(400);
      assertThat(bad.json().path("problems").findValuesAsText("path"))
          .contains("key", "mcp_clients[0].allowed_tools", "budget.max_usd", "budget.reset", "colour");
      Http badTeam = admin("PUT", api + "/keys/bad-key", ADMIN, body("""
          {"key": "vk-bad-key-123", "team": "nope", "tool_groups": ["nothing"]}"""));
      assertThat(badTeam.status()).isEqualTo(400);
      assertThat(badTeam.json().path("error").asText()).contains("team: unknown team \"nope\"")
          .contains("tool_groups[0]: unknown tool group \"nothing\"");
      Http dup = admin("PUT", api + "/keys/dup-key", ADMIN, body("{\"key\": \"vk-config-key-1\"}"));
      assertThat(dup.status()).isEqualTo(400);
      assertThat(dup.json().path("problems").get(0).path("path").asText()).isEqualTo("key");
      Http mismatch = admin("PUT", api + "/teams/ops", ADMIN, body("{\"name\": \"other\"}"));
      assertThat(mismatch.status()).isEqualTo(400);
      assertThat(mismatch.json().path("problems").get(0).path("path").asText()).isEqualTo("name");
      assertThat(admin("PUT", api + "/customers/acme", ADMIN, body("{\"budget\": {\"max_usd\": 1e12, \"reset\": \"1d\"}}"))
          .json().path("problems").get(0).path("path").asText()).isEqualTo("budget.max_usd");
      assertThat(admin("GET", api + "/keys/bad-key", ADMIN, null).status()).isEqualTo(404);

      // Update without resending the key: the hash is kept, the tool list changes.
      Http updated = admin("PUT", api + "/keys/api-key", ADMIN, body("""
          {"mcp_clients": [{"name": "everything", "allowed_tools": ["echo", "get-sum"]}], "team": "eng"}"""));
      assertThat(updated.status()).as(updated.body()).isEqualTo(200);
      assertThat(c.listTools()).containsExactlyInAnyOrder("everything__echo", "everything__get-sum");
      assertThat(client(node.baseUrl(), "vk-api-created-1", 200).call("everything__get-sum",
          Json.object().put("a", 1).put("b", 2)).path("result").isObject()).isTrue();

      // Legacy SSE with the API key: the call's outcome reaches the audit log through the
      // session stream's watch (no per-call actor), like the streamable HTTP calls above.
      GovClient legacy = GovClient.mcp(node.baseUrl(), "/mcp", GovClient.bearer("vk-api-created-1"));
      assertThat(legacy.openLegacy("/sse")).isEqualTo(200);
      assertThat(legacy.call("everything__get-sum", Json.object().put("a", 2).put("b", 3))
          .path("result").isObject()).isTrue();
      String auditUrl = api + "/audit?key=api-key";
      eventually(() -> admin("GET", auditUrl, ADMIN, null).json().path("total").asInt() >= 4, Duration.ofSeconds(10));
      ObjectNode audit = admin("GET", auditUrl, ADMIN, null).json();
      assertThat(audit.path("records").findValuesAsText("outcome"))
          .containsExactlyInAnyOrder("ok", "ok", "ok", "denied");
      assertThat(audit.path("records").findValuesAsText("tool")).contains("get-sum", "echo");

      // Teams, customers and groups: the same operations; references are checked.
      assertThat(admin("PUT", api + "/customers/acme", ADMIN, body("{\"budget\": {\"max_usd\": 5, \"reset\": \"1M\"}}"))
          .status()).isEqualTo(201);
      assertThat(admin("PUT", api + "/teams/ops", ADMIN, body("{\"customer\": \"acme\"}")).status()).isEqualTo(201);
      assertThat(admin("DELETE", api + "/customers/acme", ADMIN, null).status()).isEqualTo(409);
      assertThat(admin("PUT", api + "/groups/math", ADMIN, body("""
          {"tools": [{"server": "everything", "tools": ["get-sum"]}]}""")).status()).isEqualTo(201);
      assertThat(admin("PUT", api + "/keys/math-key", ADMIN, body("""
          {"key": "vk-math-key-1", "tool_groups": ["math"]}""")).status()).isEqualTo(201);
      GovClient g = GovClient.mcp(node.baseUrl(), "/mcp/math", GovClient.bearer("vk-math-key-1"));
      assertThat(g.initialize()).isEqualTo(200);
      assertThat(g.listTools()).containsExactly("everything__get-sum");
      assertThat(admin("DELETE", api + "/teams/eng", ADMIN, null).status()).isEqualTo(409);

      // Deleting a config-defined key through the API: 401 at once.
      assertThat(admin("DELETE", api + "/keys/cfg-key", ADMIN, null).status()).isEqualTo(200);
      client(node.baseUrl(), "vk-config-key-1", 401);
      assertThat(admin("GET", api + "/keys/cfg-key", ADMIN, null).status()).isEqualTo(404);
    }

    // Restart on the same store: the API's changes are still in force, before the first request.
    try (BastionTestNode node = start(data, null)) {
      api = node.baseUrl() + "/api/v1";
      GovClient c = client(node.baseUrl(), "vk-api-created-1", 200);
      assertThat(c.listTools()).containsExactlyInAnyOrder("everything__echo", "everything__get-sum");
      assertThat(c.call("everything__echo", Json.object().put("message", "again")).path("result").isObject()).isTrue();
      client(node.baseUrl(), "vk-config-key-1", 401);
      assertThat(admin("GET", api + "/teams/ops", ADMIN, null).json().path("customer").asText()).isEqualTo("acme");
      assertThat(admin("GET", api + "/keys/api-key", ADMIN, null).json().path("team").asText()).isEqualTo("eng");

      // Delete: 401 at once, and the API's audit shows the calls made with it.
      assertThat(admin("DELETE", api + "/keys/api-key", ADMIN, null).status()).isEqualTo(200);
      client(node.baseUrl(), "vk-api-created-1", 401);
      assertThat(admin("DELETE", api + "/keys/api-key", ADMIN, null).status()).isEqualTo(404);
      assertThat(c.call("everything__echo", Json.object().put("message", "gone")).has("result")).isFalse();
    }
  }

  @Test
  void aKeyCreatedOnOneNodeAuthenticatesOnTheOther() throws Exception {
    Path data = Files.createTempDirectory("gov-admin-cluster-");
    try (BastionTestNode a = start(data, null)) {
      String seed = Cluster.get(a.running().system()).selfMember().address().toString();
      try (BastionTestNode b = start(data, seed)) {
        eventually(() -> Cluster.get(b.running().system()).selfMember().status() == MemberStatus.up(),
            Duration.ofSeconds(20));
        Http created = admin("PUT", a.baseUrl() + "/api/v1/keys/shared", ADMIN, body("""
            {"key": "vk-shared-key-1", "mcp_clients": [{"name": "everything", "allowed_tools": ["get-sum"]}]}"""));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long t0 = System.nanoTime();
        eventually(() -> GovClient.mcp(b.baseUrl(), "/mcp", GovClient.bearer("vk-shared-key-1")).initialize() == 200,
            Duration.ofSeconds(3));
        System.out.println("key visible on the other node after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        GovClient onB = client(b.baseUrl(), "vk-shared-key-1", 200);
        assertThat(onB.listTools()).containsExactly("everything__get-sum");

        // Delete on B: refused on A too.
        assertThat(admin("DELETE", b.baseUrl() + "/api/v1/keys/shared", ADMIN, null).status()).isEqualTo(200);
        eventually(() -> GovClient.mcp(a.baseUrl(), "/mcp", GovClient.bearer("vk-shared-key-1")).initialize() == 401,
            Duration.ofSeconds(3));
        assertThat(admin("GET", a.baseUrl() + "/api/v1/cluster", ADMIN, null).json().path("members")).hasSize(2);
      }
    }
  }
}
