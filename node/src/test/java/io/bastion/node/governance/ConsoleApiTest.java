package io.bastion.node.governance;

import static io.bastion.node.governance.GovAdminTest.admin;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.node.governance.GovAdminTest.Http;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The admin API the console's later pages need, against a real node with a real upstream
 * (server-everything over stdio) and real MCP calls: the usage of every rate limit; what a key
 * sees of Code Mode (the same stub files its MCP client reads); every member's traffic figures.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ConsoleApiTest {
  static final String ADMIN = GovAdminTest.ADMIN;

  static String yaml() {
    return """
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["%s", "%s", "stdio"]
          code_mode:
            enabled: true
            mode: on
            keys: {unpaced: off}
        virtual_keys:
          - key_name: paced
            key: vk-paced-key-1
            mcp_clients: [{name: everything, allowed_tools: ["echo", "get-sum"]}]
            rate_limit:
              requests: 5
              per: 1h
              tools: {everything__echo: {requests: 2, per: 1m}}
          - key_name: unpaced
            key: vk-unpaced-key-1
            mcp_clients: [{name: everything, allowed_tools: ["echo"]}]
        admin:
          token: %s
        """.formatted(EverythingServer.nodeBinary(), EverythingServer.script(), ADMIN);
  }

  static BastionTestNode start(Path data) {
    BastionConfig c = ConfigLoader.parse(yaml(), Path.of("console-api.yaml"), Map.of());
    BastionTestNode n = BastionTestNode.startWithData(c, ConfigFactory.empty(), data);
    n.awaitReady("everything");
    return n;
  }

  static JsonNode limit(String api, String key, String tool) {
    Http r = admin("GET", api + "/rate-limits", ADMIN, null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    for (JsonNode l : r.json().path("rateLimits")) {
      if (l.path("key").asText().equals(key) && (tool == null ? l.path("tool").isNull() : l.path("tool").asText().equals(tool))) {
        return l;
      }
    }
    throw new AssertionError("no rate limit of " + key + " / " + tool + " in " + r.body());
  }

  @Test
  void rateLimitsShowTheCallsInTheirWindowAgainstTheLimit() throws Exception {
    try (BastionTestNode node = start(Files.createTempDirectory("console-api-"))) {
      String api = node.baseUrl() + "/api/v1";
      assertThat(admin("GET", api + "/rate-limits", null, null).status()).isEqualTo(401);
      assertThat(admin("GET", api + "/rate-limits", "wrong-token-0123456789", null).status()).isEqualTo(401);
      // Only keys with a rate limit are listed: one entry per limit (overall, then per tool).
      Http all = admin("GET", api + "/rate-limits", ADMIN, null);
      assertThat(all.json().path("rateLimits").findValues("key").stream().map(JsonNode::asText).toList())
          .containsExactly("paced", "paced");

      JsonNode before = limit(api, "paced", null);
      assertThat(before.path("requests").asInt()).isEqualTo(5);
      assertThat(before.path("perMs").asLong()).isEqualTo(Duration.ofHours(1).toMillis());
      assertThat(before.path("used").asInt()).isZero();
      assertThat(before.path("remaining").asInt()).isEqualTo(5);
      assertThat(before.path("resetAt").isNull()).isTrue();

      Instant start = Instant.now();
      GovClient c = GovAdminTest.client(node.baseUrl(), "vk-paced-key-1", 200);
      for (int i = 0; i < 2; i++) {
        assertThat(c.call("everything__echo", Json.object().put("message", "hi " + i)).path("result").isObject()).isTrue();
      }
      assertThat(c.call("everything__get-sum", Json.object().put("a", 1).put("b", 2)).path("result").isObject()).isTrue();
      Instant end = Instant.now();

      JsonNode overall = limit(api, "paced", null);
      assertThat(overall.path("used").asInt()).isEqualTo(3);
      assertThat(overall.path("remaining").asInt()).isEqualTo(2);
      // The oldest call leaves the hour's window an hour after it was made; the last one, later.
      Instant nextFree = Instant.parse(overall.path("nextFreeAt").asText());
      Instant reset = Instant.parse(overall.path("resetAt").asText());
      assertThat(nextFree).isBetween(start.plus(Duration.ofHours(1)).minusMillis(1), end.plus(Duration.ofHours(1)).plusMillis(1));
      assertThat(reset).isAfterOrEqualTo(nextFree).isBefore(end.plus(Duration.ofHours(1)).plusMillis(2));

      JsonNode echo = limit(api, "paced", "everything__echo");
      assertThat(echo.path("requests").asInt()).isEqualTo(2);
      assertThat(echo.path("perMs").asLong()).isEqualTo(60_000);
      assertThat(echo.path("used").asInt()).isEqualTo(2);
      assertThat(echo.path("remaining").asInt()).isZero();
      assertThat(Instant.parse(echo.path("resetAt").asText())).isBefore(end.plus(Duration.ofMinutes(1)).plusMillis(2));
      // What the API calls exhausted is what the gateway enforces: a third echo is refused.
      JsonNode refused = c.call("everything__echo", Json.object().put("message", "one too many"));
      assertThat(refused.path("error").path("message").asText()).contains("Rate limited");
      assertThat(limit(api, "paced", "everything__echo").path("used").asInt()).isEqualTo(2);
      assertThat(limit(api, "paced", null).path("used").asInt()).isEqualTo(3);
    }
  }

  @Test
  void codeModeShowsItsServersAndTheStubsAKeySees() throws Exception {
    try (BastionTestNode node = start(Files.createTempDirectory("console-api-"))) {
      String api = node.baseUrl() + "/api/v1";
      assertThat(admin("GET", api + "/code-mode?key=paced", null, null).status()).isEqualTo(401);
      Http overall = admin("GET", api + "/code-mode", ADMIN, null);
      assertThat(overall.status()).as(overall.body()).isEqualTo(200);
      assertThat(overall.json().path("enabled").asBoolean()).isTrue();
      assertThat(overall.json().path("mode").asText()).isEqualTo("on");
      assertThat(overall.json().path("servers").toString()).isEqualTo("[\"everything\"]");
      assertThat(overall.json().has("files")).isFalse();

      Http paced = admin("GET", api + "/code-mode?key=paced", ADMIN, null);
      assertThat(paced.status()).as(paced.body()).isEqualTo(200);
      assertThat(paced.json().path("active").asBoolean()).isTrue();
      assertThat(paced.json().path("tools").asInt()).isEqualTo(2);
      assertThat(paced.json().path("files").size()).isEqualTo(1);
      String stub = paced.json().path("files").path("servers/everything.pyi").asText();
      // Exactly the key's two tools: the others of the server appear nowhere.
      assertThat(stub).contains("def echo(", "def get_sum(").doesNotContain("get_env");

      // What the key's own MCP client reads through the meta-tools is the same file.
      GovClient c = GovAdminTest.client(node.baseUrl(), "vk-paced-key-1", 200);
      String listed = c.call("listToolFiles", Json.object()).path("result").path("content").get(0).path("text").asText();
      assertThat(listed).contains("servers/everything.pyi  (2 tools)");
      String read = c.call("readToolFile", Json.object().put("fileName", "servers/everything.pyi"))
          .path("result").path("content").get(0).path("text").asText();
      stub.lines().filter(l -> l.startsWith("def ")).forEach(l -> assertThat(read).contains(l));

      // A key with Code Mode off sees no meta-tools, but the API still says what it would see.
      Http unpaced = admin("GET", api + "/code-mode?key=unpaced", ADMIN, null);
      assertThat(unpaced.json().path("active").asBoolean()).isFalse();
      assertThat(unpaced.json().path("tools").asInt()).isEqualTo(1);
      assertThat(admin("GET", api + "/code-mode?key=nobody", ADMIN, null).status()).isEqualTo(404);
    }
  }

  @Test
  void everyMembersTrafficFiguresFromAnyNode() throws Exception {
    Path data = Files.createTempDirectory("console-api-cluster-");
    try (BastionTestNode a = start(data)) {
      String seed = org.apache.pekko.cluster.typed.Cluster.get(a.running().system()).selfMember().address().toString();
      BastionConfig c = ConfigLoader.parse(yaml(), Path.of("console-api.yaml"), Map.of());
      try (BastionTestNode b = BastionTestNode.startWithData(c,
          ConfigFactory.parseString("pekko.cluster.seed-nodes = [\"" + seed + "\"]"), data)) {
        b.awaitReady("everything");
        String other = org.apache.pekko.cluster.typed.Cluster.get(b.running().system()).selfMember().address().toString();
        assertThat(admin("GET", a.baseUrl() + "/api/v1/cluster/metrics", null, null).status()).isEqualTo(401);
        GovClient client = GovAdminTest.client(b.baseUrl(), "vk-unpaced-key-1", 200);
        assertThat(client.call("everything__echo", Json.object().put("message", "counted")).path("result").isObject()).isTrue();
        // Asked on A, answered for both members (each registers with the receptionist as it starts).
        JsonNode figures = io.bastion.node.testkit.Eventually.poll(Duration.ofSeconds(30),
            io.bastion.node.testkit.Eventually.EVERY,
            () -> admin("GET", a.baseUrl() + "/api/v1/cluster/metrics", ADMIN, null).json(),
            j -> j.path("nodes").size() == 2 && !j.path("nodes").findValues("metrics").isEmpty()
                && j.path("nodes").findValues("metrics").size() == 2,
            j -> "both members' figures: " + j);
        assertThat(figures.path("self").asText()).isEqualTo(seed);
        assertThat(figures.path("nodes").findValues("address").stream().map(JsonNode::asText).toList())
            .containsExactlyInAnyOrder(seed, other);
        for (JsonNode n : figures.path("nodes")) {
          String text = n.path("metrics").asText();
          // Only the families the overview reads travel: the call counted on B is among them.
          assertThat(text).contains("bastion_sessions_open", "bastion_tool_call_duration_seconds_bucket")
              .containsPattern("bastion_tool_calls_total\\{[^}]*outcome=\"ok\"")
              .doesNotContain("# HELP", "bastion_mcp_request_duration");
        }
      }
    }
  }
}
