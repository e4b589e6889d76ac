package io.bastion.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** The MCP client side of the benchmarks: sessions and the request bodies. */
final class Mcp {
  private Mcp() {}

  static final String PROTOCOL = "2025-06-18";

  static String initializeBody(long id) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"initialize\",\"params\":{\"protocolVersion\":\""
        + PROTOCOL + "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bastion-bench\",\"version\":\"1\"}}}";
  }

  static String callBody(long id, String tool) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
        + "\",\"arguments\":{\"text\":\"hello\"}}}";
  }

  /** Opens a session (initialize + notifications/initialized); returns its id, or null if none given. */
  static String open(HttpClient client, URI uri, Duration timeout) throws IOException, InterruptedException {
    return open(client, uri, timeout, null);
  }

  /** As {@link #open(HttpClient, URI, Duration)}, presenting virtual key {@code key} (null: none). */
  static String open(HttpClient client, URI uri, Duration timeout, String key)
      throws IOException, InterruptedException {
    HttpResponse<String> r = client.send(auth(LoadDriver.post(uri, initializeBody(0), timeout), key).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200 || !r.body().contains("\"result\"")) {
      throw new IOException("initialize at " + uri + " answered " + r.statusCode() + " " + LoadDriver.abbreviate(r.body()));
    }
    String sid = r.headers().firstValue("Mcp-Session-Id").orElse(null);
    HttpRequest.Builder n = LoadDriver.post(uri,
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", timeout)
        .header("MCP-Protocol-Version", PROTOCOL);
    if (sid != null) {
      n.header("Mcp-Session-Id", sid);
    }
    HttpResponse<String> a = client.send(auth(n, key).build(), HttpResponse.BodyHandlers.ofString());
    if (a.statusCode() / 100 != 2) {
      throw new IOException("notifications/initialized at " + uri + " answered " + a.statusCode());
    }
    return sid;
  }

  /** tools/call {@code tool} round-robin over {@code sessions}. */
  static LoadDriver.Call toolsCall(URI uri, String tool, List<String> sessions, Duration timeout) {
    return toolsCall(uri, tool, sessions, timeout, null);
  }

  /** tools/call {@code tool} round-robin over {@code sessions}, presenting virtual key {@code key} (null: none). */
  static LoadDriver.Call toolsCall(URI uri, String tool, List<String> sessions, Duration timeout, String key) {
    AtomicLong ids = new AtomicLong(1);
    return i -> {
      HttpRequest.Builder b = auth(LoadDriver.post(uri, callBody(ids.getAndIncrement(), tool), timeout), key)
          .header("MCP-Protocol-Version", PROTOCOL);
      String sid = sessions.get(i % sessions.size());
      if (sid != null) {
        b.header("Mcp-Session-Id", sid);
      }
      return b.build();
    };
  }

  /** A new session per request: the cost of {@code initialize}. */
  static LoadDriver.Call initialize(URI uri, Duration timeout) {
    return new LoadDriver.Call() {
      @Override
      public HttpRequest request(int i) {
        return LoadDriver.post(uri, initializeBody(i + 1), timeout).build();
      }
    };
  }

  /** Polls tools/call until it succeeds (the upstream's catalog may still be loading). */
  static void awaitTool(HttpClient client, URI uri, String tool, String sid, Duration max)
      throws IOException, InterruptedException {
    awaitTool(client, uri, tool, sid, max, null);
  }

  static void awaitTool(HttpClient client, URI uri, String tool, String sid, Duration max, String key)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      HttpRequest.Builder b = auth(LoadDriver.post(uri, callBody(1, tool), Duration.ofSeconds(10)), key)
          .header("MCP-Protocol-Version", PROTOCOL);
      if (sid != null) {
        b.header("Mcp-Session-Id", sid);
      }
      HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && r.body().contains("\"result\"") && !r.body().contains("\"isError\":true")) {
        return;
      }
      last = r.statusCode() + " " + LoadDriver.abbreviate(r.body());
      Thread.sleep(200);
    }
    throw new IOException("tool " + tool + " at " + uri + " never answered; last: " + last);
  }

  /** Adds {@code Authorization: Bearer <key>} unless {@code key} is null. */
  static HttpRequest.Builder auth(HttpRequest.Builder b, String key) {
    return key == null ? b : b.header("Authorization", "Bearer " + key);
  }
}
