package io.bastion.node.governance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.protocol.Json;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seed article's {@code virtual_keys} verbatim, against real upstreams: {@code github-mcp} is
 * server-everything over stdio, {@code filesystem} is server-filesystem over stdio.
 */
@org.junit.jupiter.api.Timeout(value = 3, unit = java.util.concurrent.TimeUnit.MINUTES)
class GovAccessTest {
  static final String ADMIN = "admin-token-0123456789";
  static BastionTestNode node;
  static Path dir;
  static String base;

  static final List<String> READ_ONLY = List.of("filesystem__read_text_file", "filesystem__list_directory",
      "filesystem__search_files");

  static String yaml(Path dir) {
    Path modules = EverythingServer.nodeModules();
    return """
        mcp:
          servers:
            - name: github-mcp
              type: stdio
              command: ["%s", "%s", "stdio"]
            - name: filesystem
              type: stdio
              command: ["%s", "%s", "%s"]
        virtual_keys:
          - key_name: claude-code-eng
            key: vk-cc-eng
            mcp_clients:
              - name: github-mcp
                allowed_tools: ["search_code", "get_pull_request", "get_issue"]
              - name: filesystem
                allowed_tools: ["read_text_file", "list_directory", "search_files"]
          - key_name: claude-code-write
            key: vk-cc-write
            mcp_clients:
              - name: github-mcp
                allowed_tools: ["*"]
          - key_name: nothing-at-all
            key: vk-nothing-1
          - key_name: math-user
            key: vk-math-user
            tool_groups: [math]
        tool_groups:
          - name: math
            tools:
              - server: github-mcp
                tools: ["get-sum"]
        admin:
          token: %s
        """.formatted(EverythingServer.nodeBinary(), EverythingServer.script(), EverythingServer.nodeBinary(),
        modules.resolve("@modelcontextprotocol/server-filesystem/dist/index.js"), dir, ADMIN);
  }

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("gov-fs-").toRealPath();
    Files.writeString(dir.resolve("hello.txt"), "hello governance");
    node = BastionTestNode.startYaml(yaml(dir), Map.of(), ConfigFactory.empty());
    node.awaitReady("github-mcp");
    node.awaitReady("filesystem");
    base = node.baseUrl();
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  static GovClient client(String path, String key) {
    GovClient c = GovClient.mcp(base, path, GovClient.bearer(key));
    assertThat(c.initialize()).isEqualTo(200);
    return c;
  }

  List<String> everythingTools() {
    return node.directory().catalog().tools().stream().filter(e -> e.target().server().equals("github-mcp"))
        .map(e -> e.definition().path("name").asText()).toList();
  }

  @Test
  void readOnlyKeyListsExactlyItsAllowedToolsAndCallsThem() {
    GovClient c = client("/mcp", "vk-cc-eng");
    assertThat(c.listTools()).containsExactlyInAnyOrderElementsOf(READ_ONLY);
    ObjectNode r = c.call("filesystem__read_text_file", Json.object().put("path", dir.resolve("hello.txt").toString()));
    assertThat(r.path("result").path("content").get(0).path("text").asText()).contains("hello governance");
    ObjectNode l = c.call("filesystem__list_directory", Json.object().put("path", dir.toString()));
    assertThat(l.path("result").path("content").get(0).path("text").asText()).contains("hello.txt");
  }

  @Test
  void aSessionIsBoundToTheKeyThatOpenedIt() {
    GovClient owner = client("/mcp", "vk-cc-write");
    GovClient other = GovClient.mcp(base, "/mcp", GovClient.bearer("vk-cc-eng"));
    other.adoptSession(owner);
    GovClient.Resp r = other.post(Json.object().put("jsonrpc", "2.0").put("id", 1).put("method", "tools/list"));
    assertThat(r.status()).isEqualTo(404);
    // The owner's session is untouched and still serves it.
    assertThat(owner.listTools()).isNotEmpty();
  }

  @Test
  void toolOutsideTheListFailsExactlyLikeAnUnknownTool() {
    GovClient c = client("/mcp", "vk-cc-eng");
    ObjectNode missing = c.call("github-mcp__no_such_tool", null);
    for (String hidden : List.of("github-mcp__echo", "filesystem__write_file")) {
      ObjectNode r = c.call(hidden, Json.object().put("message", "x"));
      assertThat(r.path("error").path("code").asInt()).isEqualTo(missing.path("error").path("code").asInt());
      assertThat(r.path("error").path("message").asText()).isEqualTo("Unknown tool: " + hidden);
      assertThat(missing.path("error").path("message").asText()).isEqualTo("Unknown tool: github-mcp__no_such_tool");
      assertThat(r.has("result")).isFalse();
    }
  }

  @Test
  void starKeySeesEveryToolOfItsServerAndNothingElse() {
    GovClient c = client("/mcp", "vk-cc-write");
    List<String> tools = c.listTools();
    assertThat(tools).isNotEmpty().containsExactlyInAnyOrderElementsOf(everythingTools());
    assertThat(tools).noneMatch(t -> t.startsWith("filesystem__"));
    assertThat(c.call("github-mcp__echo", Json.object().put("message", "hi")).path("result").path("content")
        .get(0).path("text").asText()).contains("hi");
    assertThat(c.call("filesystem__read_text_file", Json.object().put("path", "/etc/hostname"))
        .path("error").path("message").asText()).isEqualTo("Unknown tool: filesystem__read_text_file");
  }

  @Test
  void keyWithoutMcpClientsSeesNothing() {
    GovClient c = client("/mcp", "vk-nothing-1");
    assertThat(c.listTools()).isEmpty();
    assertThat(c.send("prompts/list", Json.object()).path("result").path("prompts")).isEmpty();
    assertThat(c.send("resources/list", Json.object()).path("result").path("resources")).isEmpty();
    assertThat(c.call("github-mcp__echo", Json.object().put("message", "x")).path("error").path("message").asText())
        .isEqualTo("Unknown tool: github-mcp__echo");
  }

  @Test
  void wrongOrMissingKeyIs401AndOtherHeadersWork() {
    GovClient wrong = GovClient.mcp(base, "/mcp", GovClient.bearer("vk-cc-engX"));
    GovClient.Resp r = wrong.initializeResp();
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(GovClient.mcp(base, "/mcp", Map.of()).initializeResp().status()).isEqualTo(401);
    assertThat(GovClient.mcp(base, "/mcp", Map.of("Authorization", "Basic dmstY2MtZW5n")).initializeResp().status())
        .isEqualTo(401);
    GovClient apiKey = GovClient.mcp(base, "/mcp", Map.of("x-api-key", "vk-cc-eng"));
    assertThat(apiKey.initialize()).isEqualTo(200);
    assertThat(apiKey.listTools()).containsExactlyInAnyOrderElementsOf(READ_ONLY);
    GovClient bf = GovClient.mcp(base, "/mcp", Map.of("x-bf-vk", "vk-cc-write"));
    assertThat(bf.initialize()).isEqualTo(200);
    assertThat(bf.listTools()).containsExactlyInAnyOrderElementsOf(everythingTools());
  }

  @Test
  void sameResultsOverLegacySse() throws Exception {
    GovClient ro = GovClient.mcp(base, "/mcp", GovClient.bearer("vk-cc-eng"));
    assertThat(ro.openLegacy("/sse")).isEqualTo(200);
    assertThat(ro.listTools()).containsExactlyInAnyOrderElementsOf(READ_ONLY);
    assertThat(ro.call("github-mcp__echo", Json.object().put("message", "x")).path("error").path("message").asText())
        .isEqualTo("Unknown tool: github-mcp__echo");
    assertThat(ro.call("filesystem__list_directory", Json.object().put("path", dir.toString()))
        .path("result").path("content").get(0).path("text").asText()).contains("hello.txt");
    GovClient star = GovClient.mcp(base, "/mcp", GovClient.bearer("vk-cc-write"));
    assertThat(star.openLegacy("/sse")).isEqualTo(200);
    assertThat(star.listTools()).containsExactlyInAnyOrderElementsOf(everythingTools());
    GovClient none = GovClient.mcp(base, "/mcp", GovClient.bearer("vk-nothing-1"));
    assertThat(none.openLegacy("/sse")).isEqualTo(200);
    assertThat(none.listTools()).isEmpty();
    assertThat(GovClient.mcp(base, "/mcp", GovClient.bearer("wrong-key-123")).openLegacy("/sse")).isEqualTo(401);
    GovClient math = GovClient.mcp(base, "/mcp", GovClient.bearer("vk-math-user"));
    assertThat(math.openLegacy("/sse/math")).isEqualTo(200);
    assertThat(math.listTools()).containsExactly("github-mcp__get-sum");
    assertThat(GovClient.mcp(base, "/mcp", GovClient.bearer("vk-cc-eng")).openLegacy("/sse/math")).isEqualTo(403);
  }

  @Test
  void toolGroupEndpointNarrowsTheCatalogAndRefusesOtherKeys() {
    GovClient math = client("/mcp/math", "vk-math-user");
    assertThat(math.listTools()).containsExactly("github-mcp__get-sum");
    assertThat(math.call("github-mcp__get-sum", Json.object().put("a", 2).put("b", 3)).path("result")
        .path("content").get(0).path("text").asText()).contains("5");
    assertThat(math.call("github-mcp__echo", Json.object().put("message", "x")).path("error").path("message")
        .asText()).isEqualTo("Unknown tool: github-mcp__echo");
    // The group key on /mcp sees its group's tools (attached groups add to mcp_clients).
    assertThat(client("/mcp", "vk-math-user").listTools()).containsExactly("github-mcp__get-sum");
    assertThat(GovClient.mcp(base, "/mcp/math", GovClient.bearer("vk-cc-write")).initializeResp().status())
        .isEqualTo(403);
    assertThat(GovClient.mcp(base, "/mcp/math", GovClient.bearer("wrong-key-123")).initializeResp().status())
        .isEqualTo(401);
    assertThat(GovClient.mcp(base, "/mcp/nope", GovClient.bearer("vk-math-user")).initializeResp().status())
        .isEqualTo(404);
  }

  @Test
  void adminApiNeedsTheToken() throws Exception {
    HttpResponse<String> none = GovClient.get(base + "/api/v1/audit", null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(GovClient.get(base + "/api/v1/audit/summary", "wrong-token-0123456789").statusCode()).isEqualTo(401);
    assertThat(GovClient.get(base + "/api/v1/audit?limit=5", ADMIN).statusCode()).isEqualTo(200);
    assertThat(GovClient.get(base + "/api/v1/audit?limit=0", ADMIN).statusCode()).isEqualTo(400);
  }
}
