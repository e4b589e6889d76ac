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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.ThrowingConsumer;
/**
 * Property-based fuzzing of the MCP edge's dispatch against a real node fronting the real
 * server-everything over stdio (docs/fuzzing.md): random JSON-RPC (every method the edge knows and
 * random ones, valid and invalid ids and params, tool calls with random arguments, notifications,
 * responses, batches, damaged bytes) and random Accept / MCP-Protocol-Version headers, POSTed in
 * a live session. Invariants: no 5xx (on one healthy node, every 5xx would be Bastion's own: the
 * upstream's failures are JSON-RPC errors with HTTP 200); every answer to a request is one JSON-RPC
 * message carrying the request's id; every error is well formed; the node keeps serving.
 *
 * <p>Seeded plain JUnit: each property draws its cases from a {@link SplittableRandom} seeded from
 * {@link #SEED}; a failure names the property, the seed and the case's own seed (from which
 * {@code new SplittableRandom(caseSeed)} regenerates the input) and prints the input. No shrinking.
 * Every HTTP exchange has its own timeout (30 s) and the class one per test method, so a hang fails
 * a test instead of the build.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class EdgeFuzzTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final String BOTH = "application/json, text/event-stream";

  static BastionTestNode node;
  static String session;
  static List<String> tools = List.of();

  @BeforeAll
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

  @AfterAll
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

  /** Property k draws its cases from {@code new SplittableRandom(SEED + k)}. */
  static final long SEED = 10540L;

  record Sent(ObjectNode message, String accept, String version) {}

  record Damaged(ObjectNode message, long seed) {}

  @Test
  void randomJsonRpcGetsNo5xxAndKeepsItsId() {
    forAll("randomJsonRpc", 1, 300, r -> new Sent(message(r), accept(r), version(r)), c -> {
      Answer a = post(c.message().toString(), session, c.accept(), c.version());
      checkAnswer(a, c.message());
    });
  }

  @Test
  void damagedBodiesGetNo5xx() {
    forAll("damagedBodies", 2, 150, r -> new Damaged(message(r), r.nextLong()), c -> {
      byte[] bytes = damage(c.message().toString().getBytes(StandardCharsets.UTF_8), new Random(c.seed()));
      Answer a = post(bytes, session, BOTH, McpHttp.VERSION);
      assertThat(a.status).as("status for %s", a.body).isBetween(200, 499);
      if (a.message != null && a.message.has("error")) {
        assertWellFormedError(a.message);
      }
    });
  }

  /**
   * Runs {@code check} on {@code tries} inputs; case i is generated from its own
   * {@code SplittableRandom(caseSeed)}, the case seeds coming from {@code SplittableRandom(SEED + property)}.
   */
  static <T> void forAll(String name, int property, int tries, Function<SplittableRandom, T> gen,
      ThrowingConsumer<T> check) {
    SplittableRandom cases = new SplittableRandom(SEED + property);
    for (int i = 0; i < tries; i++) {
      long caseSeed = cases.nextLong();
      T input = gen.apply(new SplittableRandom(caseSeed));
      try {
        check.accept(input);
      } catch (Throwable t) {
        throw new AssertionError(String.format("property %s failed at case %d of %d (SEED %d + %d, case seed %d)"
            + "; input: %s", name, i, tries, SEED, property, caseSeed, input), t);
      }
    }
  }

  /**
   * Regression (found by the HTTP barrage): a body cut short of its Content-Length by the client
   * closing its side failed the read with Pekko's EntityStreamException, answered 500 "Internal
   * error" and logged as an unexpected failure; it is the client's fault: 400, -32700.
   */
  @Test
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

  static <T> T pick(SplittableRandom r, List<T> from) {
    return from.get(r.nextInt(from.size()));
  }

  static String charsFrom(SplittableRandom r, String chars, int maxLength) {
    int n = r.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(chars.charAt(r.nextInt(chars.length())));
    }
    return b.toString();
  }

  /** Any string up to maxLength: mostly ASCII, also controls, Latin-1, other BMP and supplementary characters. */
  static String anyString(SplittableRandom r, int maxLength) {
    int n = r.nextInt(8) == 0 ? 0 : r.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.appendCodePoint(switch (r.nextInt(10)) {
        case 0 -> r.nextInt(0x20);
        case 1 -> r.nextInt(0x80, 0x100);
        case 2 -> r.nextInt(0x100, 0xD800);
        case 3 -> r.nextInt(0xE000, 0xFFFE);
        case 4 -> r.nextInt(0x10000, 0x110000);
        default -> r.nextInt(0x20, 0x7F);
      });
    }
    return b.toString();
  }

  private static final String ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  /** Ids: small ints 6 : strings 2 : huge (long << 8) 1 : invalid kinds 1 : absent 1. */
  static JsonNode id(SplittableRandom r) {
    int f = r.nextInt(11);
    if (f < 6) {
      return Json.NODES.numberNode(r.nextInt(-1000, 1_000_001));
    }
    if (f < 8) {
      return Json.NODES.textNode(anyString(r, 12));
    }
    if (f < 9) {
      long l = r.nextInt(4) == 0 ? new long[] {0, -1, Long.MAX_VALUE, Long.MIN_VALUE}[r.nextInt(4)] : r.nextLong();
      return Json.NODES.numberNode(BigInteger.valueOf(l).shiftLeft(8));
    }
    if (f < 10) {
      return pick(r, List.of(Json.NODES.nullNode(), Json.NODES.numberNode(1.5), Json.NODES.booleanNode(true),
          Json.object(), Json.NODES.arrayNode()));
    }
    return null;
  }

  static ObjectNode message(SplittableRandom r) {
    JsonNode i = id(r);
    String m = r.nextBoolean() ? pick(r, METHODS) : anyString(r, 10);
    JsonNode p = r.nextBoolean() ? paramsFor(r) : value(r, 2);
    int shape = r.nextInt(20);
    ObjectNode o = Json.object();
    if (shape != 0) {
      o.put("jsonrpc", shape == 1 ? "1.0" : "2.0");
    }
    if (i != null) {
      o.set("id", i.deepCopy());
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
  }

  private static final List<String> ARG_NAMES = List.of("message", "a", "b", "prompt", "uri", "level",
      "includeImage", "duration", "steps", "resourceId", "x");

  /** Params shaped like the real ones: tool names from the live catalog, random arguments. */
  static JsonNode paramsFor(SplittableRandom r) {
    String t = switch (r.nextInt(3)) {
      case 0 -> pick(r, tools);
      case 1 -> pick(r, tools) + "x";
      default -> anyString(r, 8);
    };
    ObjectNode a = Json.object();
    for (int k = r.nextInt(5); k > 0; k--) {
      a.set(pick(r, ARG_NAMES), value(r, 1));
    }
    JsonNode v = value(r, 1);
    ObjectNode p = Json.object();
    switch (r.nextInt(6)) {
      case 0 -> p.put("name", t).set("arguments", a);
      case 1 -> p.put("name", t);
      case 2 -> p.put("uri", "demo://resource/static/document/" + t).set("_meta", a);
      case 3 -> p.put("cursor", t).put("level", t);
      case 4 -> p.put("name", t).set("arguments", v);
      default -> p.set("_meta", Json.object().set("progressToken", v));
    }
    return p;
  }

  /** Values: leaves, lists of up to 3 and objects of up to 3 (alphabetic keys), nested up to depth. */
  static JsonNode value(SplittableRandom r, int depth) {
    int kind = depth == 0 ? 0 : r.nextInt(3);
    if (kind == 1) {
      ArrayNode a = Json.NODES.arrayNode();
      for (int k = r.nextInt(4); k > 0; k--) {
        a.add(value(r, depth - 1));
      }
      return a;
    }
    if (kind == 2) {
      ObjectNode o = Json.object();
      for (int k = r.nextInt(4); k > 0; k--) {
        o.set(charsFrom(r, ALPHA, 5), value(r, depth - 1));
      }
      return o;
    }
    return switch (r.nextInt(3)) {
      case 0 -> Json.NODES.numberNode(r.nextInt(-5, 101));
      case 1 -> Json.NODES.textNode(anyString(r, 16));
      default -> pick(r, List.<JsonNode>of(Json.NODES.nullNode(), Json.NODES.booleanNode(false),
          Json.NODES.numberNode(1e308), Json.NODES.textNode("debug"),
          Json.NODES.textNode("demo://resource/static/document/architecture.md")));
    };
  }

  /** Accept: both types 8 : known variants 1 : random media-range-ish text 1. */
  static String accept(SplittableRandom r) {
    int f = r.nextInt(10);
    if (f < 8) {
      return BOTH;
    }
    if (f < 9) {
      return pick(r, List.of("*/*", "application/json", "text/event-stream", ";", ",", ", ;",
          "application/json;q=0.9, text/event-stream;q=0.1", "APPLICATION/JSON, TEXT/EVENT-STREAM", " "));
    }
    return charsFrom(r, "a/json,;=* -", 20);
  }

  /** MCP-Protocol-Version: current 8 : other dates and junk 1 : random alphanumeric 1. */
  static String version(SplittableRandom r) {
    int f = r.nextInt(10);
    if (f < 8) {
      return McpHttp.VERSION;
    }
    if (f < 9) {
      return pick(r, List.of("2025-06-18", "2025-03-26", "2024-11-05", "2099-01-01", "", "x"));
    }
    return charsFrom(r, ALPHA + "0123456789", 12);
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
