package io.bastion.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.NodeSettings;
import io.bastion.node.call.Authenticator;
import io.bastion.node.call.Caller;
import io.bastion.node.call.Failures;
import io.bastion.node.call.Fault;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.session.LocalSessions;
import io.bastion.node.session.RemoteSessions;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.upstream.UpstreamRoute;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.JsonRpcException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/**
 * What both MCP transports (streamable HTTP and legacy HTTP+SSE) check and share: Origin and Host
 * (DNS rebinding), the caller's key, the body (size, media type, one JSON-RPC message), the
 * session (validated locally when its entity runs on this node, asked otherwise), and the one
 * mapping from a failure to an HTTP response.
 */
final class EdgeSupport {
  static final String SESSION_HEADER = "Mcp-Session-Id";
  static final String VERSION_HEADER = "MCP-Protocol-Version";
  static final String REQUEST_ID_HEADER = "X-Request-Id";
  private static final SecureRandom RANDOM = new SecureRandom();

  final ActorSystem<?> system;
  final EdgeSettings edge;
  final NodeSettings settings;
  private final Authenticator authenticator;
  private final ClusterSharding sharding;
  private final LocalSessions localSessions;
  private final RemoteSessions remoteSessions;
  private final UpstreamRoute route;

  EdgeSupport(ActorSystem<?> system, EdgeSettings edge, NodeSettings settings, Authenticator authenticator) {
    this.system = system;
    this.edge = edge;
    this.settings = settings;
    this.authenticator = authenticator;
    this.sharding = ClusterSharding.get(system);
    this.localSessions = LocalSessions.get(system);
    this.remoteSessions = RemoteSessions.get(system);
    this.route = UpstreamRoute.get(system);
  }

  /** An HTTP-level refusal carrying its fault; answered by {@link #failure}. */
  static final class Refused extends RuntimeException {
    final Fault fault;
    final transient JsonNode id;
    /** The WWW-Authenticate value, or null for the fault's default. */
    final String challenge;

    Refused(Fault fault, JsonNode id, String message) {
      this(fault, id, message, null);
    }

    Refused(Fault fault, JsonNode id, String message, String challenge) {
      super(message, null, false, false);
      this.fault = fault;
      this.id = id;
      this.challenge = challenge;
    }

    HttpResponse response() {
      return EdgeResponses.refuse(fault, id, getMessage(), challenge);
    }
  }

  /** Origin, Host and credentials: the checks every MCP request passes first. Returns the caller. */
  Caller admit(HttpRequest req, String group) {
    if (!HttpChecks.originAllowed(header(req, "Origin"), edge.allowedOrigins())) {
      throw new Refused(Fault.CLIENT_FORBIDDEN_ORIGIN, null,
          "Forbidden: Origin " + header(req, "Origin").orElse("") + " is not allowed");
    }
    if (!HttpChecks.hostAllowed(header(req, "Host"), edge)) {
      throw new Refused(Fault.CLIENT_FORBIDDEN_ORIGIN, null,
          "Forbidden: Host " + header(req, "Host").orElse("") + " is not allowed on a loopback listener");
    }
    try {
      return authenticator.identify(req, group);
    } catch (Authenticator.Unauthorized e) {
      throw new Refused(e.fault(), null, e.getMessage(), e.challenge());
    }
  }

  /** The body as bytes: JSON only, within {@code max_request_bytes}; a Strict entity is not streamed. */
  CompletionStage<byte[]> readBody(HttpRequest req) {
    Optional<String> ct = header(req, "Content-Type");
    boolean json = req.entity().getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)
        || ct.map(c -> c.toLowerCase().startsWith("application/json")).orElse(false);
    if (!json) {
      req.discardEntityBytes(system);
      throw new Refused(Fault.CLIENT_UNSUPPORTED_MEDIA_TYPE, null,
          "Unsupported Media Type: Content-Type must be application/json");
    }
    // A declared Content-Length over the limit makes toStrict fail with a plain
    // EntityStreamException (not EntityStreamSizeException): refuse it here, before reading.
    OptionalLong declared = req.entity().getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > edge.maxRequestBytes()) {
      req.discardEntityBytes(system);
      throw tooLarge();
    }
    if (req.entity() instanceof HttpEntity.Strict strict) {
      return CompletableFuture.completedFuture(strict.getData().toArrayUnsafe());
    }
    return req.entity().toStrict(settings.askTimeout().toMillis(), edge.maxRequestBytes(), system)
        .thenApply(strict -> strict.getData().toArrayUnsafe());
  }

  private Refused tooLarge() {
    return new Refused(Fault.CLIENT_PAYLOAD_TOO_LARGE, null,
        "Payload Too Large: the body exceeds " + edge.maxRequestBytes() + " bytes");
  }

  /** One JSON-RPC message (batches are refused), parsed once from the bytes. */
  static JsonRpc.Message parseSingle(byte[] body) {
    JsonNode tree = parse(body);
    if (tree.isArray()) {
      throw new Refused(Fault.CLIENT_INVALID_REQUEST, null,
          "Invalid request: JSON-RPC batches are not supported (removed in MCP 2025-06-18)");
    }
    return classify(tree);
  }

  /** The body as a JSON tree (a message, or an array of them): -32700 when it is not JSON. */
  static JsonNode parse(byte[] body) {
    try {
      return JsonRpc.parseTree(body);
    } catch (JsonRpcException e) {
      throw new Refused(Fault.CLIENT_PARSE_ERROR, null, e.getMessage());
    }
  }

  /** One JSON-RPC message: an HTTP-level refusal when it is not one. */
  static JsonRpc.Message classify(JsonNode tree) {
    try {
      return JsonRpc.classify(tree);
    } catch (JsonRpcException e) {
      throw new Refused(Fault.ofClientCode(e.code()), e.id(), e.getMessage());
    }
  }

  static JsonNode idOf(JsonRpc.Message m) {
    return m instanceof JsonRpc.Request r ? r.id() : null;
  }

  // ------------------------------------------------------------------ sessions

  EntityRef<SessionEntity.Command> sessionRef(String sessionId) {
    return sharding.entityRefFor(SessionEntity.ENTITY_TYPE_KEY, sessionId);
  }

  /** The replay buffers of the session's SSE streams. */
  EntityRef<io.bastion.node.session.StreamReplay.Command> replayRef(String sessionId) {
    return sharding.entityRefFor(io.bastion.node.session.StreamReplay.ENTITY_TYPE_KEY, sessionId);
  }

  /**
   * The session, if it exists and was opened by the same caller as this request (the same virtual
   * key and, for OAuth, the same subject): a session id is not a credential (spec: sessions are
   * bound to the user), so another caller's session looks exactly like an unknown one (404). A
   * session whose entity runs on this node is read from {@link LocalSessions}, one that another
   * node's entity already told this node about from {@link RemoteSessions} (no ask); any other is
   * asked, and its entity then keeps this node's {@code RemoteSessions} up to date.
   */
  CompletionStage<SessionInfo> validate(String sessionId, Caller caller) {
    if (sessionId.isEmpty() || sessionId.length() > 128) {
      return CompletableFuture.completedFuture(SessionInfo.NOT_FOUND);
    }
    Optional<SessionInfo> known = localSessions.use(sessionId);
    if (known.isEmpty()) {
      known = remoteSessions.use(sessionId);
    }
    CompletionStage<SessionInfo> info = known.isPresent()
        ? CompletableFuture.completedFuture(known.get())
        : askTwice(sessionId, replyTo -> new SessionEntity.Validate(replyTo, remoteSessions.subscriber()));
    return info.thenApply(i -> i.found() && !caller.owns(i) ? SessionInfo.NOT_FOUND : i);
  }

  /**
   * Cluster Sharding delivers at most once: a message buffered for a shard that is being handed off
   * to another node is dropped ("Dropping buffered messages ... during hand off"), and one sent to
   * a node that has just died is lost. Idempotent session messages (Validate, Open) are therefore
   * asked again when an attempt times out: once more normally, and for as long as the failover
   * hold while a cluster member is (or was) lost ({@link UpstreamRoute#askAcrossLoss}; its shards
   * find a new home within it; a session that lived there is then unknown, and its client gets 404
   * and initializes again).
   */
  CompletionStage<SessionInfo> askTwice(String sessionId,
      Function<ActorRef<SessionInfo>, SessionEntity.Command> message) {
    return route.askAcrossLoss(n -> sessionRef(sessionId).<SessionInfo>ask(message::apply,
            n == 0 ? settings.askTimeout().dividedBy(2) : settings.askTimeout()),
        System.nanoTime() + settings.failoverHold().toNanos(), true);
  }

  Refused sessionNotFound(JsonNode id) {
    return new Refused(Fault.CLIENT_UNKNOWN_SESSION, id, "Session not found");
  }

  // ------------------------------------------------------------------ failures

  /** The one mapping from whatever failed while handling a request to its HTTP response. */
  HttpResponse failure(Throwable t) {
    Throwable c = Failures.root(t);
    if (c instanceof Refused r) {
      return r.response();
    }
    if (c instanceof EntityStreamSizeException) {
      return tooLarge().response();
    }
    if (c instanceof EntityStreamException) {
      // The client closed the connection before its body was complete (shorter than its
      // Content-Length, or a broken chunk): the client's fault, not an internal error.
      return new Refused(Fault.CLIENT_PARSE_ERROR, null,
          "Parse error: the request body could not be read: " + c.getMessage()).response();
    }
    if (c instanceof JsonRpcException e) {
      return EdgeResponses.json(200, JsonRpc.error(e.id(), e.code(), e.getMessage(), e.data()));
    }
    if (c instanceof TimeoutException) {
      return EdgeResponses.refuse(Fault.GATEWAY_OWNER_UNAVAILABLE, null,
          "Service Unavailable: the session's owner did not answer in time");
    }
    system.log().warn("Unexpected failure on the MCP edge", c);
    return EdgeResponses.refuse(Fault.GATEWAY_INTERNAL, null, "Internal error");
  }

  static Optional<String> header(HttpRequest req, String name) {
    return req.getHeader(name).map(HttpHeader::value);
  }

  static String newSessionId() {
    byte[] b = new byte[24];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
