package io.bastion.node.http;

import io.bastion.node.call.RequestStream;
import io.bastion.protocol.Json;
import org.apache.pekko.util.ByteString;

/**
 * SSE frames, written by hand: a JSON-RPC message is one compact JSON line, so a frame is {@code
 * event: message\ndata: <json>\n\n}. A marshaller would add an indirection for that one shape.
 */
final class Sse {
  private static final ByteString PREFIX = ByteString.fromString("event: message\ndata: ");
  private static final ByteString SUFFIX = ByteString.fromString("\n\n");
  static final ByteString KEEP_ALIVE = ByteString.fromString(": keep-alive\n\n");

  private Sse() {}

  static ByteString frame(byte[] json) {
    return PREFIX.concat(ByteString.fromArrayUnsafe(json)).concat(SUFFIX);
  }

  static ByteString frame(RequestStream.Event e) {
    return frame(Json.writeBytes(e.json()));
  }

  static ByteString event(String name, String data) {
    return ByteString.fromString("event: " + name + "\ndata: " + data + "\n\n");
  }
}
