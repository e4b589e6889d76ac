package io.bastion.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import java.util.function.Predicate;

/**
 * Steady MCP load over HTTP: each client initializes a session on one node, then sends
 * {@code tools/call everything__echo} round-robin to every node in {@link #rotation} with that
 * session, checks that its message is echoed, and records every request as an {@link Event}. A
 * client whose session is gone (404) re-initializes. {@link #window} reads what happened between
 * two instants.
 */
final class LoadClients {
  enum Kind { OK, FAIL, REINIT, REFUSED }

  /**
   * A request of {@code client} to {@code node} (a tools/call of {@code tool}, or null): sent at
   * {@code at}, answered (or failed) at {@code end}.
   */
  record Event(long at, long end, Kind kind, String client, int node, String detail, String tool) {}

  /** Live nodes the clients send to (node numbers), as a load balancer's pool. */
  final CopyOnWriteArrayList<Integer> rotation = new CopyOnWriteArrayList<>();
  final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
  private final IntUnaryOperator portOfNode;
  private final boolean refusedApart;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicInteger rr = new AtomicInteger();
  private final List<Thread> threads = new ArrayList<>();
  /** The echo tools the clients call in turn. */
  private volatile List<String> tools = List.of("everything__echo");

  /**
   * {@code refusedApart}: a refused TCP connection (nothing was sent) is recorded as
   * {@link Kind#REFUSED} and the next node is tried at once, as a load balancer retries; otherwise
   * it is a failure like any other.
   */
  LoadClients(IntUnaryOperator portOfNode, boolean refusedApart) {
    this.portOfNode = portOfNode;
    this.refusedApart = refusedApart;
  }

  /** The clients call these echo tools in turn (default: {@code everything__echo} only). */
  LoadClients tools(String... names) {
    this.tools = List.of(names);
    return this;
  }

  /** Starts a client named {@code name}; {@code bearerKey} (may be null) goes in its Authorization header. */
  void start(String name, String bearerKey) {
    String[] auth = bearerKey == null ? new String[0] : new String[] {"Authorization", "Bearer " + bearerKey};
    Thread t = new Thread(() -> client(name, auth), "load-" + name);
    t.setDaemon(true);
    t.start();
    threads.add(t);
  }

  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(40_000);
    }
  }

  Window window(long from, long to) {
    return Window.of(events, from, to, e -> true);
  }

  Window window(long from, long to, Predicate<Event> which) {
    return Window.of(events, from, to, which);
  }

  /** The first moment after which {@code quietMs} passed with successes and no failure; -1 on timeout. */
  long awaitFullService(long from, Duration timeout, long quietMs) throws InterruptedException {
    long deadline = from + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      Thread.sleep(500);
      long now = System.currentTimeMillis();
      Window recent = window(now - quietMs, now);
      Window since = window(from, now);
      if (now - from >= quietMs && recent.failures == 0 && recent.ok > 10) {
        return Math.max(from, since.lastFailEnd < 0 ? from : since.lastFailEnd);
      }
    }
    return -1;
  }

  private void client(String name, String[] auth) {
    String session = null;
    int seq = 0;
    String tool = null;
    while (running.get()) {
      List<Integer> nodes = List.copyOf(rotation);
      if (nodes.isEmpty()) {
        LocalCluster.sleep(50);
        continue;
      }
      int node = nodes.get(Math.floorMod(rr.getAndIncrement(), nodes.size()));
      int port = portOfNode.applyAsInt(node);
      long at = System.currentTimeMillis();
      try {
        if (session == null) {
          tool = null;
          session = initialize(port, auth);
          continue;
        }
        String msg = name + "-" + (++seq);
        tool = tools.get(seq % tools.size());
        String body = """
            {"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":{"message":"%s"}}}"""
            .formatted(seq, tool, msg);
        HttpResponse<String> r = post(port, session, body, auth);
        if (r.statusCode() == 404) {
          events.add(new Event(at, System.currentTimeMillis(), Kind.REINIT, name, node,
              "client " + name + " node " + node + ": session gone (404)", null));
          session = null;
          continue;
        }
        JsonNode resp = message(r, seq);
        if (r.statusCode() != 200 || resp == null) {
          throw new IOException("HTTP " + r.statusCode() + " " + LocalCluster.abbreviate(r.body()));
        }
        if (resp.has("error") || resp.path("result").path("isError").asBoolean(false)
            || !resp.path("result").toString().contains(msg)) {
          throw new IOException("bad result " + LocalCluster.abbreviate(resp.toString()));
        }
        events.add(new Event(at, System.currentTimeMillis(), Kind.OK, name, node, null, tool));
      } catch (ConnectException e) {
        if (refusedApart) {
          events.add(new Event(at, System.currentTimeMillis(), Kind.REFUSED, name, node, "node " + node + ": " + e, null));
          continue;
        }
        failed(name, node, at, e, tool);
      } catch (Exception e) {
        failed(name, node, at, e, tool);
      }
      LocalCluster.sleep(20);
    }
  }

  private void failed(String name, int node, long at, Exception e, String tool) {
    events.add(new Event(at, System.currentTimeMillis(), Kind.FAIL, name, node,
        "client " + name + " node " + node + (tool == null ? "" : " " + tool) + ": " + e, tool));
    LocalCluster.sleep(100);
  }

  static String initialize(int port, String... headers) throws Exception {
    HttpResponse<String> r = post(port, null, """
        {"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},\
        "clientInfo":{"name":"multi-jvm-test","version":"1"}}}""", headers);
    JsonNode resp = message(r, 0);
    String session = r.headers().firstValue("Mcp-Session-Id").orElse(null);
    if (r.statusCode() != 200 || resp == null || !resp.has("result") || session == null) {
      throw new IOException("initialize: HTTP " + r.statusCode() + " " + LocalCluster.abbreviate(r.body()));
    }
    HttpResponse<String> n = post(port, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", headers);
    if (n.statusCode() != 202 && n.statusCode() != 200) {
      throw new IOException("notifications/initialized: HTTP " + n.statusCode());
    }
    return session;
  }

  /** POSTs {@code body} to the node's /mcp; {@code headers} are extra name, value pairs. */
  static HttpResponse<String> post(int port, String session, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/mcp"))
        .timeout(Duration.ofSeconds(40))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    if (session != null) {
      b.header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-11-25");
    }
    return LocalCluster.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The JSON-RPC response with the given id, from a JSON or an SSE body. */
  static JsonNode message(HttpResponse<String> r, int id) throws IOException {
    String ct = r.headers().firstValue("Content-Type").orElse("");
    List<String> candidates = new ArrayList<>();
    if (ct.startsWith("text/event-stream")) {
      for (String line : r.body().split("\n")) {
        if (line.startsWith("data:")) {
          candidates.add(line.substring(5).trim());
        }
      }
    } else if (!r.body().isBlank()) {
      candidates.add(r.body());
    }
    for (String c : candidates) {
      JsonNode n = LocalCluster.JSON.readTree(c);
      if (n.path("id").asInt(-1) == id && (n.has("result") || n.has("error"))) {
        return n;
      }
    }
    return null;
  }
}
