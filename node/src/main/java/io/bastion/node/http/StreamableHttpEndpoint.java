package io.bastion.node.http;

import static io.bastion.node.http.EdgeSupport.REQUEST_ID_HEADER;
import static io.bastion.node.http.EdgeSupport.SESSION_HEADER;
import static io.bastion.node.http.EdgeSupport.VERSION_HEADER;
import static io.bastion.node.http.EdgeSupport.header;
import static io.bastion.node.http.EdgeSupport.idOf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.Fault;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.session.SessionEntity;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.JsonRpcException;
import io.bastion.protocol.Methods;
import io.bastion.protocol.ProtocolVersions;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The streamable HTTP transport at {@code /mcp} (POST, GET, DELETE; protocol 2025-11-25 down to
 * 2024-11-05). HTTP concerns live here; JSON-RPC methods are answered by {@link McpDispatcher}.
 *
 * <p>Status codes: 403 bad Origin or Host, 406 Accept lacks what the transport needs, 415 not
 * JSON, 413 body over {@code max_request_bytes}, 400 malformed JSON-RPC (-32700/-32600), missing
 * session id or unsupported {@code MCP-Protocol-Version}, 404 unknown or deleted session, 202 for
 * accepted notifications and responses, 200 with JSON or SSE for requests (see {@link
 * ReplyRouter} for when a POST is answered as SSE). Every status comes from a {@link Fault}.
 */
public final class StreamableHttpEndpoint {

  private final EdgeSupport support;
  private final McpDispatcher dispatcher;
  private final ReplyRouter router;
  private final SessionStreams streams;

  StreamableHttpEndpoint(EdgeSupport support, McpDispatcher dispatcher, ReplyRouter router, SessionStreams streams) {
    this.support = support;
    this.dispatcher = dispatcher;
    this.router = router;
    this.streams = streams;
  }

  /** Handles any request to {@code /mcp} (group null) or {@code /mcp/<group>}. */
  public CompletionStage<HttpResponse> handle(HttpRequest req, String group) {
    try {
      String key = support.admit(req, group);
      if (req.method() == HttpMethods.POST) {
        String requestId = RequestIds.of(req);
        return post(req, group, key, requestId)
            .exceptionally(support::failure)
            .thenApply(r -> r.addHeader(RawHeader.create(REQUEST_ID_HEADER, requestId)));
      } else if (req.method() == HttpMethods.GET) {
        return getStream(req, group, key).exceptionally(support::failure);
      } else if (req.method() == HttpMethods.DELETE) {
        return delete(req, key).exceptionally(support::failure);
      }
      return CompletableFuture.completedFuture(HttpResponse.create().withStatus(StatusCodes.METHOD_NOT_ALLOWED)
          .addHeader(RawHeader.create("Allow", "GET, POST, DELETE")));
    } catch (EdgeSupport.Refused e) {
      return CompletableFuture.completedFuture(e.response());
    } catch (RuntimeException e) {
      // Whatever else a check throws goes through the one failure mapping (logged, JSON-RPC body),
      // not to Pekko HTTP's bare 500.
      return CompletableFuture.completedFuture(support.failure(e));
    }
  }

  private CompletionStage<HttpResponse> post(HttpRequest req, String group, String keyName, String requestId) {
    long started = System.nanoTime();
    if (!HttpChecks.accepts(header(req, "Accept"), "application/json")
        || !HttpChecks.accepts(header(req, "Accept"), "text/event-stream")) {
      throw new EdgeSupport.Refused(Fault.CLIENT_NOT_ACCEPTABLE, null,
          "Not Acceptable: the client must accept both application/json and text/event-stream");
    }
    return support.readBody(req).thenCompose(body -> {
      JsonRpc.Message msg = EdgeSupport.parseSingle(body);
      if (msg instanceof JsonRpc.Request r && Methods.INITIALIZE.equals(r.method())) {
        return initialize(r, keyName).thenApply(resp -> {
          Metrics.mcpRequest(Methods.INITIALIZE, System.nanoTime() - started);
          return resp;
        });
      }
      String sessionId = header(req, SESSION_HEADER).orElseThrow(() -> new EdgeSupport.Refused(
          Fault.CLIENT_SESSION_REQUIRED, idOf(msg), "Bad Request: Mcp-Session-Id header is required"));
      checkProtocolVersion(req, msg);
      return support.validate(sessionId, keyName).thenCompose(info -> {
        if (!info.found()) {
          throw support.sessionNotFound(idOf(msg));
        }
        return onMessage(msg, sessionId, info, group, requestId, started, body.length);
      });
    });
  }

  private CompletionStage<HttpResponse> onMessage(JsonRpc.Message msg, String sessionId, SessionInfo info,
      String group, String requestId, long started, long bytesIn) {
    if (!(msg instanceof JsonRpc.Request r)) {
      return dispatcher.accept(msg, sessionId).thenApply(x -> EdgeResponses.accepted());
    }
    CompletableFuture<HttpResponse> response = new CompletableFuture<>();
    ReplyRouter.Pending exchange = router.openPost(r.id(), r.method(), started, response);
    dispatcher.dispatch(r, sessionId, info, group, exchange, requestId, bytesIn);
    return response;
  }

  private CompletionStage<HttpResponse> initialize(JsonRpc.Request r, String keyName) {
    String version;
    try {
      version = McpDispatcher.negotiate(r);
    } catch (JsonRpcException e) {
      // Answer with the request's id so the client can match the error to its initialize.
      return CompletableFuture.completedFuture(EdgeResponses.json(200, JsonRpc.error(r.id(), e)));
    }
    String sessionId = EdgeSupport.newSessionId();
    ObjectNode p = r.paramsObject();
    return support.askTwice(sessionId, reply -> new SessionEntity.Open(version,
            p.get("clientInfo"), p.get("capabilities"), keyName, reply))
        .thenApply(info -> EdgeResponses.json(200, JsonRpc.result(r.id(), McpDispatcher.initializeResult(version)))
            .addHeader(RawHeader.create(SESSION_HEADER, sessionId)));
  }

  private void checkProtocolVersion(HttpRequest req, JsonRpc.Message msg) {
    Optional<String> v = header(req, VERSION_HEADER);
    if (v.isPresent() && !ProtocolVersions.isSupported(v.get())) {
      throw new EdgeSupport.Refused(Fault.CLIENT_UNSUPPORTED_VERSION, idOf(msg),
          "Bad Request: unsupported MCP-Protocol-Version " + v.get() + "; supported: "
              + String.join(", ", ProtocolVersions.SUPPORTED));
    }
  }

  private CompletionStage<HttpResponse> getStream(HttpRequest req, String group, String keyName) {
    if (!HttpChecks.accepts(header(req, "Accept"), "text/event-stream")) {
      throw new EdgeSupport.Refused(Fault.CLIENT_NOT_ACCEPTABLE, null,
          "Not Acceptable: the client must accept text/event-stream");
    }
    String sessionId = requireSessionId(req);
    return support.validate(sessionId, keyName).thenApply(info -> {
      if (!info.found()) {
        throw support.sessionNotFound(null);
      }
      return EdgeResponses.sse(streams.open(sessionId, info, group, false));
    });
  }

  private CompletionStage<HttpResponse> delete(HttpRequest req, String keyName) {
    String sessionId = requireSessionId(req);
    // Only the key that opened a session may end it: check ownership before terminating.
    return support.validate(sessionId, keyName)
        .thenCompose(owned -> owned.found()
            ? support.sessionRef(sessionId).<SessionInfo>ask(SessionEntity.Terminate::new, support.settings.askTimeout())
            : CompletableFuture.completedFuture(SessionInfo.NOT_FOUND))
        .thenApply(info -> {
          if (!info.found()) {
            throw support.sessionNotFound(null);
          }
          return HttpResponse.create().withStatus(StatusCodes.OK);
        });
  }

  private static String requireSessionId(HttpRequest req) {
    return header(req, SESSION_HEADER).orElseThrow(() -> new EdgeSupport.Refused(Fault.CLIENT_SESSION_REQUIRED,
        null, "Bad Request: Mcp-Session-Id header is required"));
  }
}
