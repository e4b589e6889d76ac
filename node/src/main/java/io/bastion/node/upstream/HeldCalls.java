package io.bastion.node.upstream;

import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.upstream.UpstreamServer.Forward;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The client calls of an OAuth upstream that met a 401 with a token Bastion believed valid, held
 * while the token is refreshed, then sent again once ({@link UpstreamAuth#retryAfterRefresh}).
 * Each call is retried at most once: a call already retried that meets a 401 again fails. Used
 * only on the entity's thread.
 */
final class HeldCalls {

  /** How many retried calls are remembered (a call is only ever retried once; older ones are long answered). */
  private static final int REMEMBERED = 1024;

  private final List<Forward> held = new ArrayList<>();
  private final Map<Reply, Boolean> retried = new LinkedHashMap<>(64, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Reply, Boolean> eldest) {
      return size() > REMEMBERED;
    }
  };

  /** True the first time a call meets a 401; false after its retry (it then fails like any other). */
  boolean mayRetry(Reply reply) {
    return !retried.containsKey(reply);
  }

  void hold(Forward f) {
    retried.put(f.replyTo(), Boolean.TRUE);
    held.add(f);
  }

  int size() {
    return held.size();
  }

  /** A new token is in use: each held call is sent again through {@code send}. */
  void release(Consumer<Forward> send) {
    List<Forward> out = new ArrayList<>(held);
    held.clear();
    out.forEach(send);
  }

  /** The token could not be renewed: every held call fails with {@code reason}. */
  void fail(String reason) {
    for (Forward f : held) {
      f.replyTo().fail(Fault.UPSTREAM_UNAVAILABLE, f.downstreamId(), f.method(), reason);
    }
    held.clear();
  }

  /** The error of a call whose token could not be renewed because the server needs authorization. */
  static String needsAuthorization(String server, String why) {
    return "upstream " + server + " refused its OAuth token and Bastion could not renew it (" + why
        + "); it needs authorization by an operator: see /api/v1/servers";
  }

  /** The error of a call whose token could not be renewed because the refresh failed transiently. */
  static String refreshFailed(String server, String why) {
    return "upstream " + server + " refused its OAuth token and the refresh failed (" + why
        + "); Bastion keeps retrying the refresh, try again shortly";
  }
}
