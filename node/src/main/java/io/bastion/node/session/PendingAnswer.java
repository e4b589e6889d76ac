package io.bastion.node.session;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.JsonFields;
import io.bastion.persistence.CborSerializable;

/**
 * The session entity's answer to {@link SessionEntity.ResolveClientResponse}: where a client's
 * answer to a server→client request goes; {@code server} is null when the id is unknown.
 */
public record PendingAnswer(String server, JsonNode upstreamId) implements CborSerializable {
  public PendingAnswer {
    upstreamId = JsonFields.absentAsNull(upstreamId);
  }

  public boolean found() {
    return server != null;
  }
}
