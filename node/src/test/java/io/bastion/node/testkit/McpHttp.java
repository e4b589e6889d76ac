package io.bastion.node.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A raw streamable-HTTP MCP client over {@code java.net.http}, for tests that send each request
 * of one session to a different node: every call names the node's {@code /mcp} URL. Responses
 * are read as JSON or as SSE ({@code data:} lines), on a reader thread, into a queue.
 */
public final class McpHttp {
  public static final ObjectMapper JSON = new ObjectMapper();
  public static final String VERSION = "2025-11-25";
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  /** One HTTP exchange: its status, session header, and the JSON-RPC messages of its body. */
  public static final class Exchange implements AutoCloseable {
    public final int status;
    public final String sessionId;
    public final String contentType;
    private final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
    private final List<JsonNode> seen = new ArrayList<>();
    private final InputStream body;
    private volatile boolean ended;

    Exchange(HttpResponse<InputStream> r) {
      this.status = r.statusCode();
      this.sessionId = r.headers().firstValue("Mcp-Session-Id").orElse(null);
      this.contentType = r.headers().firstValue("Content-Type").orElse("");
      this.body = r.body();
      Thread reader = new Thread(this::read, "mcp-http-reader");
      reader.setDaemon(true);
      reader.start();
    }

    private void read() {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
        if (contentType.startsWith("text/event-stream")) {
          StringBuilder data = new StringBuilder();
          for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith("data:")) {
              data.append(line.substring(5).strip());
            } else if (line.isEmpty() && data.length() > 0) {
              messages.add(JSON.readTree(data.toString()));
              data.setLength(0);
            }
          }
        } else {
          StringBuilder all = new StringBuilder();
          for (String line; (line = in.readLine()) != null; ) {
            all.append(line).append('\n');
          }
          if (!all.toString().isBlank()) {
            messages.add(JSON.readTree(all.toString()));
          }
        }
      } catch (IOException e) {
        // stream closed
      } finally {
        ended = true;
      }
    }

    /** The next message that matches, waiting up to {@code timeout}; earlier non-matching ones are kept in {@link #seen()}. */
    public JsonNode await(Predicate<JsonNode> p, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      try {
        while (true) {
          long left = deadline - System.nanoTime();
          JsonNode m = left <= 0 ? null : messages.poll(left, TimeUnit.NANOSECONDS);
          if (m == null) {
            throw new AssertionError("no matching message within " + timeout + " (status " + status
                + ", seen " + seen + ", ended " + ended + ")");
          }
          seen.add(m);
          if (p.test(m)) {
            return m;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** The response (a message with an id and result or error). */
    public JsonNode response(Duration timeout) {
      return await(m -> m.has("id") && (m.has("result") || m.has("error")), timeout);
    }

    public JsonNode response() {
      return response(Duration.ofSeconds(30));
    }

    public List<JsonNode> seen() {
      return seen;
    }

    @Override
    public void close() {
      try {
        body.close();
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  public static ObjectNode request(long id, String method, JsonNode params) {
    ObjectNode o = JSON.createObjectNode().put("jsonrpc", "2.0").put("id", id).put("method", method);
    if (params != null) {
      o.set("params", params);
    }
    return o;
  }

  public static ObjectNode notification(String method) {
    return JSON.createObjectNode().put("jsonrpc", "2.0").put("method", method);
  }

  public static ObjectNode json(String text) {
    try {
      return (ObjectNode) JSON.readTree(text);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** POSTs one message to {@code mcpUrl} (with the session id when not null). */
  public Exchange post(String mcpUrl, String sessionId, JsonNode message) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(mcpUrl))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(message.toString()));
    return send(b, sessionId);
  }

  /** Opens the session's GET stream on {@code mcpUrl}. */
  public Exchange getStream(String mcpUrl, String sessionId) {
    return send(HttpRequest.newBuilder(URI.create(mcpUrl)).header("Accept", "text/event-stream").GET(), sessionId);
  }

  public Exchange delete(String mcpUrl, String sessionId) {
    return send(HttpRequest.newBuilder(URI.create(mcpUrl)).DELETE(), sessionId);
  }

  /** A plain GET (e.g. {@code /api/v1/cluster}) parsed as JSON. */
  public JsonNode getJson(String url) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  /** initialize + notifications/initialized on {@code mcpUrl}; returns the session id. */
  public String initialize(String mcpUrl, boolean sampling) {
    ObjectNode params = json("{\"protocolVersion\":\"" + VERSION + "\",\"clientInfo\":{\"name\":\"cluster-test\","
        + "\"version\":\"1\"},\"capabilities\":" + (sampling ? "{\"sampling\":{}}" : "{}") + "}");
    try (Exchange init = post(mcpUrl, null, request(0, "initialize", params))) {
      if (init.status != 200 || init.sessionId == null) {
        throw new AssertionError("initialize on " + mcpUrl + " answered " + init.status);
      }
      init.response();
      try (Exchange n = post(mcpUrl, init.sessionId, notification("notifications/initialized"))) {
        if (n.status != 202) {
          throw new AssertionError("notifications/initialized answered " + n.status);
        }
      }
      return init.sessionId;
    }
  }

  private Exchange send(HttpRequest.Builder b, String sessionId) {
    if (sessionId != null) {
      b.header("Mcp-Session-Id", sessionId).header("MCP-Protocol-Version", VERSION);
    }
    try {
      return new Exchange(http.send(b.timeout(Duration.ofSeconds(60)).build(),
          HttpResponse.BodyHandlers.ofInputStream()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }
}
