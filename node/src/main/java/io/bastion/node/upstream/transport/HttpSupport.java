package io.bastion.node.upstream.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.ServerConfig;
import io.bastion.config.Urls;
import io.bastion.node.call.Failures;
import io.bastion.protocol.Json;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ConnectHttp;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaType;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.http.javadsl.unmarshalling.sse.EventStreamUnmarshalling;
import org.apache.pekko.http.scaladsl.settings.ServerSentEventSettings;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.SystemMaterializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;

/**
 * INTERNAL API: what the two HTTP transports share (client settings, headers, errors, JSON).
 *
 * <p>Every request of one transport goes through one materialized pool flow: a bounded queue of
 * (request, promise) pairs into {@code Http.cachedHostConnectionPool} for the upstream's host, with
 * this transport's pool settings, whose responses complete the promises. The flow lives as long as the transport ({@link #shutdown} on
 * close lets requests already queued finish). Compared with {@code Http.singleRequest} (or
 * {@code superPool}) per call, no per-request pool lookup by host and settings, and no Scala future
 * wrapper; the URL is parsed once, not per request; the promise is completed on the pool
 * flow's thread, so its continuations run inline there, as with {@code Stages.direct} before.
 */
final class HttpSupport {

  /** Requests queued for the pool at most, like the pool's own {@code max-open-requests}. */
  static final int MAX_QUEUED_REQUESTS = 256;

  /** Largest SSE event / line accepted from an upstream (tool results can be big). */
  static final int MAX_SSE_EVENT_BYTES = 64 * 1024 * 1024;

  private static final int EXCERPT_CHARS = 500;
  private static final long ERROR_BODY_TIMEOUT_MS = 5_000;
  private static final Set<String> RESERVED_HEADERS = Set.of("content-type", "content-length",
      "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id", "host");

  final ActorSystem<?> system;
  final ServerConfig config;
  final Http http;
  final Materializer mat;
  final ConnectionPoolSettings pool;
  final ServerSentEventSettings sse;
  final List<HttpHeader> staticHeaders;
  /** The configured URL, parsed once (not per request). */
  final Uri uri;
  private final Logger log;
  private final BoundedSourceQueue<Pair<HttpRequest, CompletableFuture<HttpResponse>>> queue;
  /** The Netty client of an {@code http://} upstream, or null: Pekko's pool ({@link #queue}, else null) serves it. */
  private final NettyHttpClient netty;
  private final AtomicBoolean shutdown = new AtomicBoolean();

  /** The current OAuth access token, read per request (null: none); see {@link #headers()}. */
  private final java.util.function.Supplier<String> bearer;

  HttpSupport(ActorSystem<?> system, ServerConfig config, Logger log) {
    this(system, config, log, null);
  }

  HttpSupport(ActorSystem<?> system, ServerConfig config, Logger log, java.util.function.Supplier<String> bearer) {
    this.bearer = bearer;
    if (config.url() == null) {
      throw new IllegalArgumentException("upstream [" + config.name() + "] has no url");
    }
    this.system = system;
    this.config = config;
    this.log = log;
    this.http = Http.get(system);
    this.uri = Uri.create(config.url().toString());
    this.mat = SystemMaterializer.get(system).materializer();
    Config base = system.settings().config();
    // SSE streams (the GET stream, long tool calls) are long-lived and may be silent for minutes,
    // so the idle timeout is the longest a request may take plus a margin, not the default 60 s.
    // It must not be infinite: the owner's per-request timeout drops its in-flight entry but
    // cannot abort a POST still waiting for headers, and a hung upstream would otherwise hold
    // pool connections forever (32 of them lock the upstream out). A GET stream cut by it is
    // reconnected with Last-Event-ID. Enough connections for a GET stream plus concurrent POSTs.
    String idle = (base.getDuration("bastion.node.max-request-timeout").toSeconds() + 30) + "s";
    Duration keepAlive = base.getDuration("bastion.node.upstream-keep-alive-timeout");
    this.pool = ConnectionPoolSettings.create(ConfigFactory.parseString(String.join("\n",
        "pekko.http.host-connection-pool.max-connections = 32",
        "pekko.http.host-connection-pool.max-open-requests = 256",
        // After a refused connection the pool backs off for *every* connection to the host (up to
        // 2 min by default) and queues requests meanwhile: a dead upstream would then look hung
        // instead of refused. The owner entity paces reconnects itself; 1 s is enough here.
        "pekko.http.host-connection-pool.max-connection-backoff = 1s",
        "pekko.http.host-connection-pool.keep-alive-timeout = " + keepAlive.toMillis() + "ms",
        "pekko.http.host-connection-pool.client.idle-timeout = " + idle,
        "pekko.http.client.idle-timeout = " + idle)).withFallback(base));
    // Empty events must be emitted: a priming event (id + retry, empty data) carries the
    // Last-Event-ID a closed POST or GET stream is resumed with.
    this.sse = ServerSentEventSettings.apply(ConfigFactory.parseString(String.join("\n",
        "pekko.http.sse.max-event-size = " + (MAX_SSE_EVENT_BYTES + 1024),
        "pekko.http.sse.max-line-size = " + MAX_SSE_EVENT_BYTES,
        "pekko.http.sse.emit-empty-events = on")).withFallback(base));
    List<HttpHeader> headers = new ArrayList<>();
    for (Map.Entry<String, String> h : config.headers().entrySet()) {
      if (RESERVED_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
        log.warn("Upstream [{}]: ignoring configured header [{}], the transport sets it",
            config.name(), h.getKey());
      } else {
        headers.add(RawHeader.create(h.getKey(), h.getValue()));
      }
    }
    this.staticHeaders = List.copyOf(headers);
    boolean useNetty = "netty".equals(base.getString("bastion.node.upstream-http-client"))
        && "http".equalsIgnoreCase(uri.getScheme());
    this.netty = !useNetty ? null : new NettyHttpClient(NettyLoop.get(system), URI.create(uri.toString()),
        base.getDuration("bastion.node.max-request-timeout").plusSeconds(30), keepAlive, MAX_SSE_EVENT_BYTES, mat);
    this.queue = useNetty ? null : Source.<Pair<HttpRequest, CompletableFuture<HttpResponse>>>queue(MAX_QUEUED_REQUESTS)
        .via(http.<CompletableFuture<HttpResponse>>cachedHostConnectionPool(
            ConnectHttp.toHost(uri), pool, system.classicSystem().log()))
        .to(Sink.foreach(answered -> {
          if (answered.first().isSuccess()) {
            answered.second().complete(answered.first().get());
          } else {
            answered.second().completeExceptionally(answered.first().failed().get());
          }
        }))
        .run(mat);
  }

  /**
   * The configured headers plus, for an OAuth upstream, {@code Authorization: Bearer} with the
   * token current at this moment (so a refreshed token is used from the next request on, without
   * reconnecting). A configured Authorization header is replaced by the OAuth one.
   */
  List<HttpHeader> headers() {
    String token = bearer == null ? null : bearer.get();
    if (token == null) {
      return new ArrayList<>(staticHeaders);
    }
    List<HttpHeader> headers = new ArrayList<>(staticHeaders.size() + 1);
    for (HttpHeader h : staticHeaders) {
      if (!h.is("authorization")) {
        headers.add(h);
      }
    }
    headers.add(RawHeader.create("Authorization", "Bearer " + token));
    return headers;
  }

  /**
   * Sends {@code request} through this transport's client (Netty's, or Pekko's pool); fails with a
   * message that names the target without secrets.
   */
  CompletionStage<HttpResponse> request(HttpRequest request) {
    CompletionStage<HttpResponse> sent;
    if (netty != null) {
      sent = shutdown.get()
          ? failed(new IllegalStateException("transport to [" + config.name() + "] is closed"))
          : netty.request(request);
    } else {
      CompletableFuture<HttpResponse> promise = new CompletableFuture<>();
      QueueOfferResult offered = queue.offer(Pair.create(request, promise));
      if (offered != QueueOfferResult.enqueued()) {
        promise.completeExceptionally(offered == QueueOfferResult.dropped()
            ? new IOException("more than " + MAX_QUEUED_REQUESTS + " requests waiting for upstream " + config.name())
            : new IllegalStateException("transport to [" + config.name() + "] is closed"));
      }
      sent = promise;
    }
    return sent.exceptionally(e -> {
      throw new CompletionException(describeConnectFailure(Failures.root(e),
          URI.create(request.getUri().toString())));
    });
  }

  /** No more requests: those already queued still complete, then the pool flow stops. Idempotent. */
  void shutdown() {
    if (shutdown.compareAndSet(false, true)) {
      if (netty != null) {
        netty.close();
      } else {
        queue.complete();
      }
    }
  }

  /** The message names the target without its secrets (it ends up in logs and lastError). */
  static Throwable describeConnectFailure(Throwable e, URI target) {
    String msg = Urls.scrub(String.valueOf(e.getMessage()), target);
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || String.valueOf(t.getMessage()).contains("Connection refused")) {
        return new ConnectException("connection refused: " + Urls.redact(target));
      }
    }
    return new IOException("cannot reach " + Urls.redact(target) + ": " + msg, e);
  }

  static boolean isEventStream(HttpResponse response) {
    return is(response, "text", "event-stream");
  }

  static boolean isJson(HttpResponse response) {
    return is(response, "application", "json");
  }

  private static boolean is(HttpResponse response, String main, String sub) {
    MediaType mt = response.entity().getContentType().mediaType();
    return main.equalsIgnoreCase(mt.mainType()) && sub.equalsIgnoreCase(mt.subType());
  }

  /** Reads (a bounded part of) an error body and fails with {@link UpstreamHttpException}. */
  <T> CompletionStage<T> failWithStatus(HttpResponse response, String what) {
    int status = response.status().intValue();
    // An OAuth challenge (401/403) tells the owner what to do next (refresh, step up the scope).
    String challenge = status != 401 && status != 403 ? "" : response.getHeader("WWW-Authenticate")
        .map(h -> " [WWW-Authenticate: " + excerpt(h.value()) + "]").orElse("");
    return response.entity().toStrict(ERROR_BODY_TIMEOUT_MS, mat)
        .handle((strict, err) -> {
          String body = strict == null ? "" : strict.getData().utf8String();
          String text = "HTTP " + status + " from " + what + challenge + (body.isBlank() ? "" : ": " + excerpt(body));
          throw new CompletionException(new UpstreamHttpException(status, text));
        });
  }

  /** Parses a JSON body (one message or a batch) and hands each object to {@code sink}. */
  CompletionStage<Void> consumeJson(HttpEntity entity, Consumer<ObjectNode> sink) {
    // A small body usually arrives whole (Strict): parse it in place, no stream to materialize.
    if (entity instanceof HttpEntity.Strict strict) {
      deliverBody(strict, sink);
      return CompletableFuture.completedFuture(null);
    }
    return entity.withoutSizeLimit().toStrict(config.requestTimeout().toMillis(), mat)
        .thenAccept(strict -> deliverBody(strict, sink));
  }

  /** Parses the body once, from its bytes (no String copy; decoded only for a warning). */
  private void deliverBody(HttpEntity.Strict strict, Consumer<ObjectNode> sink) {
    ByteString data = strict.getData();
    if (isBlank(data)) {
      return;
    }
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(data.toArrayUnsafe());
    } catch (IOException e) {
      log.warn("Upstream [{}] sent a non-JSON message (ignored): {}", config.name(),
          excerpt(data.decodeString(StandardCharsets.UTF_8)));
      return;
    }
    deliver(node, sink, () -> data.decodeString(StandardCharsets.UTF_8));
  }

  private static boolean isBlank(ByteString data) {
    for (int i = 0; i < data.size(); i++) {
      byte b = data.apply(i);
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return true;
  }

  /**
   * The SSE events of a streaming entity (parsed by Pekko HTTP's EventStreamUnmarshalling, after
   * {@link LineSeparatorEscape}, without which it drops events holding U+0085/U+2028/U+2029).
   */
  CompletionStage<Source<ServerSentEvent, NotUsed>> events(HttpEntity entity) {
    return EventStreamUnmarshalling.fromEventsStream(sse)
        .unmarshal(org.apache.pekko.http.javadsl.model.HttpEntities.createChunked(entity.getContentType(),
            entity.getDataBytes().via(LineSeparatorEscape.flow())), mat);
  }

  /** True for events that carry a JSON-RPC message ({@code message} or no event type). */
  static boolean isMessageEvent(ServerSentEvent event) {
    return event.getEventType().map("message"::equals).orElse(true);
  }

  void parseAndDeliver(String json, Consumer<ObjectNode> sink) {
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(json);
    } catch (IOException e) {
      log.warn("Upstream [{}] sent a non-JSON message (ignored): {}", config.name(), excerpt(json));
      return;
    }
    deliver(node, sink, () -> json);
  }

  /** Hands a parsed message (or each object of a batch) to {@code sink}. */
  private void deliver(JsonNode node, Consumer<ObjectNode> sink, java.util.function.Supplier<String> text) {
    if (node instanceof ObjectNode obj) {
      safely(sink, obj);
    } else if (node != null && node.isArray()) {
      for (JsonNode element : node) {
        if (element instanceof ObjectNode obj) {
          safely(sink, obj);
        }
      }
    } else {
      log.warn("Upstream [{}] sent a non-object JSON message (ignored): {}", config.name(), excerpt(text.get()));
    }
  }

  private void safely(Consumer<ObjectNode> sink, ObjectNode message) {
    try {
      sink.accept(message);
    } catch (RuntimeException e) {
      log.error("Listener of upstream [{}] failed on a message", config.name(), e);
    }
  }

  byte[] toJson(ObjectNode message) {
    try {
      return Json.MAPPER.writeValueAsBytes(message);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot serialize message", e);
    }
  }

  static String excerpt(String s) {
    String t = s.strip();
    return t.length() <= EXCERPT_CHARS ? t : t.substring(0, EXCERPT_CHARS) + "…";
  }

  static <T> CompletableFuture<T> failed(Throwable t) {
    return CompletableFuture.failedFuture(t);
  }
}
