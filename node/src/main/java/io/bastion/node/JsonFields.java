package io.bastion.node;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Records that cross nodes go through Jackson CBOR, and Jackson reads a {@code null}
 * {@link JsonNode} field back as a {@code NullNode}. The records normalize that in their
 * constructors, so "absent" means {@code null} on every node (otherwise, for example, a
 * param-less server→client request relayed by another node would reach the client with
 * {@code "params": null}, which is not valid JSON-RPC).
 */
public final class JsonFields {
  private JsonFields() {}

  /** {@code null} for null, JSON null or a missing node; the node itself otherwise. */
  public static <T extends JsonNode> T absentAsNull(T node) {
    return node == null || node.isNull() || node.isMissingNode() ? null : node;
  }
}
