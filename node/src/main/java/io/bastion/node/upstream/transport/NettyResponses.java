package io.bastion.node.upstream.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** A Netty response head as Pekko HTTP's response model, for {@link NettyHttpClient}. */
final class NettyResponses {

  private NettyResponses() {}

  /** The status and headers of {@code head} with {@code entity}; the entity carries the content type and length. */
  static HttpResponse toPekko(io.netty.handler.codec.http.HttpResponse head, ResponseEntity entity) {
    List<HttpHeader> headers = new ArrayList<>(head.headers().size());
    for (var h : head.headers()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (!name.equals("content-type") && !name.equals("content-length") && !name.equals("transfer-encoding")) {
        headers.add(RawHeader.create(h.getKey(), h.getValue()));
      }
    }
    return HttpResponse.create().withStatus(head.status().code()).addHeaders(headers).withEntity(entity);
  }

  /** The content type {@code value} names; an unparsable one is read as bytes. */
  static ContentType contentType(String value) {
    try {
      return ContentTypes.parse(value);
    } catch (RuntimeException e) {
      return ContentTypes.APPLICATION_OCTET_STREAM;
    }
  }
}
