package io.bastion.node.upstream.transport;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.Urls;
import io.bastion.node.call.Failures;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client side of the deprecated HTTP+SSE transport (2024-11-05): one GET stream carries every
 * upstream message; its first {@code endpoint} event names the URI to POST messages to.
 *
 * <p>{@link #protocolVersion} is a no-op: the {@code MCP-Protocol-Version} header belongs to the
 * streamable HTTP transport.
 */
public final class LegacySseTransport implements UpstreamTransport {

  private static final Logger log = LoggerFactory.getLogger(LegacySseTransport.class);

  private final ServerConfig config;
  private final HttpSupport http;
  private final SharedKillSwitch killSwitch;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean closedSignalled = new AtomicBoolean();
  private final CompletableFuture<Void> startFuture = new CompletableFuture<>();
  private final CompletableFuture<Void> streamDone = new CompletableFuture<>();

  private volatile Listener listener;
  private volatile URI endpoint;
  /** {@link #endpoint}, parsed once for the HTTP client. */
  private volatile Uri endpointUri;

  public LegacySseTransport(ActorSystem<?> system, ServerConfig config) {
    this(system, config, null);
  }

  /** {@code bearer}: the current OAuth access token for each request (null: no OAuth). */
  public LegacySseTransport(ActorSystem<?> system, ServerConfig config, java.util.function.Supplier<String> bearer) {
    this.config = Objects.requireNonNull(config, "config");
    this.http = new HttpSupport(system, config, log, bearer);
    this.killSwitch = KillSwitches.shared("bastion-upstream-sse-" + config.name());
  }

  /** The POST endpoint announced by the upstream (null before {@link #start} completed). */
  public URI endpoint() {
    return endpoint;
  }

  /**
   * Opens the GET stream and completes on its {@code endpoint} event; fails when the connection
   * is refused, the answer is not 2xx / SSE, or no endpoint arrives within the request timeout.
   */
  @Override
  public CompletionStage<Void> start(Listener listener) {
    Objects.requireNonNull(listener, "listener");
    if (!started.compareAndSet(false, true)) {
      return HttpSupport.failed(new IllegalStateException("transport already started"));
    }
    this.listener = listener;
    List<HttpHeader> headers = http.headers();
    headers.add(RawHeader.create("Accept", "text/event-stream"));
    http.request(HttpRequest.create().withMethod(HttpMethods.GET).withUri(http.uri).addHeaders(headers))
        .whenComplete((response, err) -> {
          if (err != null) {
            fail(Failures.root(err));
          } else if (!response.status().isSuccess()) {
            http.failWithStatus(response, "GET " + Urls.redact(config.url()))
                .whenComplete((x, statusErr) -> fail(Failures.root(statusErr)));
          } else if (!HttpSupport.isEventStream(response)) {
            response.discardEntityBytes(http.mat);
            fail(new IOException("GET " + Urls.redact(config.url()) + " answered " + response.entity().getContentType()
                + ", not an SSE stream"));
          } else {
            consume(response);
          }
        });
    CompletableFuture.delayedExecutor(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .execute(() -> {
          if (!startFuture.isDone()) {
            fail(new TimeoutException("no endpoint event from " + Urls.redact(config.url()) + " within "
                + config.requestTimeout().toMillis() + " ms"));
            killSwitch.shutdown();
          }
        });
    return startFuture.copy();
  }

  private void fail(Throwable cause) {
    closing.set(true);
    streamDone.complete(null);
    startFuture.completeExceptionally(cause);
  }

  private void consume(HttpResponse response) {
    http.events(response.entity())
        .thenCompose(source -> source.via(killSwitch.flow()).runForeach(this::onEvent, http.mat))
        .whenComplete((done, err) -> {
          streamDone.complete(null);
          if (!startFuture.isDone()) {
            startFuture.completeExceptionally(new IOException(
                "SSE stream from " + Urls.redact(config.url()) + " ended before its endpoint event", err));
            return;
          }
          if (closing.get()) {
            signalClosed(null);
          } else {
            signalClosed(new IOException("SSE stream from " + Urls.redact(config.url()) + " ended"
                + (err == null ? "" : ": " + Failures.root(err)), err));
          }
        });
  }

  static boolean sameOrigin(URI a, URI b) {
    return java.util.Objects.equals(a.getScheme(), b.getScheme())
        && java.util.Objects.equals(a.getHost(), b.getHost()) && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() != -1 ? u.getPort() : "https".equals(u.getScheme()) ? 443 : 80;
  }

  private void onEvent(ServerSentEvent event) {
    String type = event.getEventType().orElse("message");
    if ("endpoint".equals(type)) {
      try {
        URI announced = config.url().resolve(event.getData().strip());
        if (!sameOrigin(announced, config.url())) {
          // Every POST carries the configured headers (often credentials): never to another origin.
          startFuture.completeExceptionally(new IOException("upstream " + config.name()
              + " announced an endpoint on another origin (" + announced.getScheme() + "://"
              + announced.getHost() + ":" + announced.getPort() + "); refused"));
          return;
        }
        endpointUri = Uri.create(announced.toString());
        endpoint = announced;
        log.debug("Upstream [{}] endpoint [{}]", config.name(), Urls.redact(endpoint));
        startFuture.complete(null);
      } catch (IllegalArgumentException e) {
        log.warn("Upstream [{}] sent an invalid endpoint [{}]", config.name(), Urls.redact(event.getData()));
      }
    } else if ("message".equals(type) && !event.getData().isBlank()) {
      http.parseAndDeliver(event.getData(), msg -> {
        if (!closedSignalled.get()) {
          listener.onMessage(msg, null);
        }
      });
    }
  }

  /** POSTs the message to the announced endpoint; 2xx (usually 202) completes, the body is ignored. */
  @Override
  public CompletionStage<Void> send(ObjectNode message) {
    URI target = endpoint;
    Uri targetUri = endpointUri;
    if (target == null || targetUri == null) {
      return HttpSupport.failed(new IllegalStateException("transport not started"));
    }
    if (closing.get() || closedSignalled.get()) {
      return HttpSupport.failed(new IllegalStateException("transport to [" + config.name() + "] is closed"));
    }
    HttpRequest request = HttpRequest.create().withMethod(HttpMethods.POST).withUri(targetUri)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, http.toJson(message)))
        .addHeaders(http.headers());
    return http.request(request).thenCompose(response -> {
      if (!response.status().isSuccess()) {
        return http.failWithStatus(response, "POST " + target);
      }
      response.discardEntityBytes(http.mat);
      return CompletableFuture.completedFuture(null);
    });
  }

  /** Cancels the GET stream; {@link Listener#onClosed} gets null. Idempotent. */
  @Override
  public CompletionStage<Void> close() {
    if (closing.compareAndSet(false, true)) {
      killSwitch.shutdown();
      if (!started.get()) {
        streamDone.complete(null);
      }
    }
    http.shutdown();
    return streamDone.copy();
  }

  private void signalClosed(Throwable cause) {
    if (closedSignalled.compareAndSet(false, true)) {
      try {
        listener.onClosed(cause);
      } catch (RuntimeException e) {
        log.error("Listener of upstream [{}] failed on close", config.name(), e);
      }
    }
  }
}
