package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.McpHttp.Exchange;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * JSON-RPC batches and the session lifecycle over real HTTP against a real node fronting
 * server-everything (stdio): a 2025-03-26 client's batch is answered as a batch (a JSON array,
 * or SSE once a member sends progress first), a batch of notifications gets 202, later revisions
 * get -32600, and an {@code initialize} inside a live session is refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BatchAndLifecycleTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final McpHttp mcp = new McpHttp();
  private BastionTestNode node;

  @BeforeAll
  void start() {
    node = BastionTestNode.start(List.of(EverythingServer.startStdioConfig()));
    node.awaitReady("everything");
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  private static ObjectNode initialize(String version) {
    return McpHttp.request(0, "initialize", McpHttp.json("{\"protocolVersion\":\"" + version
        + "\",\"clientInfo\":{\"name\":\"batch-test\",\"version\":\"1\"},\"capabilities\":{}}"));
  }

  /** initialize with {@code version} + notifications/initialized; returns the session id. */
  private String open(String version) {
    try (Exchange init = mcp.post(node.mcpUrl(), null, initialize(version))) {
      assertThat(init.status).isEqualTo(200);
      assertThat(init.response().at("/result/protocolVersion").asText()).isEqualTo(version);
      try (Exchange n = mcp.post(node.mcpUrl(), init.sessionId, McpHttp.notification("notifications/initialized"))) {
        assertThat(n.status).isEqualTo(202);
      }
      return init.sessionId;
    }
  }

  private static ObjectNode echo(long id, String message) {
    return McpHttp.request(id, "tools/call", McpHttp.json(
        "{\"name\":\"everything__echo\",\"arguments\":{\"message\":\"" + message + "\"}}"));
  }

  private static Map<String, JsonNode> byId(JsonNode answers) {
    Map<String, JsonNode> m = new HashMap<>();
    answers.forEach(a -> m.put(a.get("id").asText(), a));
    return m;
  }

  @Test
  void a2025_03_26BatchOfRequestsNotificationsAndResponsesIsAnsweredAsOneJsonArray() {
    String session = open("2025-03-26");
    ArrayNode batch = McpHttp.JSON.createArrayNode()
        .add(McpHttp.request(1, "ping", null))
        .add(echo(2, "first"))
        .add(McpHttp.notification("notifications/roots/list_changed"))
        .add(McpHttp.request(3, "tools/list", null))
        // a response to a server→client request this session never had: accepted, nothing to answer
        .add(McpHttp.json("{\"jsonrpc\":\"2.0\",\"id\":\"no-such-request\",\"result\":{}}"))
        .add(echo(4, "second"))
        .add(McpHttp.json("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
            + "{\"name\":\"no-such-tool\",\"arguments\":{}}}"));
    try (Exchange r = mcp.post(node.mcpUrl(), session, batch)) {
      assertThat(r.status).isEqualTo(200);
      assertThat(r.contentType).startsWith("application/json");
      JsonNode answers = r.await(JsonNode::isArray, WAIT);
      assertThat(answers).hasSize(5);
      Map<String, JsonNode> byId = byId(answers);
      assertThat(byId.keySet()).containsExactlyInAnyOrder("1", "2", "3", "4", "5");
      assertThat(byId.get("1").get("result").isObject()).isTrue();
      assertThat(byId.get("2").at("/result/content/0/text").asText()).isEqualTo("Echo: first");
      assertThat(byId.get("4").at("/result/content/0/text").asText()).isEqualTo("Echo: second");
      assertThat(byId.get("3").at("/result/tools").findValuesAsText("name")).contains("everything__echo");
      assertThat(byId.get("5").at("/error/code").asInt()).isEqualTo(-32602);
      answers.forEach(a -> assertThat(a.get("jsonrpc").asText()).isEqualTo("2.0"));
    }
  }

  @Test
  void invalidMembersAndAnInitializeInABatchGetAnErrorEachWhileTheRestIsServed() {
    String session = open("2025-03-26");
    ArrayNode batch = McpHttp.JSON.createArrayNode()
        .add(McpHttp.json("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}"))
        .add(McpHttp.json("{\"foo\":\"bar\"}"))
        .add(initialize("2025-03-26").put("id", 8))
        .add(McpHttp.JSON.getNodeFactory().numberNode(1));
    try (Exchange r = mcp.post(node.mcpUrl(), session, batch)) {
      assertThat(r.status).isEqualTo(200);
      JsonNode answers = r.await(JsonNode::isArray, WAIT);
      assertThat(answers).hasSize(4);
      List<JsonNode> errors = new ArrayList<>();
      answers.forEach(a -> {
        if (a.has("error")) {
          errors.add(a);
        }
      });
      assertThat(errors).hasSize(3).allSatisfy(e -> assertThat(e.at("/error/code").asInt()).isEqualTo(-32600));
      assertThat(errors).anySatisfy(e -> {
        assertThat(e.get("id").asInt()).isEqualTo(8);
        assertThat(e.at("/error/message").asText()).contains("initialize must not be part of a JSON-RPC batch");
      });
      assertThat(answers).anySatisfy(a -> {
        assertThat(a.get("id").asInt()).isEqualTo(7);
        assertThat(a.has("result")).isTrue();
      });
    }
    // The session is untouched: it still answers.
    try (Exchange ping = mcp.post(node.mcpUrl(), session, McpHttp.request(9, "ping", null))) {
      assertThat(ping.response().has("result")).isTrue();
    }
  }

  @Test
  void aBatchOfOnlyNotificationsAndResponsesIsAccepted202WithNoBody() throws Exception {
    String session = open("2025-03-26");
    ArrayNode batch = McpHttp.JSON.createArrayNode()
        .add(McpHttp.notification("notifications/roots/list_changed"))
        .add(McpHttp.json("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":99}}"))
        .add(McpHttp.json("{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"result\":{}}"));
    try (Exchange r = mcp.post(node.mcpUrl(), session, batch)) {
      assertThat(r.status).isEqualTo(202);
      assertThat(r.seen()).isEmpty();
    }
  }

  @Test
  void aBatchWhoseMemberSendsProgressFirstIsAnsweredAsSseWithEveryMessageAndAnswer() {
    String session = open("2025-03-26");
    ArrayNode batch = McpHttp.JSON.createArrayNode()
        .add(McpHttp.request(11, "tools/call", McpHttp.json("{\"name\":\"everything__trigger-long-running-operation\","
            + "\"arguments\":{\"duration\":0.4,\"steps\":2},\"_meta\":{\"progressToken\":\"batch-progress\"}}")))
        .add(echo(12, "beside"));
    try (Exchange r = mcp.post(node.mcpUrl(), session, batch)) {
      assertThat(r.status).isEqualTo(200);
      assertThat(r.contentType).startsWith("text/event-stream");
      JsonNode longAnswer = r.await(m -> m.path("id").asInt() == 11 && m.has("result"), WAIT);
      assertThat(longAnswer.at("/result/content/0/text").asText()).contains("Long running operation completed");
      List<JsonNode> all = new ArrayList<>(r.seen());
      if (all.stream().noneMatch(m -> m.path("id").asInt() == 12)) {
        all.add(r.await(m -> m.path("id").asInt() == 12, WAIT));
      }
      assertThat(all).filteredOn(m -> "notifications/progress".equals(m.path("method").asText()))
          .hasSize(2)
          .allSatisfy(p -> assertThat(p.at("/params/progressToken").asText()).isEqualTo("batch-progress"));
      assertThat(all).filteredOn(m -> m.path("id").asInt() == 12).singleElement()
          .satisfies(m -> assertThat(m.at("/result/content/0/text").asText()).isEqualTo("Echo: beside"));
    }
  }

  @Test
  void aBatchFromA2025_06_18OrLaterSessionIsRefusedWithInvalidRequest() {
    for (String version : List.of("2025-06-18", "2025-11-25")) {
      String session = open(version);
      ArrayNode batch = McpHttp.JSON.createArrayNode().add(McpHttp.request(1, "ping", null));
      try (Exchange r = mcp.post(node.mcpUrl(), session, batch)) {
        assertThat(r.status).as(version).isEqualTo(400);
        JsonNode error = r.await(m -> m.has("error"), WAIT);
        assertThat(error.at("/error/code").asInt()).isEqualTo(-32600);
        assertThat(error.at("/error/message").asText()).contains("batches are not supported in protocol version " + version);
      }
    }
  }

  @Test
  void aBatchWithoutASessionIsRefused() {
    ArrayNode batch = McpHttp.JSON.createArrayNode().add(initialize("2025-03-26"));
    try (Exchange r = mcp.post(node.mcpUrl(), null, batch)) {
      assertThat(r.status).isEqualTo(400);
      assertThat(r.await(m -> m.has("error"), WAIT).at("/error/message").asText())
          .contains("initialize must be sent alone");
    }
  }

  @Test
  void anInitializeInsideALiveSessionIsRefusedAndTheSessionKeepsWorking() {
    String session = open("2025-11-25");
    try (Exchange again = mcp.post(node.mcpUrl(), session, initialize("2025-11-25").put("id", 21))) {
      assertThat(again.status).isEqualTo(400);
      JsonNode error = again.response();
      assertThat(error.get("id").asInt()).isEqualTo(21);
      assertThat(error.at("/error/code").asInt()).isEqualTo(-32600);
      assertThat(error.at("/error/message").asText()).contains("session already initialized");
      assertThat(again.sessionId).isNull();
    }
    try (Exchange call = mcp.post(node.mcpUrl(), session, echo(22, "still here"))) {
      assertThat(call.response().at("/result/content/0/text").asText()).isEqualTo("Echo: still here");
    }
  }

  @Test
  void anInitializeCarryingTheIdOfAnEndedSessionStartsANewSession() {
    String ended = open("2025-11-25");
    try (Exchange d = mcp.delete(node.mcpUrl(), ended)) {
      assertThat(d.status).isEqualTo(200);
    }
    try (Exchange init = mcp.post(node.mcpUrl(), ended, initialize("2025-11-25"))) {
      assertThat(init.status).isEqualTo(200);
      assertThat(init.sessionId).isNotNull().isNotEqualTo(ended);
      assertThat(init.response().at("/result/protocolVersion").asText()).isEqualTo("2025-11-25");
    }
  }

  @Test
  void aSecondInitializeOnALegacySseSessionIsRefusedOnItsStream() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    BlockingQueue<String> data = new LinkedBlockingQueue<>();
    HttpResponse<java.util.stream.Stream<String>> stream = http.send(
        HttpRequest.newBuilder(URI.create(node.sseUrl())).header("Accept", "text/event-stream").GET().build(),
        HttpResponse.BodyHandlers.ofLines());
    Thread reader = new Thread(() -> stream.body().filter(l -> l.startsWith("data:"))
        .forEach(l -> data.add(l.substring(5).strip())), "legacy-sse-reader");
    reader.setDaemon(true);
    reader.start();
    try {
      String endpoint = data.poll(30, TimeUnit.SECONDS);
      assertThat(endpoint).startsWith("/messages?sessionId=");
      URI messages = URI.create(node.baseUrl() + endpoint);
      for (int id : new int[] {31, 32}) {
        HttpResponse<String> posted = http.send(HttpRequest.newBuilder(messages)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(initialize("2024-11-05").put("id", id).toString())).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).isEqualTo(202);
        JsonNode answer = McpHttp.JSON.readTree(data.poll(30, TimeUnit.SECONDS));
        assertThat(answer.get("id").asInt()).isEqualTo(id);
        if (id == 31) {
          assertThat(answer.at("/result/protocolVersion").asText()).isEqualTo("2024-11-05");
        } else {
          assertThat(answer.at("/error/code").asInt()).isEqualTo(-32600);
          assertThat(answer.at("/error/message").asText()).contains("session already initialized");
        }
      }
    } finally {
      stream.body().close();
    }
  }
}
