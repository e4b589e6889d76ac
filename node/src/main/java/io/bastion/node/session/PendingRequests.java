package io.bastion.node.session;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.call.Reply;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The server→client requests (sampling, elicitation, roots) of one session that wait for the
 * client's answer: which upstream asked, under which upstream id, and where the request went. The
 * session mints the downstream id ({@code bastion-s2c-N}), so the client's answer can be POSTed to
 * any node and still find its way back. Bounded: a misbehaving upstream must not grow a session
 * without limit. Not thread-safe: owned by the session entity.
 */
final class PendingRequests {

  /** One request waiting for the client. */
  record Pending(String server, JsonNode upstreamId, String method, Reply target) {}

  private final Map<String, Pending> byId = new LinkedHashMap<>();
  private final int max;
  private long next = 1;

  PendingRequests(int max) {
    this.max = max;
  }

  boolean full() {
    return byId.size() >= max;
  }

  /** Records a request and returns the downstream id it is sent under. */
  String add(String server, JsonNode upstreamId, String method, Reply target) {
    String downstreamId = "bastion-s2c-" + (next++);
    byId.put(downstreamId, new Pending(server, upstreamId, method, target));
    return downstreamId;
  }

  /** The request the client's answer with {@code downstreamId} belongs to, removed; null if none. */
  Pending take(JsonNode downstreamId) {
    return downstreamId != null && downstreamId.isTextual() ? byId.remove(downstreamId.asText()) : null;
  }

  Pending take(String downstreamId) {
    return byId.remove(downstreamId);
  }

  /** Removes and returns every waiting request, by downstream id, oldest first. */
  List<Map.Entry<String, Pending>> drain() {
    List<Map.Entry<String, Pending>> all = new ArrayList<>(byId.entrySet());
    byId.clear();
    return all;
  }

  int size() {
    return byId.size();
  }
}
