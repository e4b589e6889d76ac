package io.bastion.node.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An SSE response read event by event, with each event's {@code id} (what {@link McpHttp} drops),
 * on a reader thread: for tests of resumption with {@code Last-Event-ID}. {@link #close()} cuts
 * the connection.
 */
public final class SseEvents implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  /** One event: its id (null when it has none) and its data (empty for a priming event). */
  public record Event(String id, String data) {
    public JsonNode json() {
      try {
        return McpHttp.JSON.readTree(data);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + data, e);
      }
    }

    /** The sequence number of an id {@code <stream>:<seq>}. */
    public long seq() {
      return Long.parseLong(id.substring(id.lastIndexOf(':') + 1));
    }

    /** The stream part of an id {@code <stream>:<seq>}. */
    public String stream() {
      return id.substring(0, id.lastIndexOf(':'));
    }

    public boolean isPriming() {
      return data.isEmpty();
    }

    public boolean hasMethod(String method) {
      return !data.isEmpty() && method.equals(json().path("method").asText());
    }
  }

  public final int status;
  private final InputStream body;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private volatile boolean ended;

  public SseEvents(HttpRequest request) {
    HttpResponse<InputStream> r;
    try {
      r = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
    status = r.statusCode();
    body = r.body();
    Thread t = new Thread(this::read, "sse-events-reader");
    t.setDaemon(true);
    t.start();
  }

  private void read() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      String id = null;
      StringBuilder data = null;
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) {
          if (id != null || data != null) {
            events.add(new Event(id, data == null ? "" : data.toString()));
          }
          id = null;
          data = null;
        } else if (line.startsWith("id:")) {
          id = line.substring(3).strip();
        } else if (line.startsWith("data:")) {
          data = (data == null ? new StringBuilder() : data.append('\n')).append(line.substring(5).strip());
        }
      }
    } catch (IOException e) {
      // cut by the test
    } finally {
      ended = true;
    }
  }

  /** The next event, waiting up to {@code timeout}; fails when none comes. */
  public Event next(Duration timeout) {
    try {
      Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (e == null) {
        throw new AssertionError("no SSE event within " + timeout + " (status " + status + ", ended " + ended + ")");
      }
      return e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The events received and not read yet, without waiting. */
  public List<Event> remaining() {
    List<Event> out = new java.util.ArrayList<>();
    events.drainTo(out);
    return out;
  }

  /** True once the server ended the body (or the test cut it). */
  public boolean ended() {
    return ended;
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
