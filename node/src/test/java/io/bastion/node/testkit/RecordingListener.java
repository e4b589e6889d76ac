package io.bastion.node.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.upstream.transport.UpstreamTransport;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** An {@link UpstreamTransport.Listener} that records everything, with bounded waits for tests. */
public final class RecordingListener implements UpstreamTransport.Listener {

  /** One delivered message and the request whose stream carried it (null when unknown). */
  public record Received(ObjectNode message, JsonNode relatedRequestId) {}

  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Optional<Throwable>> closed = new CompletableFuture<>();
  private final AtomicInteger closedCalls = new AtomicInteger();

  @Override
  public void onMessage(ObjectNode message, JsonNode relatedRequestId) {
    received.add(new Received(message, relatedRequestId));
  }

  @Override
  public void onClosed(Throwable cause) {
    closedCalls.incrementAndGet();
    closed.complete(Optional.ofNullable(cause));
  }

  public List<Received> received() {
    return List.copyOf(received);
  }

  public int closedCalls() {
    return closedCalls.get();
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  /** Waits for onClosed; returns its cause (empty for a requested close). */
  public Optional<Throwable> awaitClosed(Duration timeout) {
    try {
      return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("onClosed not called within " + timeout, e);
    }
  }

  /** Waits (polling) for the first message matching {@code filter}. */
  public Received await(Predicate<Received> filter, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (Received r : received) {
        if (filter.test(r)) {
          return r;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no " + what + " within " + timeout + "; received: " + received);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Waits for the response (result or error) to request {@code id}. */
  public ObjectNode awaitResponse(JsonNode id, Duration timeout) {
    return await(r -> !r.message().has("method") && id.equals(r.message().get("id")),
        timeout, "response to " + id).message();
  }

  /** Everything received so far whose method is {@code method}. */
  public List<Received> withMethod(String method) {
    return received.stream()
        .filter(r -> method.equals(r.message().path("method").asText(null)))
        .toList();
  }
}
