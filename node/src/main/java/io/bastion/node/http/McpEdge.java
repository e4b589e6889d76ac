package io.bastion.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.NodeSettings;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.session.RequestStream;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.JsonRpcException;
import io.bastion.protocol.Methods;
import io.bastion.protocol.ProtocolVersions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;
import org.apache.pekko.util.ByteString;

/**
 * The client-facing MCP endpoints of a node: streamable HTTP at {@code /mcp} (POST, GET, DELETE;
 * protocol 2025-11-25 down to 2024-11-05) and the legacy HTTP+SSE pair {@code GET /sse} + {@code
 * POST /messages?sessionId=…}. HTTP concerns live here (headers, status codes, JSON vs SSE
 * bodies); JSON-RPC methods are answered by {@link McpDispatcher}.
 *
 * <p>Status codes: 403 bad Origin or Host, 406 Accept lacks what the transport needs, 415 not
 * JSON, 413 body over {@code max_request_bytes}, 400 malformed JSON-RPC (-32700/-32600), missing
 * session id or unsupported {@code MCP-Protocol-Version}, 404 unknown or deleted session, 202 for
 * accepted notifications and responses, 200 with JSON or SSE for requests.
 *
 * <p>A POST request is answered with plain JSON when its first outcome is the response itself,
 * and with an SSE stream when something (progress, a log message, a server→client request)
 * comes first or the response takes longer than the keep-alive interval ({@link PostReply}). SSE frames are written by hand: each JSON-RPC message is one compact JSON line, so
 * a frame is {@code event: message\ndata: <json>\n\n}.
 */
public final class McpEdge {
  static final String SESSION_HEADER = "Mcp-Session-Id";
  static final String VERSION_HEADER = "MCP-Protocol-Version";
  static final String REQUEST_ID_HEADER = "X-Request-Id";
  private static final ContentType SSE = ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ByteString KEEP_ALIVE = ByteString.fromString(": keep-alive\n\n");

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final EdgeSettings edge;
  private final NodeSettings settings;
  private final McpDispatcher dispatcher;
  private final StreamRegistry streams;
  private final Authenticator authenticator;
  private final CallWatch watch;

  /** Resolves the caller's virtual key from the request (Bearer, x-api-key, x-bf-vk). */
  public interface Authenticator {
    /** The key name, empty when anonymous access is allowed; throws {@link Unauthorized} when refused. */
    Optional<String> authenticate(HttpRequest request, String group);

  }

  /** Refusal by the authenticator: 401 (no or wrong key) or 403 (key not allowed on the group). */
  public static final class Unauthorized extends RuntimeException {
    private final int status;

    public Unauthorized(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  public McpEdge(ActorSystem<?> system, EdgeSettings edge, NodeSettings settings,
      McpDispatcher dispatcher, StreamRegistry streams, Authenticator authenticator) {
    this(system, edge, settings, dispatcher, streams, authenticator, null);
  }

  /** {@code watch}: told about every final answer passing through this node's client streams, or null. */
  public McpEdge(ActorSystem<?> system, EdgeSettings edge, NodeSettings settings,
      McpDispatcher dispatcher, StreamRegistry streams, Authenticator authenticator, CallWatch watch) {
    this.watch = watch;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.edge = edge;
    this.settings = settings;
    this.dispatcher = dispatcher;
    this.streams = streams;
    this.authenticator = authenticator;
  }

  // ------------------------------------------------------------------ streamable HTTP: /mcp

  /** Handles any request to {@code /mcp} (group null) or {@code /mcp/<group>}. */
  public CompletionStage<HttpResponse> handleMcp(HttpRequest req, String group) {
    try {
      checkOriginAndHost(req);
      Optional<String> key = authenticator.authenticate(req, group);
      if (req.method() == HttpMethods.POST) {
        return post(req, group, key.orElse(null));
      } else if (req.method() == HttpMethods.GET) {
        return getStream(req, group, key.orElse(null));
      } else if (req.method() == HttpMethods.DELETE) {
        return delete(req, key.orElse(null));
      }
      return done(HttpResponse.create().withStatus(StatusCodes.METHOD_NOT_ALLOWED)
          .addHeader(RawHeader.create("Allow", "GET, POST, DELETE")));
    } catch (HttpError e) {
      return done(e.response());
    } catch (Unauthorized e) {
      return done(unauthorized(e));
    }
  }

  private HttpResponse unauthorized(Unauthorized e) {
    HttpResponse r = jsonError(StatusCodes.get(e.status()), null, ErrorCodes.INVALID_REQUEST, e.getMessage());
    return e.status() == 401
        ? r.addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"bastion\", error=\"invalid_token\""))
        : r;
  }

  private CompletionStage<HttpResponse> post(HttpRequest req, String group, String keyName) {
    String requestId = RequestIds.of(req);
    return postWithId(req, group, keyName, requestId)
        .thenApply(r -> r.addHeader(RawHeader.create(REQUEST_ID_HEADER, requestId)));
  }

  private CompletionStage<HttpResponse> postWithId(HttpRequest req, String group, String keyName,
      String requestId) {
    long started = System.nanoTime();
    if (!HttpChecks.accepts(header(req, "Accept"), "application/json")
        || !HttpChecks.accepts(header(req, "Accept"), "text/event-stream")) {
      throw new HttpError(jsonError(StatusCodes.NOT_ACCEPTABLE, null, ErrorCodes.INVALID_REQUEST,
          "Not Acceptable: the client must accept both application/json and text/event-stream"));
    }
    return readBody(req).thenCompose(body -> {
      JsonRpc.Message msg = parseSingle(body);
      if (msg instanceof JsonRpc.Request r && Methods.INITIALIZE.equals(r.method())) {
        return initialize(r, keyName).thenApply(resp -> {
          Metrics.mcpRequest(Methods.INITIALIZE, System.nanoTime() - started);
          return resp;
        });
      }
      String sessionId = header(req, SESSION_HEADER).orElseThrow(() -> new HttpError(jsonError(
          StatusCodes.BAD_REQUEST, idOf(msg), ErrorCodes.INVALID_REQUEST,
          "Bad Request: Mcp-Session-Id header is required")));
      checkProtocolVersion(req, msg);
      return validate(sessionId, keyName).thenCompose(info -> {
        if (!info.found()) {
          return done(jsonError(StatusCodes.NOT_FOUND, idOf(msg), ErrorCodes.INVALID_REQUEST, "Session not found"));
        }
        return handleMessage(msg, sessionId, info, group, null, requestId, started);
      });
    }).exceptionally(this::failure);
  }

  /** Handles a message of an open session. {@code legacyStream} is set for the HTTP+SSE transport. */
  private CompletionStage<HttpResponse> handleMessage(JsonRpc.Message msg, String sessionId,
      SessionEntity.Info info, String group, ActorRef<RequestStream.Event> legacyStream, String requestId,
      long startedNanos) {
    if (msg instanceof JsonRpc.Notification n) {
      onNotification(n, sessionId);
      return done(accepted());
    }
    if (msg instanceof JsonRpc.Response r) {
      return onClientResponse(r, sessionId).thenApply(x -> accepted());
    }
    JsonRpc.Request r = (JsonRpc.Request) msg;
    if (legacyStream != null) {
      if (Methods.INITIALIZE.equals(r.method())) {
        String version;
        try {
          version = McpDispatcher.negotiate(r);
        } catch (JsonRpcException e) {
          // Legacy clients read answers only from their SSE stream, with the request's id.
          legacyStream.tell(new RequestStream.Final(JsonRpc.error(r.id(), e)));
          return done(accepted());
        }
        sessionRef(sessionId).tell(new SessionEntity.Initialized(version,
            r.paramsObject().get("clientInfo"), r.paramsObject().get("capabilities")));
        legacyStream.tell(new RequestStream.Final(JsonRpc.result(r.id(), McpDispatcher.initializeResult(version))));
      } else {
        dispatcher.dispatch(r, sessionId, info, group, legacyStream, requestId);
      }
      return done(accepted());
    }
    Pair<ActorRef<RequestStream.Event>, CompletableFuture<HttpResponse>> reply = PostReply.start(system,
        r.id(), r.method(), settings.maxRequestTimeout().plus(settings.askTimeout()), settings.sseKeepalive(),
        startedNanos, watch,
        events -> sse(events.map(McpEdge::frame).keepAlive(settings.sseKeepalive(), McpEdge::keepAliveFrame)));
    dispatcher.dispatch(r, sessionId, info, group, reply.first(), requestId);
    return reply.second();
  }

  private void onNotification(JsonRpc.Notification n, String sessionId) {
    switch (n.method()) {
      case Methods.NOTIFICATION_CANCELLED -> dispatcher.cancel(sessionId, n);
      default -> { /* initialized, roots/list_changed, progress from the client: nothing to do */ }
    }
  }

  private CompletionStage<Void> onClientResponse(JsonRpc.Response r, String sessionId) {
    return sessionRef(sessionId).<SessionEntity.PendingAnswer>ask(
            reply -> new SessionEntity.ResolveClientResponse(r.id(), reply), settings.askTimeout())
        .thenAccept(p -> {
          if (p.found()) {
            sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, p.server())
                .tell(new UpstreamServer.ClientAnswer(p.upstreamId(), r.raw()));
          }
        });
  }

  private CompletionStage<HttpResponse> initialize(JsonRpc.Request r, String keyName) {
    String version;
    try {
      version = McpDispatcher.negotiate(r);
    } catch (JsonRpcException e) {
      // Answer with the request's id so the client can match the error to its initialize.
      return done(json(StatusCodes.OK, JsonRpc.error(r.id(), e)));
    }
    String sessionId = newSessionId();
    ObjectNode p = r.paramsObject();
    return askTwice(sessionId, reply -> new SessionEntity.Open(version,
            p.get("clientInfo"), p.get("capabilities"), keyName, reply))
        .thenApply(info -> json(StatusCodes.OK, JsonRpc.result(r.id(), McpDispatcher.initializeResult(version)))
            .addHeader(RawHeader.create(SESSION_HEADER, sessionId)));
  }

  private void checkProtocolVersion(HttpRequest req, JsonRpc.Message msg) {
    Optional<String> v = header(req, VERSION_HEADER);
    if (v.isPresent() && !ProtocolVersions.isSupported(v.get())) {
      throw new HttpError(jsonError(StatusCodes.BAD_REQUEST, idOf(msg), ErrorCodes.INVALID_REQUEST,
          "Bad Request: unsupported MCP-Protocol-Version " + v.get() + "; supported: "
              + String.join(", ", ProtocolVersions.SUPPORTED)));
    }
  }

  private CompletionStage<HttpResponse> getStream(HttpRequest req, String group, String keyName) {
    if (!HttpChecks.accepts(header(req, "Accept"), "text/event-stream")) {
      throw new HttpError(jsonError(StatusCodes.NOT_ACCEPTABLE, null, ErrorCodes.INVALID_REQUEST,
          "Not Acceptable: the client must accept text/event-stream"));
    }
    String sessionId = header(req, SESSION_HEADER).orElseThrow(() -> new HttpError(jsonError(
        StatusCodes.BAD_REQUEST, null, ErrorCodes.INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required")));
    return validate(sessionId, keyName).thenApply(info -> {
      if (!info.found()) {
        return jsonError(StatusCodes.NOT_FOUND, null, ErrorCodes.INVALID_REQUEST, "Session not found");
      }
      return sse(openSessionStream(sessionId, info, group, false));
    }).exceptionally(this::failure);
  }

  private CompletionStage<HttpResponse> delete(HttpRequest req, String keyName) {
    String sessionId = header(req, SESSION_HEADER).orElseThrow(() -> new HttpError(jsonError(
        StatusCodes.BAD_REQUEST, null, ErrorCodes.INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required")));
    // Only the key that opened a session may end it: check ownership before terminating.
    return validate(sessionId, keyName)
        .thenCompose(owned -> owned.found()
            ? sessionRef(sessionId).<SessionEntity.Info>ask(SessionEntity.Terminate::new, settings.askTimeout())
            : CompletableFuture.completedFuture(SessionEntity.Info.NOT_FOUND))
        .thenApply(info -> info.found()
            ? HttpResponse.create().withStatus(StatusCodes.OK)
            : jsonError(StatusCodes.NOT_FOUND, null, ErrorCodes.INVALID_REQUEST, "Session not found"))
        .exceptionally(this::failure);
  }

  // ------------------------------------------------------------------ legacy HTTP+SSE

  /** {@code GET /sse}: opens a session and its stream; the first event names the POST endpoint. */
  public CompletionStage<HttpResponse> handleLegacyStream(HttpRequest req, String group) {
    try {
      checkOriginAndHost(req);
      Optional<String> key = authenticator.authenticate(req, group);
      String sessionId = newSessionId();
      return sessionRef(sessionId).<SessionEntity.Info>ask(reply -> new SessionEntity.Open(
              ProtocolVersions.V2024_11_05, null, null, key.orElse(null), reply), settings.askTimeout())
          .thenApply(info -> {
            String endpoint = "/messages?sessionId=" + sessionId + (group == null ? "" : "&group=" + group);
            Source<ByteString, NotUsed> events = Source.single(ByteString.fromString(
                    "event: endpoint\ndata: " + endpoint + "\n\n"))
                .concat(openSessionStream(sessionId, info, group, true));
            return sse(events);
          }).exceptionally(this::failure);
    } catch (HttpError e) {
      return done(e.response());
    } catch (Unauthorized e) {
      return done(unauthorized(e));
    }
  }

  /** {@code POST /messages?sessionId=…}: every answer goes to the session's SSE stream; the POST gets 202. */
  public CompletionStage<HttpResponse> handleLegacyPost(HttpRequest req) {
    try {
      checkOriginAndHost(req);
      String sessionId = req.getUri().query().get("sessionId").orElseThrow(() -> new HttpError(jsonError(
          StatusCodes.BAD_REQUEST, null, ErrorCodes.INVALID_REQUEST, "Bad Request: sessionId query parameter is required")));
      String group = req.getUri().query().get("group").orElse(null);
      String keyName = authenticator.authenticate(req, group).orElse(null);
      String requestId = RequestIds.of(req);
      long started = System.nanoTime();
      return readBody(req).thenCompose(body -> {
        JsonRpc.Message msg = parseSingle(body);
        return validate(sessionId, keyName).thenCompose(info -> {
          if (!info.found() || info.stream() == null) {
            return done(jsonError(StatusCodes.NOT_FOUND, idOf(msg), ErrorCodes.INVALID_REQUEST, "Session not found"));
          }
          return handleMessage(msg, sessionId, info, group, info.stream(), requestId, started);
        });
      }).exceptionally(this::failure)
          .thenApply(r -> r.addHeader(RawHeader.create(REQUEST_ID_HEADER, requestId)));
    } catch (HttpError e) {
      return done(e.response());
    } catch (Unauthorized e) {
      return done(unauthorized(e));
    }
  }

  // ------------------------------------------------------------------ streams

  private Pair<ActorRef<RequestStream.Event>, Source<RequestStream.Event, NotUsed>> requestStream() {
    return ActorSource.<RequestStream.Event>actorRef(e -> false, e -> Optional.empty(), 1024,
        OverflowStrategy.dropHead()).preMaterialize(system);
  }

  /** A session's long-lived stream (GET /mcp or legacy /sse), registered for list_changed. */
  private Source<ByteString, NotUsed> openSessionStream(String sessionId, SessionEntity.Info info,
      String group, boolean terminateOnClose) {
    Pair<ActorRef<RequestStream.Event>, Source<RequestStream.Event, NotUsed>> s = requestStream();
    ActorRef<RequestStream.Event> ref = s.first();
    EntityRef<SessionEntity.Command> session = sessionRef(sessionId);
    session.tell(new SessionEntity.AttachStream(ref));
    streams.register(sessionId, info, group, ref);
    return watched(ref, s.second()).map(McpEdge::frame)
        .keepAlive(settings.sseKeepalive(), McpEdge::keepAliveFrame)
        .watchTermination((mat, done) -> {
          done.whenComplete((d, err) -> {
            streams.unregister(sessionId, ref);
            session.tell(new SessionEntity.DetachStream(ref));
            if (terminateOnClose) {
              session.tell(new SessionEntity.Terminate(system.ignoreRef()));
            }
          });
          return mat;
        });
  }

  /**
   * Reports every final answer on {@code ref}'s stream to the {@link CallWatch}, and ends the
   * watches still open on it when the stream ends (client gone, timeout).
   */
  private Source<RequestStream.Event, NotUsed> watched(ActorRef<RequestStream.Event> ref,
      Source<RequestStream.Event, NotUsed> events) {
    if (watch == null) {
      return events;
    }
    return events.map(e -> {
      if (e instanceof RequestStream.Final f) {
        watch.seen(ref, f);
      }
      return e;
    }).watchTermination((mat, done) -> {
      done.whenComplete((d, err) -> watch.abandonAll(ref, CallWatch.CLIENT_GONE));
      return mat;
    });
  }

  private static ByteString frame(RequestStream.Event e) {
    ObjectNode json = e instanceof RequestStream.Final f ? f.json() : ((RequestStream.Message) e).json();
    return ByteString.fromString("event: message\ndata: " + Json.write(json) + "\n\n");
  }

  private static ByteString keepAliveFrame() {
    return KEEP_ALIVE;
  }

  private static HttpResponse sse(Source<ByteString, NotUsed> bytes) {
    return HttpResponse.create().withStatus(StatusCodes.OK)
        .addHeader(RawHeader.create("Cache-Control", "no-cache"))
        .addHeader(RawHeader.create("X-Accel-Buffering", "no"))
        .withEntity(HttpEntities.createChunked(SSE, bytes));
  }

  // ------------------------------------------------------------------ helpers

  private EntityRef<SessionEntity.Command> sessionRef(String sessionId) {
    return sharding.entityRefFor(SessionEntity.ENTITY_TYPE_KEY, sessionId);
  }

  /**
   * The session, if it exists and was opened with the same virtual key as this request: a session
   * id is not a credential (spec: sessions are bound to the user), so another key's session looks
   * exactly like an unknown one (404).
   */
  private CompletionStage<SessionEntity.Info> validate(String sessionId, String keyName) {
    if (sessionId.isEmpty() || sessionId.length() > 128) {
      return CompletableFuture.completedFuture(SessionEntity.Info.NOT_FOUND);
    }
    return askTwice(sessionId, SessionEntity.Validate::new)
        .thenApply(info -> info.found() && !java.util.Objects.equals(info.keyName(), keyName)
            ? SessionEntity.Info.NOT_FOUND : info);
  }

  /**
   * Cluster Sharding delivers at most once: a message buffered for a shard that is being handed off
   * to another node is dropped ("Dropping buffered messages ... during hand off"). Idempotent
   * session messages (Validate, Open) are therefore asked again when the first, shorter attempt
   * times out.
   */
  private CompletionStage<SessionEntity.Info> askTwice(String sessionId,
      java.util.function.Function<ActorRef<SessionEntity.Info>, SessionEntity.Command> message) {
    Duration first = settings.askTimeout().dividedBy(2);
    return sessionRef(sessionId).<SessionEntity.Info>ask(message::apply, first)
        .exceptionallyCompose(err -> isTimeout(err)
            ? sessionRef(sessionId).<SessionEntity.Info>ask(message::apply, settings.askTimeout())
            : CompletableFuture.failedFuture(err));
  }

  private static boolean isTimeout(Throwable t) {
    Throwable c = t;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    return c instanceof TimeoutException;
  }

  private void checkOriginAndHost(HttpRequest req) {
    if (!HttpChecks.originAllowed(header(req, "Origin"), edge.allowedOrigins())) {
      throw new HttpError(jsonError(StatusCodes.FORBIDDEN, null, ErrorCodes.INVALID_REQUEST,
          "Forbidden: Origin " + header(req, "Origin").orElse("") + " is not allowed"));
    }
    if (!HttpChecks.hostAllowed(header(req, "Host"), edge)) {
      throw new HttpError(jsonError(StatusCodes.FORBIDDEN, null, ErrorCodes.INVALID_REQUEST,
          "Forbidden: Host " + header(req, "Host").orElse("") + " is not allowed on a loopback listener"));
    }
  }

  private CompletionStage<byte[]> readBody(HttpRequest req) {
    Optional<String> ct = header(req, "Content-Type");
    boolean json = req.entity().getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)
        || ct.map(c -> c.toLowerCase().startsWith("application/json")).orElse(false);
    if (!json) {
      req.discardEntityBytes(system);
      throw new HttpError(jsonError(StatusCodes.UNSUPPORTED_MEDIA_TYPE, null, ErrorCodes.INVALID_REQUEST,
          "Unsupported Media Type: Content-Type must be application/json"));
    }
    // A declared Content-Length over the limit makes toStrict fail with a plain
    // EntityStreamException (not EntityStreamSizeException): refuse it here, before reading.
    java.util.OptionalLong declared = req.entity().getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > edge.maxRequestBytes()) {
      req.discardEntityBytes(system);
      throw new HttpError(tooLarge());
    }
    // Small bodies usually arrive whole, as a Strict entity: no stream to materialize (JFR showed
    // toStrict among the largest per-request costs at saturation, docs/benchmarks.md).
    if (req.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict) {
      return CompletableFuture.completedFuture(strict.getData().toArray());
    }
    return req.entity().toStrict(settings.askTimeout().toMillis(), edge.maxRequestBytes(), system)
        .thenApply(strict -> strict.getData().toArray());
  }

  private static JsonRpc.Message parseSingle(byte[] body) {
    JsonNode tree;
    try {
      tree = JsonRpc.parseTree(body);
    } catch (JsonRpcException e) {
      throw new HttpError(jsonError(StatusCodes.BAD_REQUEST, null, e.code(), e.getMessage()));
    }
    if (tree.isArray()) {
      throw new HttpError(jsonError(StatusCodes.BAD_REQUEST, null, ErrorCodes.INVALID_REQUEST,
          "Invalid request: JSON-RPC batches are not supported (removed in MCP 2025-06-18)"));
    }
    try {
      return JsonRpc.classify(tree);
    } catch (JsonRpcException e) {
      throw new HttpError(jsonError(StatusCodes.BAD_REQUEST, e.id(), e.code(), e.getMessage()));
    }
  }

  private static JsonNode idOf(JsonRpc.Message m) {
    return m instanceof JsonRpc.Request r ? r.id() : null;
  }

  private HttpResponse failure(Throwable t) {
    Throwable c = t;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof HttpError e) {
      return e.response();
    }
    if (c instanceof EntityStreamSizeException) {
      return tooLarge();
    }
    if (c instanceof JsonRpcException e) {
      return jsonError(StatusCodes.OK, e.id(), e.code(), e.getMessage());
    }
    if (c instanceof TimeoutException) {
      return jsonError(StatusCodes.SERVICE_UNAVAILABLE, null, ErrorCodes.GATEWAY_ERROR,
          "Service Unavailable: the session's owner did not answer in time");
    }
    system.log().warn("Unexpected failure on the MCP edge", c);
    return jsonError(StatusCodes.INTERNAL_SERVER_ERROR, null, ErrorCodes.INTERNAL_ERROR, "Internal error");
  }

  private HttpResponse tooLarge() {
    return jsonError(StatusCodes.PAYLOAD_TOO_LARGE, null, ErrorCodes.INVALID_REQUEST,
        "Payload Too Large: the body exceeds " + edge.maxRequestBytes() + " bytes");
  }

  static HttpResponse json(StatusCode status, JsonNode body) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, Json.writeBytes(body)));
  }

  static HttpResponse jsonError(StatusCode status, JsonNode id, int code, String message) {
    return json(status, JsonRpc.error(id, code, message, null));
  }

  private static HttpResponse accepted() {
    return HttpResponse.create().withStatus(StatusCodes.ACCEPTED);
  }

  private static Optional<String> header(HttpRequest req, String name) {
    return req.getHeader(name).map(HttpHeader::value);
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }

  static String newSessionId() {
    byte[] b = new byte[24];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** An HTTP-level refusal carrying its response. */
  static final class HttpError extends RuntimeException {
    private final transient HttpResponse response;

    HttpError(HttpResponse response) {
      super(null, null, false, false);
      this.response = response;
    }

    HttpResponse response() {
      return response;
    }
  }
}
