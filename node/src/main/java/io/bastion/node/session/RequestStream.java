package io.bastion.node.session;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.persistence.CborSerializable;

/**
 * What flows back to a client on one stream: the SSE body of a POST, the GET stream of a session,
 * or a legacy HTTP+SSE stream. Messages are sent to an {@code ActorRef<RequestStream.Event>} that
 * the edge node materialized for the client's connection, so any node (the upstream's owner, the
 * session's owner) can write to it directly.
 */
public final class RequestStream {
  private RequestStream() {}

  public sealed interface Event extends CborSerializable permits Message, Final {}

  /** A notification or server→client request to put on the stream; the stream stays open. */
  public record Message(ObjectNode json) implements Event {}

  /** The response to the stream's request; a POST stream ends after it, other streams carry on. */
  public record Final(ObjectNode json) implements Event {}
}
