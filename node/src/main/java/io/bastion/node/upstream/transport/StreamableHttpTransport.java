package io.bastion.node.upstream.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.Urls;
import io.bastion.node.call.Failures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client side of the MCP streamable HTTP transport (2025-11-25): every message is a POST whose
 * answer is 202, a JSON body or an SSE stream; server-initiated messages arrive on a long-lived
 * GET stream opened once the session is established ({@link #protocolVersion} or
 * {@link #openServerStream}).
 *
 * <p>SSE bodies are parsed by Pekko HTTP's {@code EventStreamUnmarshalling} and consumed as
 * streams (never buffered whole). Every stream passes one {@link SharedKillSwitch}, so
 * {@link #close} cancels them all at once.
 */
public final class StreamableHttpTransport implements UpstreamTransport {

  private static final Logger log = LoggerFactory.getLogger(StreamableHttpTransport.class);
  private static final String ACCEPT_POST = "application/json, text/event-stream";
  private static final Duration MIN_RECONNECT = Duration.ofSeconds(1);
  private static final Duration MAX_RECONNECT = Duration.ofSeconds(30);
  private static final int MAX_RESUME_ATTEMPTS = 5;
  private static final long DELETE_TIMEOUT_MS = 5_000;

  private final ServerConfig config;
  private final HttpSupport http;
  private final SharedKillSwitch killSwitch;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean closedSignalled = new AtomicBoolean();
  private final AtomicBoolean serverStreamOpened = new AtomicBoolean();
  private final AtomicReference<CompletableFuture<Void>> closeFuture = new AtomicReference<>();

  private volatile Listener listener;
  private volatile String sessionId;
  private volatile String protocolVersion;
  private volatile String lastServerEventId;
  private volatile Duration serverRetry = MIN_RECONNECT;

  /** {@code bearer}: the current OAuth access token for each request (null: no OAuth). */
  public StreamableHttpTransport(ActorSystem<?> system, ServerConfig config, Supplier<String> bearer) {
    this.config = Objects.requireNonNull(config, "config");
    this.http = new HttpSupport(system, config, log, bearer);
    this.killSwitch = KillSwitches.shared("bastion-upstream-" + config.name());
  }

  /** The upstream session id, once the {@code initialize} response carried one (null before). */
  public String sessionId() {
    return sessionId;
  }

  /** No connection is needed before the first POST: completes at once. */
  @Override
  public CompletionStage<Void> start(Listener listener) {
    Objects.requireNonNull(listener, "listener");
    if (!started.compareAndSet(false, true)) {
      return HttpSupport.failed(new IllegalStateException("transport already started"));
    }
    this.listener = listener;
    return CompletableFuture.completedFuture(null);
  }

  /** Records the negotiated version (sent as {@code MCP-Protocol-Version}) and opens the GET stream. */
  @Override
  public void protocolVersion(String version) {
    this.protocolVersion = version;
    openServerStream();
  }

  @Override
  public CompletionStage<Void> send(ObjectNode message) {
    if (listener == null) {
      return HttpSupport.failed(new IllegalStateException("transport not started"));
    }
    if (closing.get() || closedSignalled.get()) {
      return HttpSupport.failed(new IllegalStateException("transport to [" + config.name() + "] is closed"));
    }
    boolean isRequest = message.hasNonNull("method") && message.has("id");
    JsonNode requestId = isRequest ? message.get("id") : null;
    boolean isInitialize = isRequest && "initialize".equals(message.get("method").asText());
    String sid = sessionId;
    List<HttpHeader> headers = headers(sid, null);
    headers.add(RawHeader.create("Accept", ACCEPT_POST));
    HttpRequest request = HttpRequest.create().withMethod(HttpMethods.POST).withUri(http.uri)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, http.toJson(message)))
        .addHeaders(headers);
    return http.request(request).thenCompose(response -> {
      response.getHeader("mcp-session-id").map(HttpHeader::value).ifPresent(id -> {
        if (isInitialize || sessionId == null) {
          sessionId = id;
        }
      });
      int status = response.status().intValue();
      if (!response.status().isSuccess()) {
        CompletionStage<Void> failure = http.failWithStatus(response, "POST " + Urls.redact(config.url()));
        if (status == 404 && sid != null) {
          sessionExpired();
        }
        return failure;
      }
      if (closing.get() || status == 202 || status == 204) {
        response.discardEntityBytes(http.mat);
      } else if (HttpSupport.isEventStream(response)) {
        consumePostStream(response, requestId, 0);
      } else if (HttpSupport.isJson(response)) {
        http.consumeJson(response.entity(), msg -> deliver(msg, requestId))
            .whenComplete((ok, err) -> {
              if (err != null && !closing.get()) {
                log.warn("Upstream [{}]: reading JSON response failed: {}", config.name(), err.toString());
              }
            });
      } else {
        log.warn("Upstream [{}] answered POST with unexpected content type [{}] (ignored)",
            config.name(), response.entity().getContentType());
        response.discardEntityBytes(http.mat);
      }
      return CompletableFuture.completedFuture(null);
    });
  }

  /**
   * Delivers every message event of a POST's SSE body with {@code relatedRequestId}. If the
   * stream ends before the response and the server gave event ids, resumes with GET +
   * {@code Last-Event-ID} (the spec's way to continue a closed stream).
   */
  private void consumePostStream(HttpResponse response, JsonNode requestId, int attempt) {
    AtomicReference<String> lastId = new AtomicReference<>();
    AtomicReference<Duration> retry = new AtomicReference<>(MIN_RECONNECT);
    AtomicBoolean answered = new AtomicBoolean(requestId == null);
    // The stream is read up to the response and no further: an upstream that keeps the stream
    // open after answering (the spec says it SHOULD close it) would otherwise hold one of the
    // pool's connections until its idle timeout, and 32 such calls lock the upstream out.
    http.events(response.entity())
        .thenCompose(source -> source.via(killSwitch.flow()).map(event -> {
          event.getId().ifPresent(lastId::set);
          event.getRetry().ifPresent(ms -> retry.set(Duration.ofMillis(ms)));
          if (HttpSupport.isMessageEvent(event) && !event.getData().isBlank()) {
            http.parseAndDeliver(event.getData(), msg -> {
              if (requestId != null && isResponseTo(msg, requestId)) {
                answered.set(true);
              }
              deliver(msg, requestId);
            });
          }
          return answered.get();
        }).takeWhile(done -> !done).run(http.mat))
        .whenComplete((done, err) -> {
          if (closing.get() || closedSignalled.get()) {
            return;
          }
          if (err != null) {
            log.warn("Upstream [{}]: SSE stream of request [{}] failed: {}", config.name(), requestId, err.toString());
          }
          if (answered.get()) {
            return;
          }
          if (lastId.get() != null && attempt < MAX_RESUME_ATTEMPTS) {
            schedule(retry.get(), () -> resumePostStream(requestId, lastId.get(), attempt + 1));
          } else {
            responseLost(requestId, err);
          }
        });
  }

  /**
   * The stream that should carry the response of {@code requestId} is gone and cannot be resumed.
   * A broken connection means the upstream is unreachable: the transport is closed, so the owner
   * fails everything in flight and reconnects. A stream the upstream ended cleanly without an
   * answer fails just that request. Either way the caller hears at once instead of waiting for
   * its timeout or the next health ping.
   */
  private void responseLost(JsonNode requestId, Throwable err) {
    if (requestId == null || closing.get() || closedSignalled.get()) {
      return;
    }
    if (err != null) {
      killSwitch.shutdown();
      signalClosed(new java.io.IOException("the response stream of request " + requestId
          + " broke and could not be resumed: " + String.valueOf(Failures.root(err).getMessage()), err));
      return;
    }
    ObjectNode error = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    error.put("jsonrpc", "2.0");
    error.set("id", requestId);
    error.putObject("error").put("code", -32603)
        .put("message", "upstream " + config.name() + " ended the response stream without answering");
    deliver(error, requestId);
  }

  private void resumePostStream(JsonNode requestId, String lastEventId, int attempt) {
    if (closing.get() || closedSignalled.get()) {
      return;
    }
    List<HttpHeader> headers = headers(sessionId, lastEventId);
    headers.add(RawHeader.create("Accept", "text/event-stream"));
    http.request(HttpRequest.create().withMethod(HttpMethods.GET).withUri(http.uri).addHeaders(headers))
        .whenComplete((response, err) -> {
          if (err != null) {
            log.warn("Upstream [{}]: resuming request [{}] failed: {}", config.name(), requestId, err.toString());
            responseLost(requestId, err);
          } else if (response.status().isSuccess() && HttpSupport.isEventStream(response)) {
            consumePostStream(response, requestId, attempt);
          } else {
            log.warn("Upstream [{}]: resuming request [{}] answered {}", config.name(), requestId, response.status());
            response.discardEntityBytes(http.mat);
            if (response.status().intValue() == 404 && sessionId != null) {
              sessionExpired();
            } else {
              responseLost(requestId, null);
            }
          }
        });
  }

  private static boolean isResponseTo(ObjectNode msg, JsonNode requestId) {
    // By value: the id was sent as a LongNode and comes back parsed as an IntNode. (With equals,
    // no SSE answer was ever recognised, and each call was "resumed" by a GET that stayed open.)
    return !msg.has("method") && io.bastion.protocol.JsonRpc.sameId(requestId, msg.get("id"))
        && (msg.has("result") || msg.has("error"));
  }

  /**
   * Opens the GET stream for server-initiated messages (idempotent). 405 means the upstream offers
   * none; a dropped stream is reopened after a delay with {@code Last-Event-ID}.
   */
  public void openServerStream() {
    if (listener != null && serverStreamOpened.compareAndSet(false, true)) {
      connectServerStream(0);
    }
  }

  private void connectServerStream(int failures) {
    if (closing.get() || closedSignalled.get()) {
      return;
    }
    String sid = sessionId;
    List<HttpHeader> headers = headers(sid, lastServerEventId);
    headers.add(RawHeader.create("Accept", "text/event-stream"));
    http.request(HttpRequest.create().withMethod(HttpMethods.GET).withUri(http.uri).addHeaders(headers))
        .whenComplete((response, err) -> {
          if (err != null) {
            log.debug("Upstream [{}]: GET stream failed: {}", config.name(), err.toString());
            reconnectServerStream(failures + 1);
            return;
          }
          int status = response.status().intValue();
          if (closing.get()) {
            response.discardEntityBytes(http.mat);
          } else if (status == 405) {
            log.debug("Upstream [{}] offers no GET stream (405)", config.name());
            response.discardEntityBytes(http.mat);
          } else if (status == 404 && sid != null) {
            response.discardEntityBytes(http.mat);
            sessionExpired();
          } else if (!response.status().isSuccess() || !HttpSupport.isEventStream(response)) {
            log.warn("Upstream [{}]: GET stream answered {} {}", config.name(), response.status(),
                response.entity().getContentType());
            response.discardEntityBytes(http.mat);
            reconnectServerStream(failures + 1);
          } else {
            http.events(response.entity())
                .thenCompose(source -> source.via(killSwitch.flow()).runForeach(this::onServerEvent, http.mat))
                .whenComplete((done, streamErr) -> {
                  if (streamErr != null && !closing.get()) {
                    log.debug("Upstream [{}]: GET stream dropped: {}", config.name(), streamErr.toString());
                  }
                  reconnectServerStream(0);
                });
          }
        });
  }

  private void onServerEvent(ServerSentEvent event) {
    event.getId().ifPresent(id -> lastServerEventId = id);
    event.getRetry().ifPresent(ms -> serverRetry = Duration.ofMillis(Math.max(ms, 100)));
    if (HttpSupport.isMessageEvent(event) && !event.getData().isBlank()) {
      http.parseAndDeliver(event.getData(), msg -> deliver(msg, null));
    }
  }

  private void reconnectServerStream(int failures) {
    if (closing.get() || closedSignalled.get()) {
      return;
    }
    long base = serverRetry.toMillis();
    long delay = Math.min(MAX_RECONNECT.toMillis(), base << Math.min(failures, 5));
    schedule(Duration.ofMillis(delay), () -> connectServerStream(failures));
  }

  private void schedule(Duration delay, Runnable task) {
    CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.warn("Upstream [{}]: scheduled reconnect failed", config.name(), e);
      }
    });
  }

  private List<HttpHeader> headers(String sid, String lastEventId) {
    List<HttpHeader> headers = http.headers();
    if (sid != null) {
      headers.add(RawHeader.create("Mcp-Session-Id", sid));
    }
    String version = protocolVersion;
    if (version != null) {
      headers.add(RawHeader.create("MCP-Protocol-Version", version));
    }
    if (lastEventId != null) {
      headers.add(RawHeader.create("Last-Event-ID", lastEventId));
    }
    return headers;
  }

  private void deliver(ObjectNode message, JsonNode relatedRequestId) {
    if (!closedSignalled.get()) {
      listener.onMessage(message, relatedRequestId);
    }
  }

  private void sessionExpired() {
    log.info("Upstream [{}] forgot session [{}] (404)", config.name(), sessionId);
    killSwitch.shutdown();
    signalClosed(new UpstreamHttpException(404, "upstream session expired"));
  }

  private void signalClosed(Throwable cause) {
    if (closedSignalled.compareAndSet(false, true) && listener != null) {
      try {
        listener.onClosed(cause);
      } catch (RuntimeException e) {
        log.error("Listener of upstream [{}] failed on close", config.name(), e);
      }
    }
  }

  /** DELETEs the session (best effort, 405 ignored), cancels every open stream. Idempotent. */
  @Override
  public CompletionStage<Void> close() {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    if (!closeFuture.compareAndSet(null, mine)) {
      return closeFuture.get();
    }
    boolean expired = closedSignalled.get();
    closing.set(true);
    killSwitch.shutdown();
    String sid = sessionId;
    CompletionStage<Void> deleted = CompletableFuture.completedFuture(null);
    if (sid != null && !expired && listener != null) {
      HttpRequest delete = HttpRequest.create().withMethod(HttpMethods.DELETE).withUri(http.uri).addHeaders(headers(sid, null));
      deleted = http.request(delete)
          .toCompletableFuture()
          .orTimeout(DELETE_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .handle((response, err) -> {
            if (err != null) {
              log.debug("Upstream [{}]: DELETE session failed: {}", config.name(), err.toString());
            } else {
              int status = response.status().intValue();
              if (!response.status().isSuccess() && status != 405) {
                log.debug("Upstream [{}]: DELETE session answered {}", config.name(), status);
              }
              response.discardEntityBytes(http.mat);
            }
            return null;
          });
    }
    deleted.whenComplete((ok, err) -> {
      http.shutdown();
      signalClosed(null);
      mine.complete(null);
    });
    return mine;
  }
}
