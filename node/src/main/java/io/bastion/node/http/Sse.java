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

  /** A frame with an event id, for resumption with {@code Last-Event-ID}. */
  static ByteString frame(String eventId, byte[] json) {
    return ByteString.fromString("id: " + eventId + "\n").concat(frame(json));
  }

  /**
   * The priming event (MCP 2025-11-25): an id and empty data, sent first, so a client whose
   * connection drops before the first message can still resume with {@code Last-Event-ID}.
   */
  static ByteString priming(String eventId) {
    return ByteString.fromString("id: " + eventId + "\ndata: \n\n");
  }

  static ByteString frame(RequestStream.Event e) {
    return frame(Json.writeBytes(e.json()));
  }

  static ByteString event(String name, String data) {
    return ByteString.fromString("event: " + name + "\ndata: " + data + "\n\n");
  }
}
