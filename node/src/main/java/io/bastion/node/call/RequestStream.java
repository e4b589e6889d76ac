package io.bastion.node.call;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.persistence.CborSerializable;

/**
 * What flows back to a client on one stream: the answer to a POST, the GET stream of a session,
 * or a legacy HTTP+SSE stream. Events are sent to a {@link Reply}, whose ref any node (the
 * upstream's owner, the session's owner) can address.
 *
 * <p>{@code correlation} names the request on the node that holds its HTTP exchange (the edge's
 * reply router); streams that carry many requests ignore it (0).
 */
public final class RequestStream {
  private RequestStream() {}

  /**
   * A {@link Message}, a {@link Final}, or (from the upstream package, which this one cannot name)
   * a call that never reached its upstream and is to be sent again: receivers that hold requests
   * handle it, the others ignore it ({@code json()} is null).
   */
  public interface Event extends CborSerializable {
    long correlation();

    ObjectNode json();
  }

  /** A notification or server→client request to put on the stream; the stream stays open. */
  public record Message(long correlation, ObjectNode json) implements Event {
    public Message(ObjectNode json) {
      this(0, json);
    }
  }

  /**
   * The final answer to the stream's request: a POST's answer ends after it, other streams carry
   * on. {@code fault} says why it is a failure ({@code null}: the upstream's own answer, result or
   * tool error), so that the audit and metrics never parse it back out of the JSON.
   */
  public record Final(long correlation, ObjectNode json, Fault fault) implements Event {
    public Final(ObjectNode json) {
      this(0, json, null);
    }
  }
}
