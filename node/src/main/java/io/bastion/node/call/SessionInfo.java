package io.bastion.node.call;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.JsonFields;
import io.bastion.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a node knows of one client session: whether it is open, the negotiated protocol version,
 * the virtual key that opened it, the client's info and capabilities, and where its GET (or legacy
 * SSE) stream lives. The session entity's answer to Validate, Open and Terminate, and what the
 * ports (access policy, tool-call gate) see of a session.
 */
public record SessionInfo(boolean found, String protocolVersion, String keyName, JsonNode clientInfo,
    JsonNode capabilities, ActorRef<RequestStream.Event> stream, String subject) implements CborSerializable {
  public SessionInfo {
    clientInfo = JsonFields.absentAsNull(clientInfo);
    capabilities = JsonFields.absentAsNull(capabilities);
  }

  /** A session opened with a virtual key (no OAuth subject). */
  public SessionInfo(boolean found, String protocolVersion, String keyName, JsonNode clientInfo,
      JsonNode capabilities, ActorRef<RequestStream.Event> stream) {
    this(found, protocolVersion, keyName, clientInfo, capabilities, stream, null);
  }

  public static final SessionInfo NOT_FOUND = new SessionInfo(false, null, null, null, null, null, null);

  public SessionInfo withStream(ActorRef<RequestStream.Event> s) {
    return new SessionInfo(found, protocolVersion, keyName, clientInfo, capabilities, s, subject);
  }

  public boolean clientSupports(String capability) {
    return capabilities != null && capabilities.has(capability);
  }
}
