package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.McpHttp;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the MCP edge's dispatch against a real node fronting the real
 * server-everything over stdio (docs/fuzzing.md): random JSON-RPC (every method the edge knows and
 * random ones, valid and invalid ids and params, tool calls with random arguments, notifications,
 * responses, batches, damaged bytes) and random Accept / MCP-Protocol-Version headers, POSTed in
 * a live session. Invariants: no 5xx (on one healthy node, every 5xx would be Bastion's own: the
 * upstream's failures are JSON-RPC errors with HTTP 200); every answer to a request is one JSON-RPC
 * message carrying the request's id; every error is well formed; the node keeps serving.
 *
 * <p>jqwik has no per-class timeout like Jupiter's {@code @Timeout}; every HTTP exchange here has
 * its own (30 s), so a hang fails the property instead of the build.
 */
class EdgeFuzzTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final String BOTH = "application/json, text/event-stream";

  static BastionTestNode node;
  static String session;
  static List<String> tools = List.of();

  @BeforeContainer
  static void start() {
    node = BastionTestNode.start(List.of(EverythingServer.startStdioConfig()));
    node.awaitReady("everything");
    session = new McpHttp().initialize(node.mcpUrl(), false);
    JsonNode list = post(JsonRpc.request(Json.NODES.numberNode(1), "tools/list", null).toString(), session, BOTH,
        McpHttp.VERSION).message;
    List<String> names = new ArrayList<>();
    list.path("result").path("tools").forEach(t -> names.add(t.path("name").asText()));
    // A long-running tool with a fuzzed duration would only measure patience.
    names.removeIf(n -> n.contains("long-running"));
    assertThat(names).isNotEmpty();
    tools = List.copyOf(names);
  }

  @AfterContainer
  static void stop() {
    if (node != null) {
      try {
        // The node survived the barrage: a new session still lists and calls tools.
        String fresh = new McpHttp().initialize(node.mcpUrl(), false);
        Answer listed = post(JsonRpc.request(Json.NODES.numberNode(7), "tools/list", null).toString(), fresh, BOTH,
            McpHttp.VERSION);
        assertThat(listed.status).isEqualTo(200);
        assertThat(listed.message.path("result").path("tools").size()).isEqualTo(tools.size() + 1);
      } finally {
        node.close();
      }
    }
  }

  @Property(tries = 300, seed = "10541")
  void randomJsonRpcGetsNo5xxAndKeepsItsId(@ForAll("messages") ObjectNode message, @ForAll("accepts") String accept,
      @ForAll("versions") String version) {
    String body = message.toString();
    Answer a = post(body, session, accept, version);
    checkAnswer(a, message);
  }

  @Property(tries = 150, seed = "10542")
  void damagedBodiesGetNo5xx(@ForAll("messages") ObjectNode message, @ForAll long seed) {
    byte[] bytes = damage(message.toString().getBytes(StandardCharsets.UTF_8), new Random(seed));
    Answer a = post(bytes, session, BOTH, McpHttp.VERSION);
    assertThat(a.status).as("status for %s", a.body).isBetween(200, 499);
    if (a.message != null && a.message.has("error")) {
      assertWellFormedError(a.message);
    }
  }

  /**
   * Regression (found by the HTTP barrage): a body cut short of its Content-Length by the client
   * closing its side failed the read with Pekko's EntityStreamException, answered 500 "Internal
   * error" and logged as an unexpected failure; it is the client's fault: 400, -32700.
   */
  @Example
  void aBodyCutShortOfItsContentLengthIsABadRequest() throws IOException {
    URI u = URI.create(node.mcpUrl());
    String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    String head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Accept: " + BOTH + "\r\nMcp-Session-Id: " + session + "\r\nContent-Length: " + (body.length() + 40)
        + "\r\nConnection: close\r\n\r\n";
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write((head + body).getBytes(StandardCharsets.UTF_8));
      s.shutdownOutput();
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 400").contains("-32700");
    }
  }

  static void checkAnswer(Answer a, ObjectNode message) {
    assertThat(a.status).as("status for %s -> %s", message, a.body).isBetween(200, 499);
    JsonNode id = message.get("id");
    boolean isRequest = message.path("method").isTextual() && id != null;
    if (a.status == 202) {
      assertThat(isRequest && JsonRpc.isValidId(id)).as("202 for a request %s", message).isFalse();
      return;
    }
    if (a.status == 406 || a.status == 404) {
      return;
    }
    assertThat(a.message).as("a JSON-RPC answer for %s: %s", message, a.body).isNotNull();
    assertThat(a.message.path("jsonrpc").asText()).isEqualTo("2.0");
    if (a.message.has("error")) {
      assertWellFormedError(a.message);
    } else {
      assertThat(a.message.has("result")).isTrue();
    }
    if (id != null && JsonRpc.isValidId(id) && message.path("method").isTextual()
        && !message.path("method").asText().isEmpty()) {
      assertThat(JsonRpc.sameId(a.message.get("id"), id)).as("id of %s in %s", message, a.body).isTrue();
    }
  }

  static void assertWellFormedError(JsonNode m) {
    assertThat(m.path("jsonrpc").asText()).isEqualTo("2.0");
    assertThat(m.has("id")).isTrue();
    assertThat(m.path("error").path("code").isIntegralNumber()).as("code in %s", m).isTrue();
    assertThat(m.path("error").path("message").isTextual()).as("message in %s", m).isTrue();
  }

  // ------------------------------------------------------------------ HTTP

  record Answer(int status, String body, JsonNode message) {}

  static Answer post(String body, String sessionId, String accept, String version) {
    return post(body.getBytes(StandardCharsets.UTF_8), sessionId, accept, version);
  }

  static Answer post(byte[] body, String sessionId, String accept, String version) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.mcpUrl())).timeout(TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (accept != null) {
      b.header("Accept", accept);
    }
    if (sessionId != null) {
      b.header("Mcp-Session-Id", sessionId);
    }
    if (version != null) {
      b.header("MCP-Protocol-Version", version);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body(), message(r));
    } catch (IOException e) {
      throw new AssertionError("no answer to " + new String(body, StandardCharsets.UTF_8), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The last JSON-RPC message of a JSON or SSE body; null if there is none. */
  static JsonNode message(HttpResponse<String> r) {
    String text = r.body().trim();
    if (r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
      String last = null;
      for (String line : text.split("\n")) {
        if (line.startsWith("data:") && !line.substring(5).isBlank()) {
          last = line.substring(5).trim();
        }
      }
      text = last;
    }
    if (text == null || text.isEmpty()) {
      return null;
    }
    try {
      return Json.MAPPER.readTree(text);
    } catch (IOException e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ generators

  static final List<String> METHODS = List.of("initialize", "ping", "tools/list", "tools/call", "resources/list",
      "resources/read", "resources/templates/list", "resources/subscribe", "resources/unsubscribe", "prompts/list",
      "prompts/get", "completion/complete", "logging/setLevel", "notifications/initialized",
      "notifications/cancelled", "notifications/progress", "notifications/roots/list_changed", "tasks/get",
      "tasks/list", "tasks/cancel", "sampling/createMessage", "bogus/method", "", "tools/call ");

  @Provide
  Arbitrary<ObjectNode> messages() {
    Arbitrary<JsonNode> id = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(-1000, 1_000_000).map(i -> (JsonNode) Json.NODES.numberNode(i))),
        net.jqwik.api.Tuple.of(2, Arbitraries.strings().ofMaxLength(12).map(s -> (JsonNode) Json.NODES.textNode(s))),
        net.jqwik.api.Tuple.of(1, Arbitraries.longs().map(l -> (JsonNode) Json.NODES.numberNode(BigInteger.valueOf(l).shiftLeft(8)))),
        net.jqwik.api.Tuple.of(1, Arbitraries.of((JsonNode) Json.NODES.nullNode(), Json.NODES.numberNode(1.5),
            Json.NODES.booleanNode(true), Json.object(), Json.NODES.arrayNode())),
        net.jqwik.api.Tuple.of(1, Arbitraries.just((JsonNode) null)));
    Arbitrary<String> method = Arbitraries.oneOf(Arbitraries.of(METHODS), Arbitraries.strings().ofMaxLength(10));
    Arbitrary<JsonNode> params = Arbitraries.oneOf(paramsFor(), value(2));
    return Combinators.combine(id, method, params, Arbitraries.integers().between(0, 19)).as((i, m, p, shape) -> {
      ObjectNode o = Json.object();
      if (shape != 0) {
        o.put("jsonrpc", shape == 1 ? "1.0" : "2.0");
      }
      if (i != null) {
        o.set("id", i);
      }
      if (shape == 2) {
        o.set("result", p);
      } else if (shape == 3) {
        o.set("error", Json.object().put("code", -1).put("message", "x"));
      } else {
        o.put("method", m);
        if (shape != 4) {
          o.set("params", p);
        }
      }
      if (shape == 5) {
        ObjectNode batch = Json.object();
        batch.set("batch", Json.NODES.arrayNode().add(o.deepCopy()).add(o.deepCopy()));
        return batch;
      }
      return o;
    });
  }

  /** Params shaped like the real ones: tool names from the live catalog, random arguments. */
  Arbitrary<JsonNode> paramsFor() {
    Arbitrary<String> tool = Arbitraries.oneOf(Arbitraries.of(tools),
        Arbitraries.of(tools).map(t -> t + "x"), Arbitraries.strings().ofMaxLength(8));
    Arbitrary<JsonNode> args = Arbitraries.maps(
        Arbitraries.of("message", "a", "b", "prompt", "uri", "level", "includeImage", "duration", "steps",
            "resourceId", "x"), value(1)).ofMaxSize(4).map(m -> {
              ObjectNode o = Json.object();
              m.forEach(o::set);
              return (JsonNode) o;
            });
    return Combinators.combine(tool, args, value(1), Arbitraries.integers().between(0, 5)).as((t, a, v, shape) -> {
      ObjectNode p = Json.object();
      switch (shape) {
        case 0 -> p.put("name", t).set("arguments", a);
        case 1 -> p.put("name", t);
        case 2 -> p.put("uri", "demo://resource/static/document/" + t).set("_meta", a);
        case 3 -> p.put("cursor", t).put("level", t);
        case 4 -> p.put("name", t).set("arguments", v);
        default -> p.set("_meta", Json.object().set("progressToken", v));
      }
      return p;
    });
  }

  static Arbitrary<JsonNode> value(int depth) {
    Arbitrary<JsonNode> leaf = Arbitraries.oneOf(
        Arbitraries.integers().between(-5, 100).map(i -> (JsonNode) Json.NODES.numberNode(i)),
        Arbitraries.strings().ofMaxLength(16).map(s -> (JsonNode) Json.NODES.textNode(s)),
        Arbitraries.of((JsonNode) Json.NODES.nullNode(), Json.NODES.booleanNode(false), Json.NODES.numberNode(1e308),
            Json.NODES.textNode("debug"), Json.NODES.textNode("demo://resource/static/document/architecture.md")));
    if (depth == 0) {
      return leaf;
    }
    Arbitrary<JsonNode> inner = Arbitraries.lazy(() -> value(depth - 1));
    return Arbitraries.oneOf(leaf,
        inner.list().ofMaxSize(3).map(l -> {
          ArrayNode a = Json.NODES.arrayNode();
          l.forEach(a::add);
          return (JsonNode) a;
        }),
        Arbitraries.maps(Arbitraries.strings().alpha().ofMaxLength(5), inner).ofMaxSize(3).map(m -> {
          ObjectNode o = Json.object();
          m.forEach(o::set);
          return (JsonNode) o;
        }));
  }

  @Provide
  Arbitrary<String> accepts() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, Arbitraries.just(BOTH)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("*/*", "application/json", "text/event-stream", ";", ",", ", ;",
            "application/json;q=0.9, text/event-stream;q=0.1", "APPLICATION/JSON, TEXT/EVENT-STREAM", " ")),
        net.jqwik.api.Tuple.of(1, Arbitraries.strings().withChars("a/json,;=* -").ofMaxLength(20)));
  }

  @Provide
  Arbitrary<String> versions() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, Arbitraries.just(McpHttp.VERSION)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("2025-06-18", "2025-03-26", "2024-11-05", "2099-01-01", "", "x")),
        net.jqwik.api.Tuple.of(1, Arbitraries.strings().alpha().numeric().ofMaxLength(12)));
  }

  static byte[] damage(byte[] in, Random r) {
    byte[] out = in.clone();
    int n = 1 + r.nextInt(4);
    for (int k = 0; k < n && out.length > 0; k++) {
      int at = r.nextInt(out.length);
      switch (r.nextInt(3)) {
        case 0 -> out[at] = (byte) r.nextInt(256);
        case 1 -> out = java.util.Arrays.copyOf(out, at);
        default -> out[at] = "{}[]\":,".getBytes(StandardCharsets.US_ASCII)[r.nextInt(7)];
      }
    }
    return out;
  }
}
