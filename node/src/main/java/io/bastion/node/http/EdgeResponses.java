package io.bastion.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.call.Fault;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The HTTP responses of the MCP endpoints. A refusal is built from its {@link Fault}, which gives
 * the status and the JSON-RPC code: no status or code is chosen anywhere else on the edge.
 */
final class EdgeResponses {
  private static final ContentType SSE = ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM);

  private EdgeResponses() {}

  static HttpResponse json(int status, byte[] body) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
  }

  static HttpResponse json(int status, JsonNode body) {
    return json(status, Json.writeBytes(body));
  }

  /** The request refused with {@code fault}: its HTTP status, and a JSON-RPC error with its code. */
  static HttpResponse refuse(Fault fault, JsonNode id, String message) {
    return refuse(fault, id, message, null);
  }

  /** As {@link #refuse(Fault, JsonNode, String)}, with this {@code WWW-Authenticate} value when not null. */
  static HttpResponse refuse(Fault fault, JsonNode id, String message, String challenge) {
    HttpResponse r = json(fault.httpStatus(), JsonRpc.error(id, fault.code(), message, null));
    if (challenge != null) {
      return r.addHeader(RawHeader.create("WWW-Authenticate", challenge));
    }
    return fault == Fault.CLIENT_UNAUTHENTICATED
        ? r.addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"bastion\", error=\"invalid_token\""))
        : r;
  }

  static HttpResponse accepted() {
    return HttpResponse.create().withStatus(StatusCodes.ACCEPTED);
  }

  static HttpResponse sse(Source<ByteString, NotUsed> bytes) {
    return HttpResponse.create().withStatus(StatusCodes.OK)
        .addHeader(RawHeader.create("Cache-Control", "no-cache"))
        .addHeader(RawHeader.create("X-Accel-Buffering", "no"))
        .withEntity(HttpEntities.createChunked(SSE, bytes));
  }
}
