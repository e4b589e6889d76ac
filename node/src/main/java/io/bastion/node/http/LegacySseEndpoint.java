package io.bastion.node.http;

import static io.bastion.node.http.EdgeSupport.REQUEST_ID_HEADER;

import io.bastion.node.call.Caller;
import io.bastion.node.call.Fault;
import io.bastion.node.call.RequestStream;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.session.SessionEntity;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.JsonRpcException;
import io.bastion.protocol.Methods;
import io.bastion.protocol.ProtocolVersions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05): {@code GET /sse} opens a session and its
 * stream, whose first event names the POST endpoint; {@code POST /messages?sessionId=…} gets 202,
 * and every answer goes to the session's stream, wherever that stream is held.
 */
public final class LegacySseEndpoint {

  private final EdgeSupport support;
  private final McpDispatcher dispatcher;
  private final ReplyRouter router;
  private final SessionStreams streams;

  LegacySseEndpoint(EdgeSupport support, McpDispatcher dispatcher, ReplyRouter router, SessionStreams streams) {
    this.support = support;
    this.dispatcher = dispatcher;
    this.router = router;
    this.streams = streams;
  }

  /** {@code GET /sse}: opens a session and its stream; the first event names the POST endpoint. */
  public CompletionStage<HttpResponse> openStream(HttpRequest req, String group) {
    try {
      Caller key = support.admit(req, group);
      String sessionId = EdgeSupport.newSessionId();
      return support.sessionRef(sessionId).<SessionInfo>ask(reply -> new SessionEntity.Open(
              ProtocolVersions.V2024_11_05, null, null, key.keyName(), reply, key.subject()), support.settings.askTimeout())
          .thenApply(info -> {
            String endpoint = "/messages?sessionId=" + sessionId + (group == null ? "" : "&group=" + group);
            return EdgeResponses.sse(Source.single(Sse.event("endpoint", endpoint))
                .concat(streams.open(sessionId, info, group, true)));
          }).exceptionally(support::failure);
    } catch (EdgeSupport.Refused e) {
      return CompletableFuture.completedFuture(e.response());
    }
  }

  /** {@code POST /messages?sessionId=…}: every answer goes to the session's SSE stream; the POST gets 202. */
  public CompletionStage<HttpResponse> post(HttpRequest req) {
    try {
      String sessionId = req.getUri().query().get("sessionId").orElseThrow(() -> new EdgeSupport.Refused(
          Fault.CLIENT_SESSION_REQUIRED, null, "Bad Request: sessionId query parameter is required"));
      String group = req.getUri().query().get("group").orElse(null);
      Caller caller = support.admit(req, group);
      String requestId = RequestIds.of(req);
      long started = System.nanoTime();
      return support.readBody(req).thenCompose(body -> {
        JsonRpc.Message msg = EdgeSupport.parseSingle(body);
        return support.validate(sessionId, caller).thenCompose(info -> {
          if (!info.found() || info.stream() == null) {
            throw support.sessionNotFound(EdgeSupport.idOf(msg));
          }
          return onMessage(msg, sessionId, info, group, requestId, started, body.length);
        });
      }).exceptionally(support::failure)
          .thenApply(r -> r.addHeader(RawHeader.create(REQUEST_ID_HEADER, requestId)));
    } catch (EdgeSupport.Refused e) {
      return CompletableFuture.completedFuture(e.response());
    }
  }

  private CompletionStage<HttpResponse> onMessage(JsonRpc.Message msg, String sessionId, SessionInfo info,
      String group, String requestId, long started, long bytesIn) {
    if (!(msg instanceof JsonRpc.Request r)) {
      return dispatcher.accept(msg, sessionId, info).thenApply(x -> EdgeResponses.accepted());
    }
    ActorRef<RequestStream.Event> stream = info.stream();
    if (Methods.INITIALIZE.equals(r.method())) {
      // Legacy clients read answers only from their SSE stream, with the request's id.
      if (info.clientInfo() != null || info.capabilities() != null) {
        // Already initialized (an initialize carries both): refused as on /mcp, the session unchanged.
        stream.tell(new RequestStream.Final(JsonRpc.error(r.id(), ErrorCodes.INVALID_REQUEST,
            "Invalid Request: session already initialized", null)));
        return CompletableFuture.completedFuture(EdgeResponses.accepted());
      }
      try {
        String version = McpDispatcher.negotiate(r);
        support.sessionRef(sessionId).tell(new SessionEntity.Initialized(version,
            r.paramsObject().get("clientInfo"), r.paramsObject().get("capabilities")));
        stream.tell(new RequestStream.Final(JsonRpc.result(r.id(), McpDispatcher.initializeResult(version))));
      } catch (JsonRpcException e) {
        stream.tell(new RequestStream.Final(JsonRpc.error(r.id(), e)));
      }
    } else {
      dispatcher.dispatch(r, sessionId, info, group, router.openLegacy(r.id(), r.method(), started, stream),
          requestId, bytesIn);
    }
    return CompletableFuture.completedFuture(EdgeResponses.accepted());
  }
}
