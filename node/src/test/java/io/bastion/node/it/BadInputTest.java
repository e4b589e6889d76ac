package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile and broken HTTP input against {@code /mcp} with a raw {@link HttpClient}: every case gets
 * the documented status and JSON-RPC error, and the node keeps answering afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BadInputTest {
  private static final String INIT = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
      + "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bad-input-it\",\"version\":\"1\"}}}";
  private static final String BOTH = "application/json, text/event-stream";

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private BastionTestNode node;

  @BeforeAll
  void start() {
    String yaml = "gateway:\n"
        + "  max_request_bytes: 2KiB\n"
        + "mcp:\n"
        + "  servers:\n"
        + "    - name: fixture\n"
        + "      type: stdio\n"
        + "      command: " + TsClient.json(FixtureServer.stdioCommand()) + "\n";
    node = BastionTestNode.startYaml(yaml, Map.of(), ConfigFactory.empty());
    node.awaitReady("fixture");
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  // ---------------------------------------------------------------- helpers

  private HttpResponse<String> post(String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.mcpUrl()))
        .timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    boolean accept = false;
    boolean contentType = false;
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
      accept |= headers[i].equalsIgnoreCase("Accept");
      contentType |= headers[i].equalsIgnoreCase("Content-Type");
    }
    if (!accept) {
      b.header("Accept", BOTH);
    }
    if (!contentType) {
      b.header("Content-Type", "application/json");
    }
    return send(b.build());
  }

  private HttpResponse<String> send(HttpRequest req) {
    try {
      return http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The JSON-RPC message of a response, whether sent as JSON or as a one-event SSE stream. */
  private static JsonNode body(HttpResponse<String> r) {
    String b = r.body().trim();
    if (r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
      String last = null;
      for (String line : b.split("\n")) {
        if (line.startsWith("data:")) {
          last = line.substring(5).trim();
        }
      }
      b = last;
    }
    try {
      return TsClient.JSON.readTree(b);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + r.body(), e);
    }
  }

  private static int errorCode(HttpResponse<String> r) {
    JsonNode b = body(r);
    assertThat(b.has("error")).as("error in %s", r.body()).isTrue();
    return b.path("error").path("code").asInt();
  }

  /** Opens a session: initialize + notifications/initialized; returns its id. */
  private String session() {
    HttpResponse<String> init = post(INIT);
    assertThat(init.statusCode()).as(init.body()).isEqualTo(200);
    String id = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
    HttpResponse<String> initialized = post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
        "Mcp-Session-Id", id, "MCP-Protocol-Version", "2025-11-25");
    assertThat(initialized.statusCode()).isEqualTo(202);
    return id;
  }

  private HttpResponse<String> inSession(String session, String body) {
    return post(body, "Mcp-Session-Id", session, "MCP-Protocol-Version", "2025-11-25");
  }

  private void assertPingWorks() {
    String s = session();
    HttpResponse<String> ping = inSession(s, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
    assertThat(ping.statusCode()).isEqualTo(200);
    assertThat(body(ping).path("id").asText()).isEqualTo("p");
    assertThat(body(ping).path("result").isObject()).isTrue();
  }

  // ---------------------------------------------------------------- cases

  @Test
  void malformedJsonIs400ParseError() {
    HttpResponse<String> r = post("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(errorCode(r)).isEqualTo(-32700);
    assertPingWorks();
  }

  @Test
  void messageWithoutMethodOrResultIsInvalidRequest() {
    HttpResponse<String> r = post("{\"jsonrpc\":\"2.0\",\"id\":1}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(errorCode(r)).isEqualTo(-32600);
    HttpResponse<String> wrongVersion = post("{\"jsonrpc\":\"1.0\",\"id\":2,\"method\":\"ping\"}");
    assertThat(wrongVersion.statusCode()).isEqualTo(400);
    assertThat(errorCode(wrongVersion)).isEqualTo(-32600);
    assertPingWorks();
  }

  @Test
  void unknownMethodIsMethodNotFound() {
    String s = session();
    HttpResponse<String> r = inSession(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"no/such/method\"}");
    assertThat(errorCode(r)).isEqualTo(-32601);
    assertThat(body(r).path("id").asInt()).isEqualTo(7);
  }

  @Test
  void initializeWithoutProtocolVersionIsInvalidParamsWithTheRequestsId() {
    HttpResponse<String> r = post("{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"initialize\",\"params\":{}}");
    assertThat(errorCode(r)).isEqualTo(-32602);
    assertThat(body(r).path("id").asInt()).isEqualTo(41);
    assertThat(r.headers().firstValue("Mcp-Session-Id")).isEmpty();
  }

  @Test
  void toolsCallWithoutNameIsInvalidParams() {
    String s = session();
    HttpResponse<String> r = inSession(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}");
    assertThat(errorCode(r)).isEqualTo(-32602);
    assertThat(body(r).path("id").asInt()).isEqualTo(8);
    HttpResponse<String> unknown = inSession(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"fixture__nope\"}}");
    assertThat(errorCode(unknown)).isEqualTo(-32602);
  }

  @Test
  void bodyOverMaxRequestBytesIs413() {
    String s = session();
    String big = "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":\"fixture__slow_echo\","
        + "\"arguments\":{\"ms\":1,\"message\":\"" + "x".repeat(4096) + "\"}}}";
    HttpResponse<String> r = inSession(s, big);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
    // Just under the limit is fine.
    String small = "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":\"fixture__slow_echo\","
        + "\"arguments\":{\"ms\":1,\"message\":\"" + "y".repeat(1500) + "\"}}}";
    HttpResponse<String> ok = inSession(s, small);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(body(ok).path("result").path("content").get(0).path("text").asText()).hasSize(1500);
  }

  @Test
  void foreignOriginIs403() {
    HttpResponse<String> r = post(INIT, "Origin", "http://evil.example");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.headers().firstValue("Mcp-Session-Id")).isEmpty();
    HttpResponse<String> loopback = post(INIT, "Origin", "http://localhost:3000");
    assertThat(loopback.statusCode()).isEqualTo(200);
  }

  @Test
  void foreignHostIs403() throws IOException {
    // java.net.http refuses to set Host, so this one goes over a plain socket.
    String status = rawPost("evil.example", INIT);
    assertThat(status).startsWith("HTTP/1.1 403");
    String ok = rawPost("localhost:" + URI.create(node.mcpUrl()).getPort(), INIT);
    assertThat(ok).startsWith("HTTP/1.1 200");
  }

  private String rawPost(String host, String body) throws IOException {
    URI u = URI.create(node.mcpUrl());
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), u.getPort())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST " + u.getPath() + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: " + BOTH
          + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(bytes);
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder line = new StringBuilder();
      int c;
      while ((c = in.read()) != -1 && c != '\n') {
        line.append((char) c);
      }
      return line.toString().trim();
    }
  }

  @Test
  void acceptWithoutEventStreamIs406() {
    HttpResponse<String> r = post(INIT, "Accept", "application/json");
    assertThat(r.statusCode()).isEqualTo(406);
  }

  @Test
  void unknownSessionIs404() {
    HttpResponse<String> r = post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}",
        "Mcp-Session-Id", "no-such-session-0123456789", "MCP-Protocol-Version", "2025-11-25");
    assertThat(r.statusCode()).isEqualTo(404);
  }

  @Test
  void deletedSessionIs404OnReuse() {
    String s = session();
    HttpResponse<String> del = send(HttpRequest.newBuilder(URI.create(node.mcpUrl()))
        .timeout(Duration.ofSeconds(20)).header("Mcp-Session-Id", s).DELETE().build());
    assertThat(del.statusCode()).isBetween(200, 204);
    HttpResponse<String> reuse = inSession(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}");
    assertThat(reuse.statusCode()).isEqualTo(404);
    HttpResponse<String> deleteAgain = send(HttpRequest.newBuilder(URI.create(node.mcpUrl()))
        .timeout(Duration.ofSeconds(20)).header("Mcp-Session-Id", s).DELETE().build());
    assertThat(deleteAgain.statusCode()).isEqualTo(404);
  }

  @Test
  void unsupportedProtocolVersionIs400() {
    String s = session();
    HttpResponse<String> r = post("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}",
        "Mcp-Session-Id", s, "MCP-Protocol-Version", "1999-01-01");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("1999-01-01");
  }

  @Test
  void nodeStillAnswersPingAfterAllOfThat() {
    // Runs in any order with the others; hammer a few bad inputs first, then ping.
    for (String bad : List.of("{", "[]", "{\"jsonrpc\":\"2.0\",\"id\":1}", "null", "\"x\"")) {
      HttpResponse<String> r = post(bad);
      assertThat(r.statusCode()).as("for %s", bad).isEqualTo(400);
    }
    assertPingWorks();
  }
}
