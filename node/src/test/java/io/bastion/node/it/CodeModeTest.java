package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.protocol.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Code Mode end to end: the official TypeScript SDK client through a real node in front of two
 * real upstreams (server-everything and server-memory, stdio), with virtual keys, a budget, the
 * audit log and auto mode.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CodeModeTest {
  private static final String ADMIN = "admin-token-0123456789";
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private BastionTestNode node;
  private Path dir;

  private static String script(String pkg) {
    return EverythingServer.nodeModules().resolve("@modelcontextprotocol/" + pkg + "/dist/index.js").toString();
  }

  @BeforeAll
  void start() throws Exception {
    dir = Files.createTempDirectory("codemode-it-");
    String yaml = """
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["%1$s", "%2$s", "stdio"]
              pricing: {default: 0.1}
            - name: memory
              type: stdio
              command: ["%1$s", "%3$s"]
              env: {MEMORY_FILE_PATH: "%4$s"}
          code_mode:
            enabled: true
            sandbox: starlark
            mode: auto
            auto_threshold: 3
            limits: {max_nested_calls: 50}
            tool_groups: {classic: off}
        tool_groups:
          - name: classic
            tools: [{server: everything, tools: ["get-sum", "echo"]}, {server: memory, tools: ["read_graph"]}]
        virtual_keys:
          - key_name: full
            key: vk-full-123456
            mcp_clients: [{name: everything, allowed_tools: ["*"]}, {name: memory, allowed_tools: ["*"]}]
            tool_groups: [classic]
          - key_name: narrow
            key: vk-narrow-123456
            mcp_clients: [{name: everything, allowed_tools: ["get-sum"]},
                          {name: memory, allowed_tools: ["read_graph", "create_entities"]}]
          - key_name: small
            key: vk-small-123456
            mcp_clients: [{name: everything, allowed_tools: ["get-sum", "echo"]}]
          - key_name: budgeted
            key: vk-budgeted-123456
            mcp_clients: [{name: everything, allowed_tools: ["*"]}]
            budget: {max_usd: 0.3, reset: 1d}
        audit:
          flush_interval: 100ms
        admin:
          token: %5$s
        """.formatted(EverythingServer.nodeBinary(), script("server-everything"), script("server-memory"),
        dir.resolve("memory.jsonl"), ADMIN);
    node = BastionTestNode.startYaml(yaml, Map.of(), ConfigFactory.empty());
    node.awaitReady("everything");
    node.awaitReady("memory");
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  private JsonNode ts(String key, String scenario, String... options) {
    List<String> opts = new ArrayList<>(List.of(options));
    opts.add("--header");
    opts.add("Authorization: Bearer " + key);
    return TsClient.ok(TsClient.run(node.mcpUrl(), scenario, opts.toArray(String[]::new)));
  }

  private JsonNode call(String key, String tool, Object args) {
    return ts(key, "call", "--tool", tool, "--args", TsClient.json(args)).path("result");
  }

  private JsonNode run(String key, String code) {
    return call(key, "executeToolCode", Map.of("code", code));
  }

  private static List<String> names(JsonNode listing) {
    List<String> names = new ArrayList<>();
    listing.path("names").forEach(n -> names.add(n.asText()));
    return names;
  }

  @Test
  void theClientSeesTheFourMetaToolsAndRunsAProgramAcrossTwoUpstreams() {
    assertThat(names(ts("vk-full-123456", "list-tools")))
        .containsExactlyInAnyOrder("listToolFiles", "readToolFile", "getToolDocs", "executeToolCode");

    String files = TsClient.text(call("vk-full-123456", "listToolFiles", Map.of()));
    assertThat(files).contains("servers/everything.pyi").contains("servers/memory.pyi");
    String stub = TsClient.text(call("vk-full-123456", "readToolFile", Map.of("fileName", "servers/everything.pyi")));
    assertThat(stub).contains("def get_sum(a: float, b: float) -> dict:  # Returns the sum of two numbers")
        .contains("def echo(");
    String part = TsClient.text(call("vk-full-123456", "readToolFile",
        Map.of("fileName", "memory", "startLine", 1, "endLine", 2)));
    assertThat(part).startsWith("# servers/memory.pyi: lines 1-2 of ").hasLineCount(3);
    String docs = TsClient.text(call("vk-full-123456", "getToolDocs", Map.of("server", "everything", "tool", "get-sum")));
    assertThat(docs).contains("a (float, required): First number").contains("MCP tool name: get-sum");

    JsonNode result = run("vk-full-123456", """
        text = everything.get_sum(a=2, b=3)
        total = int(text.split(" is ")[1].rstrip("."))
        memory.create_entities(entities=[{"name": "Bastion", "entityType": "gateway",
                                          "observations": ["sum was %d" % total]}])
        graph = memory.read_graph()
        names = []
        for e in graph["entities"]:
            names.append(e["name"])
        print("entities:", len(names))
        result = {"sum": total, "names": names}
        """);
    assertThat(result.path("isError").asBoolean(false)).as("%s", result).isFalse();
    assertThat(result.path("content").get(0).path("text").asText()).isEqualTo("entities: 1\n");
    assertThat(result.path("content").get(1).path("text").asText()).isEqualTo("{\"sum\":5,\"names\":[\"Bastion\"]}");
    assertThat(result.toString()).as("raw nested outputs never come back").doesNotContain("The sum of");
  }

  @Test
  void aRestrictedKeySeesOnlyItsStubsAndAHiddenToolFailsLikeAnUnknownOne() {
    String stub = TsClient.text(call("vk-narrow-123456", "readToolFile", Map.of("fileName", "servers/everything.pyi")));
    assertThat(stub).contains("def get_sum(").doesNotContain("def echo(");
    String memory = TsClient.text(call("vk-narrow-123456", "readToolFile", Map.of("fileName", "servers/memory.pyi")));
    assertThat(memory.lines().filter(l -> l.startsWith("def "))).hasSize(2);

    JsonNode hidden = run("vk-narrow-123456", "result = everything.echo(message=\"hi\")\n");
    JsonNode missing = run("vk-narrow-123456", "result = everything.no_such_tool(message=\"hi\")\n");
    assertThat(hidden.path("isError").asBoolean()).isTrue();
    assertThat(TsClient.text(hidden)).isEqualTo(TsClient.text(missing).replace("no_such_tool", "echo"));
    assertThat(TsClient.text(hidden)).contains("unknown tool everything.echo");
    JsonNode docs = call("vk-narrow-123456", "getToolDocs", Map.of("server", "everything", "tool", "echo"));
    assertThat(docs.path("isError").asBoolean()).isTrue();
  }

  @Test
  void aBudgetForThreeCallsStopsTheProgramAtTheFourthAndEveryCallIsAudited() throws Exception {
    JsonNode result = run("vk-budgeted-123456", """
        for i in range(10):
            print(everything.get_sum(a=i, b=1))
        result = "finished"
        """);
    assertThat(result.path("isError").asBoolean()).as("%s", result).isTrue();
    String text = TsClient.text(result);
    assertThat(text).contains("everything.get_sum failed: Budget exceeded");
    assertThat(text.lines().filter(l -> l.startsWith("The sum of")).count()).isEqualTo(3);

    JsonNode rows = Eventually.poll(Duration.ofSeconds(30), Eventually.EVERY,
        () -> audit("key=budgeted"), r -> r.path("total").asInt() >= 5, r -> "audit rows: " + r);
    List<String> rowsSeen = new ArrayList<>();
    String runRequestId = null;
    for (JsonNode r : rows.path("records")) {
      rowsSeen.add(r.path("tool").asText() + ":" + r.path("outcome").asText());
      if (r.path("tool").asText().equals("executeToolCode")) {
        runRequestId = r.path("requestId").asText();
      }
    }
    assertThat(rowsSeen).containsExactlyInAnyOrder("executeToolCode:tool_error", "get-sum:ok", "get-sum:ok",
        "get-sum:ok", "get-sum:over_budget");
    assertThat(runRequestId).isNotBlank();
    for (JsonNode r : rows.path("records")) {
      assertThat(r.path("requestId").asText()).as("every nested row carries the run's request id").isEqualTo(runRequestId);
    }
  }

  @Test
  void autoModeSwitchesAtTheThreshold() {
    // "small" may call 2 tools, below auto_threshold 3: the classic tools
    assertThat(names(ts("vk-small-123456", "list-tools"))).containsExactlyInAnyOrder("everything__get-sum", "everything__echo");
    // "narrow" may call 3: Code Mode
    assertThat(names(ts("vk-narrow-123456", "list-tools")))
        .containsExactlyInAnyOrder("listToolFiles", "readToolFile", "getToolDocs", "executeToolCode");
    // the classic path still works for the small key
    assertThat(TsClient.text(call("vk-small-123456", "everything__get-sum", Map.of("a", 1, "b", 2)))).contains("is 3");
  }

  @Test
  void nestedCallsAreReportedAsProgressWhenTheClientAsksForIt() {
    JsonNode report = ts("vk-full-123456", "progress", "--tool", "executeToolCode", "--args",
        TsClient.json(Map.of("code", "for i in range(3):\n    everything.get_sum(a=i, b=1)\nresult = \"done\"\n")));
    assertThat(TsClient.text(report.path("result"))).isEqualTo("\"done\"");
    List<String> messages = new ArrayList<>();
    report.path("progressOnWire").forEach(p -> messages.add(p.path("progress").asInt() + " " + p.path("message").asText()));
    assertThat(messages).containsExactly("1 everything.get_sum: ok", "2 everything.get_sum: ok", "3 everything.get_sum: ok");
  }

  @Test
  void legacySseGetsCodeModeAndAGroupCanOptOut() {
    JsonNode sse = TsClient.ok(TsClient.run(node.sseUrl(), "list-tools", "--transport", "sse",
        "--header", "Authorization: Bearer vk-full-123456"));
    assertThat(names(sse)).containsExactlyInAnyOrder("listToolFiles", "readToolFile", "getToolDocs", "executeToolCode");
    JsonNode run = TsClient.ok(TsClient.run(node.sseUrl(), "call", "--transport", "sse",
        "--header", "Authorization: Bearer vk-full-123456", "--tool", "executeToolCode",
        "--args", TsClient.json(Map.of("code", "result = everything.get_sum(a=20, b=22)\n")))).path("result");
    assertThat(TsClient.text(run)).isEqualTo("\"The sum of 20 and 22 is 42.\"");
    // the group "classic" says off: its 3 tools are listed as they are at /mcp/classic
    JsonNode group = TsClient.ok(TsClient.run(node.mcpUrl() + "/classic", "list-tools",
        "--header", "Authorization: Bearer vk-full-123456"));
    assertThat(names(group)).containsExactlyInAnyOrder("everything__get-sum", "everything__echo", "memory__read_graph");
  }

  @Test
  void aHostileProgramEndsWithAClearErrorWhileOtherCallsGoOn() {
    JsonNode r = run("vk-full-123456", "s = \"x\"\nfor i in range(64):\n    s = s + s\n");
    assertThat(r.path("isError").asBoolean()).isTrue();
    assertThat(TsClient.text(r)).startsWith("Error (limit): line 3: value too large");
    JsonNode calls = run("vk-full-123456", "for i in range(10000):\n    everything.get_sum(a=i, b=1)\n");
    assertThat(TsClient.text(calls)).contains("made more than 50 tool calls (limits.max_nested_calls)");
    assertThat(TsClient.text(call("vk-small-123456", "everything__get-sum", Map.of("a", 4, "b", 5)))).contains("is 9");
  }

  @Test
  void cancellingARunStopsItAndItsNestedCall() {
    JsonNode report = ts("vk-full-123456", "cancel", "--tool", "executeToolCode", "--args",
        TsClient.json(Map.of("code", "everything.trigger_long_running_operation(duration=60, steps=60)\nresult = 1\n")),
        "--after-ms", "3000");
    assertThat(report.path("aborted").asBoolean()).as("%s", report).isTrue();
    JsonNode rows = Eventually.poll(Duration.ofSeconds(40), Eventually.EVERY,
        () -> audit("key=full&tool=trigger-long-running-operation"), x -> x.path("total").asInt() >= 1,
        x -> "audit rows: " + x);
    assertThat(rows.path("records").get(0).path("errorType").asText()).isEqualTo("client_gone");
  }

  @Test
  void aServerPutThroughTheAdminApiCarriesItsOwnCodeModeFlag() throws Exception {
    String memory = """
        {"name": "memory", "type": "stdio", "command": ["%s", "%s"], "env": {"MEMORY_FILE_PATH": "%s"},
         "code_mode": %s}""";
    Object[] def = {EverythingServer.nodeBinary(), script("server-memory"), dir.resolve("memory.jsonl")};
    assertThat(putServer("memory", memory.formatted(def[0], def[1], def[2], "\"maybe\"")).statusCode()).isEqualTo(400);
    HttpResponse<String> off = putServer("memory", memory.formatted(def[0], def[1], def[2], "false"));
    try {
      assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
      // memory is now classic for this key: its tools are listed beside the meta-tools, and it has no stub file
      assertThat(names(ts("vk-full-123456", "list-tools"))).contains("executeToolCode", "memory__read_graph")
          .noneMatch(n -> n.startsWith("everything__"));
      assertThat(TsClient.text(call("vk-full-123456", "listToolFiles", Map.of())))
          .contains("servers/everything.pyi").doesNotContain("servers/memory.pyi");
    } finally {
      assertThat(putServer("memory", memory.formatted(def[0], def[1], def[2], "true")).statusCode()).isEqualTo(200);
    }
    assertThat(names(ts("vk-full-123456", "list-tools")))
        .containsExactlyInAnyOrder("listToolFiles", "readToolFile", "getToolDocs", "executeToolCode");
  }

  private HttpResponse<String> putServer(String name, String json) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/v1/servers/" + name))
        .header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode audit(String query) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/v1/audit?" + query))
          .header("Authorization", "Bearer " + ADMIN).GET().build(), HttpResponse.BodyHandlers.ofString());
      return Json.MAPPER.readTree(r.body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
