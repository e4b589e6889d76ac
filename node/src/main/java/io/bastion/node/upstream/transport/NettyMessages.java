package io.bastion.node.upstream.transport;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** Pekko HTTP's request model as a Netty request, and a Netty response head as Pekko's model, for {@link NettyHttpClient}. */
final class NettyMessages {
  private static final ContentType EVENT_STREAM = MediaTypes.TEXT_EVENT_STREAM.toContentType();

  private NettyMessages() {}

  /** {@code request} (its entity must be strict) with {@code hostHeader} as its Host. */
  static DefaultFullHttpRequest toNetty(HttpRequest request, String hostHeader) {
    String relative = request.getUri().toRelative().toString();
    String target = relative.isEmpty() ? "/" : relative;
    byte[] body = new byte[0];
    String contentType = null;
    if (request.entity() instanceof HttpEntity.Strict strict) {
      body = strict.getData().toArrayUnsafe();
      contentType = body.length == 0 ? null : strict.getContentType().toString();
    } else if (!request.entity().isKnownEmpty()) {
      throw new IllegalArgumentException("only strict request entities are sent through Netty");
    }
    DefaultFullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
        HttpMethod.valueOf(request.method().value()), target, Unpooled.wrappedBuffer(body));
    out.headers().set(HttpHeaderNames.HOST, hostHeader);
    if (contentType != null) {
      out.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    if (body.length > 0 || !"GET".equals(request.method().value())) {
      out.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
    }
    for (HttpHeader h : request.getHeaders()) {
      out.headers().add(h.name(), h.value());
    }
    return out;
  }

  /** The status and headers of {@code head} with {@code entity}; the entity carries the content type and length. */
  static HttpResponse toPekko(io.netty.handler.codec.http.HttpResponse head, ResponseEntity entity) {
    List<HttpHeader> headers = new ArrayList<>(head.headers().size());
    for (var h : head.headers()) {
      String name = h.getKey();
      if (!name.equalsIgnoreCase("content-type") && !name.equalsIgnoreCase("content-length")
          && !name.equalsIgnoreCase("transfer-encoding")) {
        headers.add(RawHeader.create(name, h.getValue()));
      }
    }
    return HttpResponse.create().withStatus(head.status().code()).addHeaders(headers).withEntity(entity);
  }

  /** The content type {@code value} names (the two MCP answers without parsing); an unparsable one is read as bytes. */
  static ContentType contentType(String value) {
    if ("application/json".equals(value)) {
      return ContentTypes.APPLICATION_JSON;
    }
    if ("text/event-stream".equals(value)) {
      return EVENT_STREAM;
    }
    try {
      return ContentTypes.parse(value);
    } catch (RuntimeException e) {
      return ContentTypes.APPLICATION_OCTET_STREAM;
    }
  }
}
