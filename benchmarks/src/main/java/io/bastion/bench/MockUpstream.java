package io.bastion.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A fast MCP server of our own for the benchmarks: one tool, {@code echo}, answering after a
 * configurable latency with a configurable payload size. Streamable HTTP with JSON responses (JDK
 * {@code HttpServer} on 127.0.0.1), or stdio (newline-delimited JSON-RPC on stdin/stdout).
 *
 * <pre>
 * java -cp … io.bastion.bench.MockUpstream [--port N] [--latency-ms L] [--payload-bytes B] [--threads T]
 * java -cp … io.bastion.bench.MockUpstream --stdio [--latency-ms L] [--payload-bytes B]
 * </pre>
 *
 * <p>In HTTP mode it prints {@code MockUpstream listening on http://127.0.0.1:PORT/mcp}.
 */
public final class MockUpstream implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String PROTOCOL = "2025-06-18";

  private final HttpServer server;
  private final ExecutorService workers;
  private final ScheduledExecutorService delays;
  private final long latencyMs;
  private final String payload;

  private MockUpstream(HttpServer server, ExecutorService workers, long latencyMs, int payloadBytes) {
    this.server = server;
    this.workers = workers;
    this.latencyMs = latencyMs;
    this.payload = "x".repeat(Math.max(0, payloadBytes));
    this.delays = latencyMs > 0 ? Executors.newSingleThreadScheduledExecutor(daemon("mock-delay")) : null;
  }

  /** Starts an HTTP mock on 127.0.0.1 ({@code port} 0 picks a free one). */
  public static MockUpstream startHttp(int port, long latencyMs, int payloadBytes, int threads) throws IOException {
    // Without TCP_NODELAY the JDK server's separate header and body writes meet delayed ACKs: +40 ms.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
    ExecutorService pool = Executors.newFixedThreadPool(threads, daemon("mock-http"));
    MockUpstream m = new MockUpstream(s, pool, latencyMs, payloadBytes);
    s.createContext("/mcp", m::handle);
    s.setExecutor(pool);
    s.start();
    return m;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public String url() {
    return "http://127.0.0.1:" + port() + "/mcp";
  }

  @Override
  public void close() {
    server.stop(0);
    workers.shutdownNow();
    if (delays != null) {
      delays.shutdownNow();
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    if (!"POST".equals(method)) {
      // No GET stream; DELETE of a session is accepted and ignored.
      ex.getResponseHeaders().add("Allow", "POST");
      ex.sendResponseHeaders("DELETE".equals(method) ? 200 : 405, -1);
      ex.close();
      return;
    }
    byte[] body = ex.getRequestBody().readAllBytes();
    JsonNode msg;
    try {
      msg = JSON.readTree(body);
    } catch (IOException e) {
      send(ex, 400, error(null, -32700, "Parse error"));
      return;
    }
    if (msg == null || !msg.has("method") || !msg.has("id")) {
      // a notification or a response from the client
      ex.sendResponseHeaders(202, -1);
      ex.close();
      return;
    }
    String m = msg.get("method").asText();
    if ("initialize".equals(m)) {
      ex.getResponseHeaders().add("Mcp-Session-Id", UUID.randomUUID().toString());
    }
    byte[] answer = answer(msg);
    if (latencyMs > 0 && "tools/call".equals(m)) {
      delays.schedule(() -> {
        try {
          send(ex, 200, answer);
        } catch (IOException ignored) {
          // client went away
        }
      }, latencyMs, TimeUnit.MILLISECONDS);
    } else {
      send(ex, 200, answer);
    }
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(body);
    }
  }

  /** The JSON-RPC answer to one request. */
  byte[] answer(JsonNode msg) {
    JsonNode id = msg.get("id");
    String m = msg.get("method").asText();
    ObjectNode result = JSON.createObjectNode();
    switch (m) {
      case "initialize" -> {
        JsonNode asked = msg.path("params").path("protocolVersion");
        result.put("protocolVersion", asked.isTextual() ? asked.asText() : PROTOCOL);
        result.putObject("capabilities").putObject("tools");
        result.putObject("serverInfo").put("name", "bastion-bench-mock").put("version", "1");
      }
      case "ping" -> { /* empty result */ }
      case "tools/list" -> {
        ArrayNode tools = result.putArray("tools");
        ObjectNode echo = tools.addObject();
        echo.put("name", "echo");
        echo.put("description", "Echoes its text argument (plus a fixed-size payload).");
        ObjectNode schema = echo.putObject("inputSchema");
        schema.put("type", "object");
        schema.putObject("properties").putObject("text").put("type", "string");
      }
      case "tools/call" -> {
        String text = msg.path("params").path("arguments").path("text").asText("");
        ObjectNode content = result.putArray("content").addObject();
        content.put("type", "text");
        content.put("text", text + payload);
        result.put("isError", false);
      }
      default -> {
        return error(id, -32601, "Method not found: " + m);
      }
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("jsonrpc", "2.0");
    out.set("id", id);
    out.set("result", result);
    return bytes(out);
  }

  private static byte[] error(JsonNode id, int code, String message) {
    ObjectNode out = JSON.createObjectNode();
    out.put("jsonrpc", "2.0");
    out.set("id", id);
    out.putObject("error").put("code", code).put("message", message);
    return bytes(out);
  }

  private static byte[] bytes(JsonNode n) {
    try {
      return JSON.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Stdio mode: one JSON-RPC message per line on stdin, answers on stdout. */
  static void runStdio(long latencyMs, int payloadBytes) throws IOException {
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
        StandardCharsets.UTF_8);
    MockUpstream m = new MockUpstream(null, null, latencyMs, payloadBytes);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode msg;
      try {
        msg = JSON.readTree(line);
      } catch (IOException e) {
        continue;
      }
      if (!msg.has("method") || !msg.has("id")) {
        continue;
      }
      byte[] answer = m.answer(msg);
      if (latencyMs > 0 && "tools/call".equals(msg.get("method").asText())) {
        m.delays.schedule(() -> write(out, answer), latencyMs, TimeUnit.MILLISECONDS);
      } else {
        write(out, answer);
      }
    }
  }

  private static void write(PrintStream out, byte[] line) {
    synchronized (out) {
      out.write(line, 0, line.length);
      out.write('\n');
      out.flush();
    }
  }

  public static void main(String[] args) throws Exception {
    boolean stdio = false;
    int port = 0;
    long latency = 0;
    int payload = 64;
    int threads = 4;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--stdio" -> stdio = true;
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--latency-ms" -> latency = Long.parseLong(args[++i]);
        case "--payload-bytes" -> payload = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    if (stdio) {
      runStdio(latency, payload);
      return;
    }
    MockUpstream m = startHttp(port, latency, payload, threads);
    System.out.println("MockUpstream listening on " + m.url());
    System.out.flush();
    Thread.currentThread().join();
  }
}
