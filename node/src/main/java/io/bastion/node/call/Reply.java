package io.bastion.node.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.persistence.CborSerializable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Where the answers to one client request go: a stream's ref, on any node, and the request's
 * correlation there. Serializable, so an upstream's owner on another node answers the same way.
 *
 * <p>When the target is registered on this JVM as a {@linkplain #registerLocal local receiver}
 * (the edge's reply router), events are handed to it on the calling thread instead of through a
 * mailbox: an upstream entity answering a request that entered its own node completes the HTTP
 * response without a thread hand-off.
 */
public record Reply(ActorRef<RequestStream.Event> to, long correlation) implements CborSerializable {

  private static final Map<ActorRef<?>, Consumer<RequestStream.Event>> LOCAL = new ConcurrentHashMap<>();

  /** A reply to a stream that serves many requests (a GET or legacy SSE stream). */
  public static Reply toStream(ActorRef<RequestStream.Event> stream) {
    return new Reply(stream, 0);
  }

  /** A notification, progress or server→client request on the way to the final answer. */
  public void message(ObjectNode json) {
    tell(new RequestStream.Message(correlation, json));
  }

  /** The final answer as the upstream gave it (an upstream JSON-RPC error is {@link Fault#UPSTREAM_ERROR}). */
  public void answer(ObjectNode json) {
    tell(new RequestStream.Final(correlation, json, json.has("error") ? Fault.UPSTREAM_ERROR : null));
  }

  /** A final answer that Bastion itself produced (a result, not a failure). */
  public void result(ObjectNode json) {
    tell(new RequestStream.Final(correlation, json, null));
  }

  /** Fails request {@code id} of {@code method} with {@code fault}. */
  public void fail(Fault fault, JsonNode id, String method, String message) {
    fail(fault, id, method, message, null);
  }

  public void fail(Fault fault, JsonNode id, String method, String message, JsonNode data) {
    tell(new RequestStream.Final(correlation, fault.answer(id, method, message, data), fault));
  }

  public void tell(RequestStream.Event event) {
    Consumer<RequestStream.Event> local = LOCAL.get(to);
    if (local != null) {
      local.accept(event);
    } else {
      to.tell(event);
    }
  }

  /**
   * Events sent to {@code ref} from this JVM go to {@code receiver} directly, on the sender's
   * thread. The receiver must be quick and thread-safe; it is what the actor behind {@code ref}
   * would do with the event. Remote senders still reach the actor.
   */
  public static void registerLocal(ActorRef<RequestStream.Event> ref, Consumer<RequestStream.Event> receiver) {
    LOCAL.put(ref, receiver);
  }

  public static void unregisterLocal(ActorRef<RequestStream.Event> ref) {
    LOCAL.remove(ref);
  }
}
