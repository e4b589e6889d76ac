package io.bastion.node.governance;

import static io.bastion.node.governance.GovAdminTest.admin;
import static io.bastion.node.governance.GovAdminTest.body;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.node.governance.GovAdminTest.Http;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The admin API the console needs, against a real node with real upstreams: server add / edit /
 * remove (validated by the config reader, persisted across a restart), reconnect, spend per budget
 * against its limit, the audit time series, and the console's static files.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServerAdminTest {
  static final String ADMIN = GovAdminTest.ADMIN;

  static String yaml() {
    return """
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["%s", "%s", "stdio"]
              pricing: {default: 0.01}
        teams:
          - name: eng
            budget: {max_usd: 5.0, reset: 1w}
        virtual_keys:
          - key_name: spender
            key: vk-spender-key-1
            team: eng
            mcp_clients: [{name: everything, allowed_tools: ["echo", "get-sum"]}]
            budget: {max_usd: 1.0, reset: 1d}
        audit:
          flush_interval: 200ms
        admin:
          token: %s
        """.formatted(EverythingServer.nodeBinary(), EverythingServer.script(), ADMIN);
  }

  static BastionTestNode start(Path data) {
    BastionConfig c = ConfigLoader.parse(yaml(), Path.of("console.yaml"), Map.of());
    BastionTestNode n = BastionTestNode.startWithData(c, ConfigFactory.empty(), data);
    n.awaitReady("everything");
    return n;
  }

  static ObjectNode stdioServer(String name, String prefix) {
    ObjectNode s = Json.object().put("type", "stdio").put("tool_prefix", prefix);
    s.putArray("command").add(EverythingServer.nodeBinary()).add(EverythingServer.script().toString()).add("stdio");
    s.putObject("env").put("SECRET_TOKEN", "s3cr3t-value-123");
    return s;
  }

  static JsonNode server(String api, String name) {
    Http list = admin("GET", api + "/servers", ADMIN, null);
    for (JsonNode s : list.json().path("servers")) {
      if (s.path("name").asText().equals(name)) {
        return s;
      }
    }
    return null;
  }

  static JsonNode budget(String api, String kind, String name) {
    for (JsonNode b : admin("GET", api + "/budgets", ADMIN, null).json().path("budgets")) {
      if (b.path("kind").asText().equals(kind) && b.path("name").asText().equals(name)) {
        return b;
      }
    }
    throw new AssertionError("no " + kind + " budget named " + name);
  }

  @Test
  void serversAreAddedEditedReconnectedAndRemovedThroughTheApi() throws Exception {
    Path data = Files.createTempDirectory("server-admin-");
    try (BastionTestNode node = start(data)) {
      String api = node.baseUrl() + "/api/v1";
      // The token is needed for every new route.
      assertThat(admin("PUT", api + "/servers/extra", null, stdioServer("extra", "x")).status()).isEqualTo(401);
      assertThat(admin("POST", api + "/servers/everything/reconnect", "wrong-token-xyz", null).status())
          .isEqualTo(401);
      assertThat(admin("GET", api + "/budgets", null, null).status()).isEqualTo(401);

      // A bad URL: 400 with the reader's path-precise message; nothing is added.
      Http bad = admin("PUT", api + "/servers/remote", ADMIN,
          body("{\"type\": \"http\", \"url\": \"ftp://nowhere\"}"));
      assertThat(bad.status()).as(bad.body()).isEqualTo(400);
      assertThat(bad.json().path("error").asText()).contains("url: expected an http(s) URL");
      assertThat(bad.json().path("problems").get(0).path("path").asText()).isEqualTo("url");
      assertThat(admin("GET", api + "/servers/remote", ADMIN, null).status()).isEqualTo(404);
      Http notJson = admin("PUT", api + "/servers/remote", ADMIN, null);
      assertThat(notJson.status()).isEqualTo(400);

      // Add: in force at once, connects, its tools join the catalog.
      Http added = admin("PUT", api + "/servers/extra", ADMIN, stdioServer("extra", "x"));
      assertThat(added.status()).as(added.body()).isEqualTo(201);
      assertThat(added.json().path("source").asText()).isEqualTo("api");
      assertThat(added.body()).doesNotContain("s3cr3t-value-123");
      assertThat(added.json().path("env").path("SECRET_TOKEN").asText()).isEqualTo(ServerDefinitions.MASK);
      node.awaitReady("extra");
      assertThat(node.directory().catalog().tools().stream().anyMatch(t -> t.exposed().equals("x__echo"))).isTrue();
      JsonNode catalog = admin("GET", api + "/catalog", ADMIN, null).json();
      JsonNode extraTools = null;
      for (JsonNode s : catalog.path("servers")) {
        if (s.path("name").asText().equals("extra")) {
          extraTools = s.path("tools");
        }
      }
      assertThat(extraTools).isNotNull();
      JsonNode echo = null;
      for (JsonNode t : extraTools) {
        if (t.path("name").asText().equals("echo")) {
          echo = t;
        }
      }
      assertThat(echo.path("exposed").asText()).isEqualTo("x__echo");
      assertThat(echo.path("description").asText()).isNotEmpty();
      assertThat(echo.path("inputSchema").path("type").asText()).isEqualTo("object");
      Http shown = admin("GET", api + "/servers/everything", ADMIN, null);
      assertThat(shown.status()).isEqualTo(200);
      assertThat(shown.json().path("source").asText()).isEqualTo("config");
      assertThat(shown.json().path("type").asText()).isEqualTo("stdio");
      // What GET shows is a valid definition: saved back, it becomes the API's, and nothing changes.
      Http same = admin("PUT", api + "/servers/everything", ADMIN, (ObjectNode) shown.json());
      assertThat(same.status()).as(same.body()).isEqualTo(200);
      assertThat(same.json().path("source").asText()).isEqualTo("api");
      assertThat(node.running().config().server("everything").orElseThrow())
          .isEqualTo(ConfigLoader.parseServer(same.json().deepCopy().without("source"), null));

      // Edit: the masked env value is kept, the new prefix replaces the old one.
      ObjectNode edit = (ObjectNode) admin("GET", api + "/servers/extra", ADMIN, null).json();
      edit.put("tool_prefix", "y");
      Http edited = admin("PUT", api + "/servers/extra", ADMIN, edit);
      assertThat(edited.status()).as(edited.body()).isEqualTo(200);
      Eventually.until(Duration.ofSeconds(60), () -> node.directory().catalog().tools().stream()
          .anyMatch(t -> t.exposed().equals("y__echo")), "the edited prefix in the catalog");
      node.awaitReady("extra");

      // Reconnect: accepted, and the server is ready again.
      long attemptsBefore = server(api, "extra").path("attempts").asLong();
      Http reconnect = admin("POST", api + "/servers/extra/reconnect", ADMIN, null);
      assertThat(reconnect.status()).as(reconnect.body()).isEqualTo(202);
      assertThat(admin("POST", api + "/servers/nope/reconnect", ADMIN, null).status()).isEqualTo(404);
      node.awaitReady("extra");
      assertThat(attemptsBefore).isZero();
    }
    // Restart on the same store: the API's server is back, with the edited prefix.
    try (BastionTestNode node = start(data)) {
      String api = node.baseUrl() + "/api/v1";
      node.awaitReady("extra");
      Http shown = admin("GET", api + "/servers/extra", ADMIN, null);
      assertThat(shown.json().path("tool_prefix").asText()).isEqualTo("y");
      // Remove: gone from the list and the catalog.
      assertThat(admin("DELETE", api + "/servers/extra", ADMIN, null).status()).isEqualTo(200);
      Eventually.until(Duration.ofSeconds(30), () -> server(api, "extra") == null, "extra removed");
      assertThat(node.directory().catalog().tools().stream().noneMatch(t -> t.exposed().startsWith("y__"))).isTrue();
      assertThat(admin("DELETE", api + "/servers/extra", ADMIN, null).status()).isEqualTo(404);
      // Deleting a server of the config file stores a tombstone.
      assertThat(admin("DELETE", api + "/servers/everything", ADMIN, null).status()).isEqualTo(200);
      Eventually.until(Duration.ofSeconds(30), () -> server(api, "everything") == null, "everything removed");
    }
    // ... which outlives a restart: the config's server stays deleted.
    BastionConfig c = ConfigLoader.parse(yaml(), Path.of("console.yaml"), Map.of());
    try (BastionTestNode node = BastionTestNode.startWithData(c, ConfigFactory.empty(), data)) {
      String api = node.baseUrl() + "/api/v1";
      assertThat(admin("GET", api + "/servers/everything", ADMIN, null).status()).isEqualTo(404);
      assertThat(server(api, "everything")).isNull();
      assertThat(node.directory().catalog().tools()).isEmpty();
    }
  }

  @Test
  void aServerAddedOnOneNodeIsServedByTheOther() throws Exception {
    Path data = Files.createTempDirectory("server-admin-cluster-");
    try (BastionTestNode a = start(data)) {
      String seed = org.apache.pekko.cluster.typed.Cluster.get(a.running().system()).selfMember().address().toString();
      BastionConfig c = ConfigLoader.parse(yaml(), Path.of("console.yaml"), Map.of());
      try (BastionTestNode b = BastionTestNode.startWithData(c,
          ConfigFactory.parseString("pekko.cluster.seed-nodes = [\"" + seed + "\"]"), data)) {
        b.awaitReady("everything");
        Http added = admin("PUT", a.baseUrl() + "/api/v1/servers/extra", ADMIN, stdioServer("extra", "x"));
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        // Served on both nodes, whichever owns it; B's own API shows it.
        b.awaitReady("extra");
        a.awaitReady("extra");
        Eventually.until(Duration.ofSeconds(30), () -> b.directory().catalog().tools().stream()
            .anyMatch(t -> t.exposed().equals("x__echo")), "x__echo in the other node's catalog");
        assertThat(admin("GET", b.baseUrl() + "/api/v1/servers/extra", ADMIN, null).json().path("source").asText())
            .isEqualTo("api");
        // Removed on B: gone on A.
        assertThat(admin("DELETE", b.baseUrl() + "/api/v1/servers/extra", ADMIN, null).status()).isEqualTo(200);
        Eventually.until(Duration.ofSeconds(30), () -> server(a.baseUrl() + "/api/v1", "extra") == null,
            "extra removed on the other node");
        assertThat(admin("GET", a.baseUrl() + "/api/v1/servers/extra", ADMIN, null).status()).isEqualTo(404);
      }
    }
  }

  @Test
  void spendPerBudgetAndTheAuditTimeSeries() throws Exception {
    Path data = Files.createTempDirectory("usage-admin-");
    try (BastionTestNode node = start(data)) {
      String api = node.baseUrl() + "/api/v1";
      JsonNode before = budget(api, "key", "spender");
      assertThat(before.path("kind").asText()).isEqualTo("key");
      assertThat(before.path("name").asText()).isEqualTo("spender");
      assertThat(before.path("limitUsd").asDouble()).isEqualTo(1.0);
      assertThat(before.path("spentUsd").asDouble()).isZero();
      assertThat(Instant.parse(before.path("resetAt").asText())).isAfter(Instant.now());

      GovClient c = GovAdminTest.client(node.baseUrl(), "vk-spender-key-1", 200);
      for (int i = 0; i < 3; i++) {
        assertThat(c.call("everything__echo", Json.object().put("message", "hi " + i)).path("result").isObject()).isTrue();
      }
      JsonNode after = budget(api, "key", "spender");
      assertThat(after.path("spentUsd").asDouble()).isCloseTo(0.03, org.assertj.core.data.Offset.offset(1e-9));
      // The team's budget is charged by the same entity, with its own window.
      JsonNode team = budget(api, "team", "eng");
      assertThat(team.path("limitUsd").asDouble()).isEqualTo(5.0);
      assertThat(team.path("spentUsd").asDouble()).isCloseTo(0.03, org.assertj.core.data.Offset.offset(1e-9));
      assertThat(team.path("reset").asText()).isEqualTo("1w");
      assertThat(Instant.parse(team.path("resetAt").asText())).isAfter(Instant.parse(after.path("resetAt").asText())
          .minusSeconds(1));
      assertThat(after.path("remainingUsd").asDouble()).isCloseTo(0.97, org.assertj.core.data.Offset.offset(1e-9));
      assertThat(after.path("reset").asText()).isEqualTo("1d");

      JsonNode series = Eventually.poll(Duration.ofSeconds(30), Eventually.EVERY,
          () -> admin("GET", api + "/audit/timeseries?by=key&bucketMs=60000", ADMIN, null).json(),
          j -> j.path("series").size() == 1 && j.path("series").get(0).path("points").findValues("calls").stream()
              .mapToLong(JsonNode::asLong).sum() == 3,
          j -> "three calls of spender in the series: " + j);
      assertThat(series.path("series").get(0).path("name").asText()).isEqualTo("spender");
      assertThat(series.path("series").get(0).path("points").findValues("costUsd").stream()
          .mapToDouble(JsonNode::asDouble).sum()).isCloseTo(0.03, org.assertj.core.data.Offset.offset(1e-9));
      Http badBy = admin("GET", api + "/audit/timeseries?by=arguments", ADMIN, null);
      assertThat(badBy.status()).isEqualTo(400);
      assertThat(badBy.json().path("error").asText()).contains("by must be one of");
      assertThat(admin("GET", api + "/audit/timeseries?bucketMs=5", ADMIN, null).status()).isEqualTo(400);
    }
  }

  @Test
  void theConsoleIsServedWithAPolicyThatAllowsOnlyItsOwnOrigin() throws Exception {
    try (BastionTestNode node = start(Files.createTempDirectory("console-files-"))) {
      java.net.http.HttpResponse<String> root = GovClient.HTTP.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(node.baseUrl() + "/console")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(root.statusCode()).isEqualTo(308);
      assertThat(root.headers().firstValue("Location").orElse("")).endsWith("/console/");
      java.net.http.HttpResponse<String> index = GovClient.HTTP.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(node.baseUrl() + "/console/")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(index.statusCode()).isEqualTo(200);
      assertThat(index.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
      assertThat(index.headers().firstValue("Content-Security-Policy").orElse("")).contains("connect-src 'self'");
      assertThat(index.body()).contains("Bastion");
      java.net.http.HttpResponse<String> js = GovClient.HTTP.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(node.baseUrl() + "/console/js/app.js")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(js.statusCode()).isEqualTo(200);
      assertThat(js.headers().firstValue("Content-Type").orElse("")).contains("javascript");
      // Nothing outside the console's folder is served.
      for (String escape : List.of("/console/%2e%2e/reference.conf", "/console/..%2freference.conf",
          "/console/%2e%2e/logback.xml", "/console/nope.js")) {
        java.net.http.HttpResponse<String> r = GovClient.HTTP.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create(node.baseUrl() + escape)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(escape).isEqualTo(404);
      }
    }
  }
}
