package io.bastion.node.http;

import static io.bastion.node.http.EdgeSupport.REQUEST_ID_HEADER;
import static io.bastion.node.http.EdgeSupport.SESSION_HEADER;
import static io.bastion.node.http.EdgeSupport.VERSION_HEADER;
import static io.bastion.node.http.EdgeSupport.header;
import static io.bastion.node.http.EdgeSupport.idOf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.Caller;
import io.bastion.node.call.Fault;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.session.StreamReplay;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.JsonRpcException;
import io.bastion.protocol.Methods;
import io.bastion.protocol.ProtocolVersions;
import java.util.ArrayList;
import java.util.List;
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
 * JSON-RPC batches are answered for 2025-03-26 (and 2024-11-05) sessions only ({@link #batch}); an
 * {@code initialize} inside a live session is refused ({@link #alreadyInitialized}).
 */
public final class StreamableHttpEndpoint {

  /** The most messages one batch may hold (the TypeScript SDK's server has the same limit). */
  static final int MAX_BATCH = 100;

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
      Caller key = support.admit(req, group);
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

  private CompletionStage<HttpResponse> post(HttpRequest req, String group, Caller caller, String requestId) {
    long started = System.nanoTime();
    if (!HttpChecks.accepts(header(req, "Accept"), "application/json")
        || !HttpChecks.accepts(header(req, "Accept"), "text/event-stream")) {
      throw new EdgeSupport.Refused(Fault.CLIENT_NOT_ACCEPTABLE, null,
          "Not Acceptable: the client must accept both application/json and text/event-stream");
    }
    return support.readBody(req).thenCompose(body -> {
      JsonNode tree = EdgeSupport.parse(body);
      if (tree.isArray()) {
        return batch(req, (ArrayNode) tree, group, caller, requestId, started);
      }
      JsonRpc.Message msg = EdgeSupport.classify(tree);
      if (msg instanceof JsonRpc.Request r && Methods.INITIALIZE.equals(r.method())) {
        Optional<String> existing = header(req, SESSION_HEADER);
        CompletionStage<HttpResponse> answer = existing.isEmpty() ? initialize(r, caller)
            : support.validate(existing.get(), caller).thenCompose(info -> {
              if (info.found()) {
                throw alreadyInitialized(r.id());
              }
              // A stale id (an ended session) alongside a new initialize: the client starts over.
              return initialize(r, caller);
            });
        return answer.thenApply(resp -> {
          Metrics.mcpRequest(Methods.INITIALIZE, System.nanoTime() - started);
          return resp;
        });
      }
      String sessionId = header(req, SESSION_HEADER).orElseThrow(() -> new EdgeSupport.Refused(
          Fault.CLIENT_SESSION_REQUIRED, idOf(msg), "Bad Request: Mcp-Session-Id header is required"));
      checkProtocolVersion(req, msg);
      return support.validate(sessionId, caller).thenCompose(info -> {
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
      return dispatcher.accept(msg, sessionId, info).thenApply(x -> EdgeResponses.accepted());
    }
    CompletableFuture<HttpResponse> response = new CompletableFuture<>();
    ReplyRouter.Pending exchange = router.openPost(r.id(), r.method(), started, response, sessionId,
        StreamRecorder.primes(info.protocolVersion()));
    dispatcher.dispatch(r, sessionId, info, group, exchange, requestId, bytesIn);
    return response;
  }

  /**
   * An {@code initialize} inside a live session is refused as the TypeScript SDK's server refuses
   * it: 400 with -32600 (Invalid Request). The session is left as it was: a client that wants to
   * start over sends {@code initialize} without {@code Mcp-Session-Id} (or DELETEs the session).
   */
  static EdgeSupport.Refused alreadyInitialized(JsonNode id) {
    return new EdgeSupport.Refused(Fault.CLIENT_INVALID_REQUEST, id,
        "Invalid Request: session already initialized; to start a new session, send initialize"
            + " without Mcp-Session-Id");
  }

  /**
   * A JSON-RPC batch: only in a session that negotiated a revision that has batches (2025-03-26,
   * 2024-11-05; {@link ProtocolVersions#allowsBatches}); later ones get 400 with -32600. Members
   * that are not valid JSON-RPC, and an {@code initialize} (which 2025-03-26 says MUST NOT be
   * batched), get an error answer each; notifications and responses are accepted as when sent
   * alone; requests are dispatched at once, in parallel, and answered together ({@link
   * BatchReply}). A batch of only notifications and responses is answered 202 with no body.
   */
  private CompletionStage<HttpResponse> batch(HttpRequest req, ArrayNode batch, String group, Caller caller,
      String requestId, long started) {
    if (batch.isEmpty() || batch.size() > MAX_BATCH) {
      throw new EdgeSupport.Refused(Fault.CLIENT_INVALID_REQUEST, null, batch.isEmpty()
          ? "Invalid Request: empty batch" : "Invalid Request: a batch holds at most " + MAX_BATCH + " messages");
    }
    String sessionId = header(req, SESSION_HEADER).orElseThrow(() -> new EdgeSupport.Refused(
        Fault.CLIENT_SESSION_REQUIRED, null,
        "Bad Request: Mcp-Session-Id header is required (initialize must be sent alone, not in a batch)"));
    checkProtocolVersion(req, null);
    return support.validate(sessionId, caller).thenCompose(info -> {
      if (!info.found()) {
        throw support.sessionNotFound(null);
      }
      if (!ProtocolVersions.allowsBatches(info.protocolVersion())) {
        throw new EdgeSupport.Refused(Fault.CLIENT_INVALID_REQUEST, null,
            "Invalid Request: JSON-RPC batches are not supported in protocol version " + info.protocolVersion()
                + " (MCP removed them in 2025-06-18); send one message per POST");
      }
      List<ObjectNode> immediate = new ArrayList<>();
      List<JsonRpc.Request> requests = new ArrayList<>();
      List<CompletableFuture<Void>> accepted = new ArrayList<>();
      for (JsonNode member : batch) {
        try {
          JsonRpc.Message m = JsonRpc.classify(member);
          if (m instanceof JsonRpc.Request r && Methods.INITIALIZE.equals(r.method())) {
            immediate.add(JsonRpc.error(r.id(), ErrorCodes.INVALID_REQUEST,
                "Invalid Request: initialize must not be part of a JSON-RPC batch", null));
          } else if (m instanceof JsonRpc.Request r) {
            requests.add(r);
          } else {
            accepted.add(dispatcher.accept(m, sessionId, info).toCompletableFuture());
          }
        } catch (JsonRpcException e) {
          immediate.add(JsonRpc.error(e.id(), e));
        }
      }
      if (requests.isEmpty()) {
        return CompletableFuture.allOf(accepted.toArray(CompletableFuture[]::new)).thenApply(x -> immediate.isEmpty()
            ? EdgeResponses.accepted()
            : EdgeResponses.json(200, Json.MAPPER.createArrayNode().addAll(immediate)));
      }
      CompletableFuture<HttpResponse> response = new CompletableFuture<>();
      BatchReply answers = new BatchReply(support.system, support.settings.sseKeepalive(), response,
          requests.size(), immediate);
      List<ReplyRouter.Pending> exchanges = new ArrayList<>();
      for (JsonRpc.Request r : requests) {
        ReplyRouter.Pending p = router.openBatchMember(r.id(), r.method(), started, answers);
        answers.add(p);
        exchanges.add(p);
      }
      for (int i = 0; i < requests.size(); i++) {
        JsonRpc.Request r = requests.get(i);
        dispatcher.dispatch(r, sessionId, info, group, exchanges.get(i), requestId, Json.writeBytes(r.raw()).length);
      }
      return response;
    });
  }

  private CompletionStage<HttpResponse> initialize(JsonRpc.Request r, Caller caller) {
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
            p.get("clientInfo"), p.get("capabilities"), caller.keyName(), reply, caller.subject()))
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

  private CompletionStage<HttpResponse> getStream(HttpRequest req, String group, Caller caller) {
    if (!HttpChecks.accepts(header(req, "Accept"), "text/event-stream")) {
      throw new EdgeSupport.Refused(Fault.CLIENT_NOT_ACCEPTABLE, null,
          "Not Acceptable: the client must accept text/event-stream");
    }
    String sessionId = requireSessionId(req);
    Optional<String> lastEventId = header(req, "Last-Event-ID").filter(v -> !v.isBlank());
    return support.validate(sessionId, caller).thenCompose(info -> {
      if (!info.found()) {
        throw support.sessionNotFound(null);
      }
      return lastEventId.isEmpty()
          ? CompletableFuture.completedFuture(EdgeResponses.sse(streams.open(sessionId, info, group, false)))
          : streams.resume(sessionId, info, group, lastEventId.get().trim(), support.settings.askTimeout())
              .thenApply(EdgeResponses::sse);
    });
  }

  private CompletionStage<HttpResponse> delete(HttpRequest req, Caller caller) {
    String sessionId = requireSessionId(req);
    // Only the key that opened a session may end it: check ownership before terminating.
    return support.validate(sessionId, caller)
        .thenCompose(owned -> owned.found()
            ? support.sessionRef(sessionId).<SessionInfo>ask(SessionEntity.Terminate::new, support.settings.askTimeout())
            : CompletableFuture.completedFuture(SessionInfo.NOT_FOUND))
        .thenApply(info -> {
          if (!info.found()) {
            throw support.sessionNotFound(null);
          }
          support.replayRef(sessionId).tell(StreamReplay.Forget.INSTANCE);
          return HttpResponse.create().withStatus(StatusCodes.OK);
        });
  }

  private static String requireSessionId(HttpRequest req) {
    return header(req, SESSION_HEADER).orElseThrow(() -> new EdgeSupport.Refused(Fault.CLIENT_SESSION_REQUIRED,
        null, "Bad Request: Mcp-Session-Id header is required"));
  }
}
