package io.bastion.node.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One client request waiting for its answer on the node it entered: what the dispatcher and the
 * tool-call gate see of the edge. Everything that answers the request — the dispatcher, the gate, an
 * upstream's owner on any node — goes through {@link #reply()}.
 */
public interface Exchange {

  /** The client's JSON-RPC id. */
  JsonNode id();

  String method();

  /** The address answers go to (serializable; reaches this node from anywhere in the cluster). */
  Reply reply();

  /**
   * Told once, after the answer has been handed to the client, how the request ended. Set before
   * the request is forwarded; a second call replaces the first.
   */
  void onCompletion(Completion completion);

  /** How a request ended. */
  interface Completion {
    /**
     * @param answer the final answer sent, or null when none was (the client went away)
     * @param fault why it failed, or null for the upstream's own answer
     * @param bytesOut the size of the answer as sent (0 when none was)
     */
    void done(ObjectNode answer, Fault fault, long bytesOut);
  }
}
