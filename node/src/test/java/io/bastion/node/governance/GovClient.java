package io.bastion.node.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/** A raw-HTTP MCP client (streamable HTTP or legacy HTTP+SSE) that sends virtual-key headers. */
final class GovClient {
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  record Resp(int status, java.net.http.HttpHeaders headers, ObjectNode json) {}

  private final String url;
  private final Map<String, String> headers;
  private final AtomicInteger ids = new AtomicInteger();
  private String session;
  // legacy
  private final String base;
  private final BlockingQueue<ObjectNode> legacyInbox = new LinkedBlockingQueue<>();
  private String legacyEndpoint;

  private GovClient(String base, String url, Map<String, String> headers) {
    this.base = base;
    this.url = url;
    this.headers = headers;
  }

  static GovClient mcp(String base, String path, Map<String, String> headers) {
    return new GovClient(base, base + path, headers);
  }

  /** Uses another client's session id (to prove a session is bound to the key that opened it). */
  void adoptSession(GovClient other) {
    this.session = other.session;
  }

  static Map<String, String> bearer(String key) {
    return Map.of("Authorization", "Bearer " + key);
  }

  private HttpRequest.Builder req(String u) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(u)).timeout(Duration.ofSeconds(30));
    headers.forEach(b::header);
    return b;
  }

  Resp post(ObjectNode body) {
    HttpRequest.Builder b = req(url).header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)));
    if (session != null) {
      b.header("Mcp-Session-Id", session);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Resp(r.statusCode(), r.headers(), parse(r.body()));
    } catch (IOException e) {
      throw new RuntimeException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  private static ObjectNode parse(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    String t = body.trim();
    if (t.startsWith("{")) {
      return (ObjectNode) read(t);
    }
    ObjectNode last = null;
    for (String line : t.split("\n")) {
      if (line.startsWith("data: ")) {
        JsonNode n = read(line.substring(6));
        if (n.has("id") && (n.has("result") || n.has("error"))) {
          last = (ObjectNode) n;
        }
      }
    }
    return last;
  }

  static JsonNode read(String s) {
    try {
      return Json.MAPPER.readTree(s);
    } catch (IOException e) {
      throw new RuntimeException(s, e);
    }
  }

  static ObjectNode request(int id, String method, ObjectNode params) {
    ObjectNode o = Json.object().put("jsonrpc", "2.0").put("id", id).put("method", method);
    o.set("params", params == null ? Json.object() : params);
    return o;
  }

  private static ObjectNode initParams() {
    ObjectNode p = Json.object().put("protocolVersion", "2025-06-18");
    p.putObject("capabilities");
    p.putObject("clientInfo").put("name", "gov-test").put("version", "1.2.3");
    return p;
  }

  /** Initializes; returns the HTTP status (200, or 401/403/404 when refused). */
  int initialize() {
    Resp r = post(request(ids.incrementAndGet(), "initialize", initParams()));
    if (r.status() == 200) {
      session = r.headers().firstValue("Mcp-Session-Id").orElseThrow();
      ObjectNode n = Json.object().put("jsonrpc", "2.0").put("method", "notifications/initialized");
      post(n);
    }
    return r.status();
  }

  Resp initializeResp() {
    return post(request(ids.incrementAndGet(), "initialize", initParams()));
  }

  ObjectNode send(String method, ObjectNode params) {
    ObjectNode req = request(ids.incrementAndGet(), method, params);
    if (legacyEndpoint != null) {
      return legacySend(req);
    }
    return post(req).json();
  }

  List<String> listTools() {
    List<String> names = new ArrayList<>();
    String cursor = null;
    do {
      ObjectNode p = Json.object();
      if (cursor != null) {
        p.put("cursor", cursor);
      }
      ObjectNode r = send("tools/list", p);
      r.path("result").path("tools").forEach(t -> names.add(t.path("name").asText()));
      cursor = r.path("result").path("nextCursor").asText(null);
    } while (cursor != null);
    return names;
  }

  ObjectNode call(String tool, ObjectNode args) {
    ObjectNode p = Json.object().put("name", tool);
    p.set("arguments", args == null ? Json.object() : args);
    return send("tools/call", p);
  }

  // ------------------------------------------------------------------ legacy HTTP+SSE

  /** Opens GET /sse[/group]; returns the HTTP status. */
  int openLegacy(String path) throws Exception {
    HttpRequest r = req(base + path).header("Accept", "text/event-stream").GET().build();
    HttpResponse<Stream<String>> resp = HTTP.send(r, HttpResponse.BodyHandlers.ofLines());
    if (resp.statusCode() != 200) {
      resp.body().close();
      return resp.statusCode();
    }
    BlockingQueue<String> endpoint = new LinkedBlockingQueue<>();
    Thread t = new Thread(() -> {
      String event = null;
      try (Stream<String> lines = resp.body()) {
        for (String line : (Iterable<String>) lines::iterator) {
          if (line.startsWith("event: ")) {
            event = line.substring(7);
          } else if (line.startsWith("data: ")) {
            if ("endpoint".equals(event)) {
              endpoint.add(line.substring(6));
            } else {
              legacyInbox.add((ObjectNode) read(line.substring(6)));
            }
          }
        }
      } catch (RuntimeException ignored) {
        // stream closed
      }
    }, "gov-legacy-reader");
    t.setDaemon(true);
    t.start();
    legacyEndpoint = endpoint.poll(10, TimeUnit.SECONDS);
    legacySend(request(ids.incrementAndGet(), "initialize", initParams()));
    return 200;
  }

  private ObjectNode legacySend(ObjectNode req) {
    HttpRequest.Builder b = req(base + legacyEndpoint).header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(Json.write(req)));
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 202) {
        throw new AssertionError("legacy POST: " + r.statusCode() + " " + r.body());
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline) {
        ObjectNode m = legacyInbox.poll(1, TimeUnit.SECONDS);
        if (m != null && m.path("id").equals(req.get("id"))) {
          return m;
        }
      }
      throw new AssertionError("no legacy answer to " + req);
    } catch (IOException e) {
      throw new RuntimeException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  /** GET with the admin token. */
  static HttpResponse<String> get(String url, String bearer) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
