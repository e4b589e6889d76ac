package io.bastion.node.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What an upstream's owner tells client sessions, wherever they live. Implemented by the session
 * package over sharding; the upstream package depends on this port, not on the session entity, so
 * the two packages do not depend on each other.
 */
public interface SessionPort {

  /** {@code server} now holds a resource subscription of the session; the session reports its end. */
  void subscribed(String sessionId, String server);

  /** {@code notifications/resources/updated} from {@code server} for a URI the session subscribed to. */
  void resourceUpdated(String sessionId, String server, ObjectNode notification);

  /**
   * {@code server} asks the session's client something (sampling, elicitation, roots) while
   * serving the request answered through {@code related}.
   */
  void serverRequest(String sessionId, String server, JsonNode upstreamId, String method, JsonNode params,
      Reply related);
}
