package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Cancellations that reached an upstream's entity before the request they cancel: the client's
 * {@code notifications/cancelled} goes straight to every upstream, while its request first passes
 * the session check and the key's limits, so under load the cancel can win. The entity remembers
 * such a cancel for a while ({@link #KEEP}, at most {@link #MAX}) and answers the request, when it
 * comes, as cancelled without sending it upstream. Used on the entity's thread: not thread-safe.
 */
final class EarlyCancels {
  static final Duration KEEP = Duration.ofSeconds(30);
  static final int MAX = 1024;

  private final Map<String, Long> cancelled = new LinkedHashMap<>();

  private static String key(String sessionId, JsonNode downstreamId) {
    return sessionId + '\u0000' + downstreamId;
  }

  /** A cancel that found no request in flight. */
  void remember(String sessionId, JsonNode downstreamId, long nowNanos) {
    expire(nowNanos);
    if (sessionId == null || downstreamId == null) {
      return;
    }
    cancelled.put(key(sessionId, downstreamId), nowNanos + KEEP.toNanos());
    if (cancelled.size() > MAX) {
      Iterator<String> oldest = cancelled.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
  }

  /** Whether the request {@code downstreamId} of {@code sessionId} was cancelled before it came (then forgotten). */
  boolean take(String sessionId, JsonNode downstreamId, long nowNanos) {
    if (cancelled.isEmpty() || sessionId == null || downstreamId == null) {
      return false;
    }
    Long until = cancelled.remove(key(sessionId, downstreamId));
    return until != null && nowNanos - until < 0;
  }

  private void expire(long nowNanos) {
    for (Iterator<Long> it = cancelled.values().iterator(); it.hasNext(); ) {
      if (nowNanos - it.next() < 0) {
        return; // in insertion order: the rest are younger
      }
      it.remove();
    }
  }

  int size() {
    return cancelled.size();
  }
}
