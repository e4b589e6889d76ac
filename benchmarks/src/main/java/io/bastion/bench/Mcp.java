package io.bastion.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The MCP client side of the benchmarks: sessions (opened with the JDK client, off the measured
 * path) and the load's requests, pre-rendered as HTTP/1.1 bytes so that building one costs a
 * buffer copy and the id's digits.
 */
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
    HttpResponse<String> r = client.send(auth(post(uri, initializeBody(0), timeout), key).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200 || !r.body().contains("\"result\"")) {
      throw new IOException("initialize at " + uri + " answered " + r.statusCode() + " " + LoadDriver.abbreviate(r.body()));
    }
    String sid = r.headers().firstValue("Mcp-Session-Id").orElse(null);
    HttpRequest.Builder n = post(uri,
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
    List<byte[]> heads = new ArrayList<>();
    for (String sid : sessions) {
      StringBuilder h = new StringBuilder("MCP-Protocol-Version: " + PROTOCOL + "\r\n");
      if (sid != null) {
        h.append("Mcp-Session-Id: ").append(sid).append("\r\n");
      }
      if (key != null) {
        h.append("Authorization: Bearer ").append(key).append("\r\n");
      }
      heads.add(head(uri, h.toString()));
    }
    String[] body = callBody(0, tool).split("\"id\":0", 2);
    return rendered(uri, heads, ascii(body[0] + "\"id\":"), ascii(body[1]));
  }

  /** A new session per request: the cost of {@code initialize}. */
  static LoadDriver.Call initialize(URI uri, Duration timeout) {
    String[] body = initializeBody(0).split("\"id\":0", 2);
    return rendered(uri, List.of(head(uri, "")), ascii(body[0] + "\"id\":"), ascii(body[1]));
  }

  /**
   * Request {@code i}: {@code heads[i % n]} (request line and headers up to {@code Content-Length: })
   * then the length, a blank line and {@code bodyHead + id + bodyTail}; ids count from 1.
   */
  private static LoadDriver.Call rendered(URI uri, List<byte[]> heads, byte[] bodyHead, byte[] bodyTail) {
    return new LoadDriver.Call() {
      @Override
      public URI uri() {
        return uri;
      }

      @Override
      public ByteBuf render(int i, ByteBufAllocator alloc) {
        byte[] id = Long.toString(i + 1L).getBytes(StandardCharsets.US_ASCII);
        byte[] head = heads.get(i % heads.size());
        int len = bodyHead.length + id.length + bodyTail.length;
        byte[] cl = Integer.toString(len).getBytes(StandardCharsets.US_ASCII);
        ByteBuf b = alloc.buffer(head.length + cl.length + 4 + len);
        return b.writeBytes(head).writeBytes(cl).writeBytes(CRLF2).writeBytes(bodyHead).writeBytes(id)
            .writeBytes(bodyTail);
      }
    };
  }

  private static final byte[] CRLF2 = ascii("\r\n\r\n");

  /** Request line and the common headers, up to and including {@code Content-Length: }. */
  private static byte[] head(URI uri, String extraHeaders) {
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    return ascii("POST " + path + " HTTP/1.1\r\n"
        + "Host: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
        + "Content-Type: application/json\r\n"
        + "Accept: application/json, text/event-stream\r\n"
        + extraHeaders
        + "Content-Length: ");
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
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
      HttpRequest.Builder b = auth(post(uri, callBody(1, tool), Duration.ofSeconds(10)), key)
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

  /** A JSON POST with the MCP {@code Accept} header, for the JDK client. */
  static HttpRequest.Builder post(URI uri, String body, Duration timeout) {
    return HttpRequest.newBuilder(uri).timeout(timeout)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  /** Adds {@code Authorization: Bearer <key>} unless {@code key} is null. */
  static HttpRequest.Builder auth(HttpRequest.Builder b, String key) {
    return key == null ? b : b.header("Authorization", "Bearer " + key);
  }
}
