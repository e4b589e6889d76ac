package io.bastion.bench.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.bastion.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * Serves recorded {@code tools/list} answers of real MCP servers ({@link Fixtures}) as streamable
 * HTTP MCP servers on loopback, one path per server, so that Bastion lists their real tool
 * definitions (classic tools/list, stub files, docs) exactly as it would the live server's. The
 * tools only count as tokens in the benchmark: a {@code tools/call} is answered with
 * {@code isError: true} ("recorded definition only"); no episode calls them.
 */
public final class ReplayUpstream implements AutoCloseable {
  private final HttpServer server;

  public ReplayUpstream(Map<String, Fixtures.Server> servers) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "replay-upstream");
      t.setDaemon(true);
      return t;
    }));
    servers.forEach((name, s) -> server.createContext("/" + name, ex -> handle(ex, s)));
    server.start();
  }

  public URI url(String name) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/" + name);
  }

  private static void handle(HttpExchange ex, Fixtures.Server s) throws IOException {
    try (ex) {
      if (!"POST".equals(ex.getRequestMethod())) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      JsonNode req;
      try (InputStream in = ex.getRequestBody()) {
        req = Json.MAPPER.readTree(in);
      }
      if (req == null || !req.has("id") || !req.has("method")) {
        ex.sendResponseHeaders(202, -1); // notifications and responses
        return;
      }
      ObjectNode result = Json.object();
      switch (req.path("method").asText()) {
        case "initialize" -> {
          result.put("protocolVersion", req.path("params").path("protocolVersion").asText("2025-06-18"));
          result.putObject("capabilities").putObject("tools");
          result.putObject("serverInfo").put("name", s.pkg()).put("version", s.version());
        }
        case "tools/list" -> {
          ArrayNode tools = result.putArray("tools");
          s.tools().forEach(tools::add);
        }
        case "tools/call" -> {
          result.putArray("content").addObject().put("type", "text")
              .put("text", "recorded definition only (" + s.pkg() + " " + s.version() + "): not callable here");
          result.put("isError", true);
        }
        case "ping" -> { }
        default -> {
          reply(ex, Json.object().put("jsonrpc", "2.0").<ObjectNode>set("id", req.get("id"))
              .set("error", Json.object().put("code", -32601).put("message", "method not found")));
          return;
        }
      }
      reply(ex, Json.object().put("jsonrpc", "2.0").<ObjectNode>set("id", req.get("id")).set("result", result));
    }
  }

  private static void reply(HttpExchange ex, ObjectNode body) throws IOException {
    byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
