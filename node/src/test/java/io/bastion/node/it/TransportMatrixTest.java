package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.upstream.UpstreamStatus;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The real TypeScript SDK client (and the Java SDK client) through a real Bastion node in front of
 * the real {@code server-everything}, once per upstream transport. One node per transport, shared
 * by every test of the class; list page size 5 so that lists span several pages.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class TransportMatrixTest {
  enum Upstream { STDIO, STREAMABLE_HTTP, SSE }

  private static final String P = "everything__";

  /** Streamable HTTP server-everything: the direct reference, and the HTTP upstream. */
  private EverythingServer direct;
  private EverythingServer sseUpstream;
  private final Map<Upstream, BastionTestNode> nodes = new EnumMap<>(Upstream.class);

  @BeforeAll
  void startDirect() {
    direct = EverythingServer.startHttp();
  }

  @AfterAll
  void stopAll() {
    nodes.values().forEach(BastionTestNode::close);
    if (sseUpstream != null) {
      sseUpstream.close();
    }
    if (direct != null) {
      direct.close();
    }
  }

  private synchronized BastionTestNode node(Upstream u) {
    return nodes.computeIfAbsent(u, x -> {
      ServerConfig cfg = switch (x) {
        case STDIO -> EverythingServer.startStdioConfig();
        case STREAMABLE_HTTP -> direct.config("everything", TransportType.HTTP);
        case SSE -> {
          sseUpstream = EverythingServer.startSse();
          yield sseUpstream.config("everything", TransportType.SSE);
        }
      };
      BastionTestNode n = BastionTestNode.start(List.of(cfg),
          ConfigFactory.parseString("bastion.node.list-page-size = 5"));
      n.awaitReady("everything");
      return n;
    });
  }

  private String directUrl() {
    return direct.url().toString();
  }

  private static List<String> texts(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  @ParameterizedTest
  @EnumSource(Upstream.class)
  void listsEveryToolQualifiedAcrossSeveralPages(Upstream u) {
    JsonNode upstream = TsClient.ok(TsClient.run(directUrl(), "list-tools"));
    Set<String> direct = new HashSet<>();
    texts(upstream.path("names")).forEach(n -> direct.add(P + n));
    // server-everything registers some tools only after `initialized` and announces them with
    // list_changed: wait until Bastion's re-list has them before comparing.
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
    while (!catalogToolNames(node(u)).containsAll(direct) && System.nanoTime() < deadline) {
      Admin.pause(100);
    }
    JsonNode viaBastion = TsClient.ok(TsClient.run(node(u).mcpUrl(), "list-tools"));

    List<String> names = texts(viaBastion.path("names"));
    assertThat(names).isNotEmpty().allMatch(n -> n.startsWith(P)).doesNotHaveDuplicates();
    assertThat(names).contains(P + "echo", P + "get-sum", P + "get-tiny-image");
    assertThat(viaBastion.path("pageCount").asInt()).isGreaterThan(1);
    for (JsonNode size : viaBastion.path("pageSizes")) {
      assertThat(size.asInt()).isBetween(1, 5);
    }
    // The union of the pages is the node's full catalog of that upstream...
    assertThat(new HashSet<>(names)).isEqualTo(catalogToolNames(node(u)));
    // ...which holds every tool the upstream shows a capability-less client; Bastion declares
    // roots, sampling and elicitation upstream, so server-everything adds the tools needing them.
    assertThat(names).containsAll(direct);
  }

  private static Set<String> catalogToolNames(BastionTestNode n) {
    Set<String> s = new HashSet<>();
    n.directory().statuses().get("everything").catalog().tools()
        .forEach(t -> s.add(P + t.path("name").asText()));
    return s;
  }

  @ParameterizedTest
  @EnumSource(Upstream.class)
  void callsEchoAndGetSum(Upstream u) {
    JsonNode echo = TsClient.ok(TsClient.run(node(u).mcpUrl(), "call", "--tool", P + "echo",
        "--args", "{\"message\":\"hello through " + u + "\"}"));
    assertThat(echo.path("result").path("isError").asBoolean(false)).isFalse();
    assertThat(TsClient.text(echo.path("result"))).contains("hello through " + u);

    JsonNode sum = TsClient.ok(TsClient.run(node(u).mcpUrl(), "call", "--tool", P + "get-sum",
        "--args", "{\"a\":2,\"b\":3}"));
    assertThat(sum.path("result").path("isError").asBoolean(false)).isFalse();
    assertThat(TsClient.text(sum.path("result"))).contains("5");
  }

  @ParameterizedTest
  @EnumSource(Upstream.class)
  void tinyImageIsIdenticalToTheUpstreamsOwn(Upstream u) {
    JsonNode viaBastion = TsClient.ok(TsClient.run(node(u).mcpUrl(), "call", "--tool", P + "get-tiny-image"));
    JsonNode upstream = TsClient.ok(TsClient.run(directUrl(), "call", "--tool", "get-tiny-image"));

    JsonNode image = firstOfType(viaBastion.path("result").path("content"), "image");
    assertThat(image).as("image content in %s", viaBastion).isNotNull();
    assertThat(image.path("mimeType").asText()).isEqualTo("image/png");
    assertThat(image.path("data").asText()).isNotEmpty();
    JsonNode directImage = firstOfType(upstream.path("result").path("content"), "image");
    assertThat(directImage).isNotNull();
    assertThat(image.path("data").asText()).isEqualTo(directImage.path("data").asText());
    assertThat(viaBastion.path("result").path("content")).isEqualTo(upstream.path("result").path("content"));
  }

  private static JsonNode firstOfType(JsonNode content, String type) {
    for (JsonNode c : content) {
      if (type.equals(c.path("type").asText())) {
        return c;
      }
    }
    return null;
  }

  @ParameterizedTest
  @EnumSource(Upstream.class)
  void progressOfALongRunningOperationReachesTheClient(Upstream u) {
    JsonNode r = TsClient.ok(TsClient.run(node(u).mcpUrl(), "progress",
        "--tool", P + "trigger-long-running-operation", "--args", "{\"duration\":2,\"steps\":4}"));
    assertThat(r.path("progressCount").asInt()).as("progress seen by onprogress: %s", r).isGreaterThanOrEqualTo(1);
    assertThat(r.path("progressOnWireCount").asInt()).isGreaterThanOrEqualTo(r.path("progressCount").asInt());
    for (JsonNode p : r.path("progress")) {
      assertThat(p.path("total").asInt()).isEqualTo(4);
    }
    assertThat(TsClient.text(r.path("result"))).contains("Long running operation completed");
  }

  @ParameterizedTest
  @EnumSource(Upstream.class)
  void cancelledCallAbortsAndTheNodeStaysHealthy(Upstream u) {
    BastionTestNode n = node(u);
    JsonNode r = TsClient.ok(TsClient.run(n.mcpUrl(), "cancel",
        "--tool", P + "trigger-long-running-operation", "--args", "{\"duration\":10,\"steps\":10}",
        "--after-ms", "500",
        "--then-tool", P + "echo", "--then-args", "{\"message\":\"after cancel\"}"));
    assertThat(r.path("aborted").asBoolean()).as("aborted: %s", r).isTrue();
    assertThat(r.path("cancelledNotificationSent").asBoolean()).isTrue();
    assertThat(r.path("settledAfterMs").asLong()).isLessThan(5_000);
    assertThat(TsClient.text(r.path("then"))).contains("after cancel");
    assertThat(n.directory().statuses().get("everything").state()).isEqualTo(UpstreamStatus.READY);

    JsonNode again = TsClient.ok(TsClient.run(n.mcpUrl(), "call", "--tool", P + "get-sum", "--args", "{\"a\":40,\"b\":2}"));
    assertThat(TsClient.text(again.path("result"))).contains("42");
  }

  @ParameterizedTest
  @EnumSource(Upstream.class)
  void readsTheFirstResourceUnderItsQualifiedUri(Upstream u) {
    JsonNode upstream = TsClient.ok(TsClient.run(directUrl(), "resources"));
    JsonNode list = TsClient.ok(TsClient.run(node(u).mcpUrl(), "resources"));
    List<String> uris = texts(list.path("uris"));
    assertThat(uris).isNotEmpty().allMatch(x -> x.startsWith("everything+"));
    Set<String> expected = new HashSet<>();
    texts(upstream.path("uris")).forEach(x -> expected.add("everything+" + x));
    assertThat(new HashSet<>(uris)).isEqualTo(expected);

    String first = uris.get(0);
    String original = first.substring("everything+".length());
    JsonNode read = TsClient.ok(TsClient.run(node(u).mcpUrl(), "resources", "--uri", first));
    JsonNode directRead = TsClient.ok(TsClient.run(directUrl(), "resources", "--uri", original));
    JsonNode contents = read.path("read").path("contents");
    assertThat(contents.size()).as("contents of %s: %s", first, read.path("read")).isGreaterThan(0);
    assertThat(contents.get(0).path("text").asText()).isNotEmpty()
        .isEqualTo(directRead.path("read").path("contents").get(0).path("text").asText());
  }

  @ParameterizedTest
  @EnumSource(Upstream.class)
  void getsASimplePrompt(Upstream u) {
    JsonNode list = TsClient.ok(TsClient.run(node(u).mcpUrl(), "prompts"));
    String simple = null;
    for (JsonNode p : list.path("prompts")) {
      assertThat(p.path("name").asText()).startsWith(P);
      if (simple == null && (p.path("arguments").isMissingNode() || p.path("arguments").isEmpty())) {
        simple = p.path("name").asText();
      }
    }
    assertThat(simple).as("a prompt without arguments in %s", list.path("names")).isNotNull();
    JsonNode got = TsClient.ok(TsClient.run(node(u).mcpUrl(), "prompts", "--prompt", simple));
    JsonNode messages = got.path("get").path("messages");
    assertThat(messages.size()).isGreaterThan(0);
    assertThat(messages.get(0).path("content").path("text").asText()).isNotEmpty();
  }

  @Test
  void javaSdkClientThroughBastionToStdioUpstream() {
    BastionTestNode n = node(Upstream.STDIO);
    var transport = HttpClientStreamableHttpTransport.builder(n.baseUrl()).endpoint("/mcp").build();
    try (McpSyncClient client = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(30)).build()) {
      McpSchema.InitializeResult init = client.initialize();
      assertThat(init.serverInfo().name()).isEqualTo("bastion");

      // listTools() follows nextCursor itself: every page of 5 must be fetched and merged.
      List<String> names = new ArrayList<>();
      client.listTools().tools().forEach(t -> names.add(t.name()));
      assertThat(names).contains(P + "echo", P + "get-sum").allMatch(x -> x.startsWith(P))
          .doesNotHaveDuplicates();
      assertThat(new HashSet<>(names)).isEqualTo(catalogToolNames(n));
      assertThat(names.size()).isGreaterThan(5);

      McpSchema.CallToolResult echo = client.callTool(new McpSchema.CallToolRequest(P + "echo", Map.of("message", "from java")));
      assertThat(echo.isError()).isNotEqualTo(Boolean.TRUE);
      assertThat(echo.content()).hasSize(1);
      assertThat(((McpSchema.TextContent) echo.content().get(0)).text()).contains("from java");

      McpSchema.ListResourcesResult resources = client.listResources();
      assertThat(resources.resources()).isNotEmpty();
      String uri = resources.resources().get(0).uri();
      assertThat(uri).startsWith("everything+");
      McpSchema.ReadResourceResult read = client.readResource(new McpSchema.ReadResourceRequest(uri));
      assertThat(read.contents()).isNotEmpty();
      assertThat(read.contents().get(0)).isInstanceOf(McpSchema.TextResourceContents.class);
      assertThat(((McpSchema.TextResourceContents) read.contents().get(0)).text()).isNotEmpty();

      McpSchema.GetPromptResult prompt = client.getPrompt(new McpSchema.GetPromptRequest(P + "simple-prompt", Map.of()));
      assertThat(prompt.messages()).isNotEmpty();
      assertThat(((McpSchema.TextContent) prompt.messages().get(0).content()).text()).isNotEmpty();
    }
  }

  @Test
  void legacySseEndpointOfBastionListsAndCalls() {
    BastionTestNode n = node(Upstream.STDIO);
    JsonNode list = TsClient.ok(TsClient.run(n.sseUrl(), "list-tools", "--transport", "sse"));
    assertThat(list.path("transport").asText()).isEqualTo("sse");
    assertThat(texts(list.path("names"))).contains(P + "echo", P + "get-sum");
    assertThat(list.path("pageCount").asInt()).isGreaterThan(1);

    JsonNode call = TsClient.ok(TsClient.run(n.sseUrl(), "call", "--transport", "sse",
        "--tool", P + "get-sum", "--args", "{\"a\":20,\"b\":3}"));
    assertThat(TsClient.text(call.path("result"))).contains("23");
  }
}
