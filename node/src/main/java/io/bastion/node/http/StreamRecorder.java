package io.bastion.node.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.session.StreamReplay;
import io.bastion.protocol.Json;
import io.bastion.protocol.ProtocolVersions;
import java.security.SecureRandom;
import java.util.Base64;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.util.ByteString;

/**
 * One resumable SSE stream written on this node (a session's GET stream, or the SSE answer of a
 * POST): numbers its events, gives each frame its event id, and records each event with the
 * session's {@link StreamReplay}, so the client can resume the stream on any node. Not
 * thread-safe: a stream's events are written one at a time (one stream stage, or under the
 * request's lock).
 */
final class StreamRecorder {
  /** Stream ids of a session's GET streams start with this; they are replayed, not followed. */
  static final char GET_STREAM = 'g';
  /** Stream ids of POST answers start with this: a resumption follows them until the answer. */
  static final char POST_STREAM = 'p';
  private static final SecureRandom RANDOM = new SecureRandom();

  private final EntityRef<StreamReplay.Command> replay;
  private final String streamId;
  private long seq;

  StreamRecorder(ActorSystem<?> system, String sessionId, char kind) {
    this.replay = ClusterSharding.get(system).entityRefFor(StreamReplay.ENTITY_TYPE_KEY, sessionId);
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    this.streamId = kind + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** Whether a session of {@code version} gets a priming event first on each SSE stream (2025-11-25). */
  static boolean primes(String version) {
    return ProtocolVersions.V2025_11_25.equals(version);
  }

  /**
   * The priming event: event 0 of this stream, no data. Recorded too (with no message), so that a
   * stream cut before its first message is known to a resumption with this id.
   */
  ByteString priming() {
    replay.tell(new StreamReplay.Record(streamId, 0, null, false));
    return Sse.priming(StreamReplay.eventId(streamId, 0));
  }

  /** Numbers and records {@code json} ({@code last}: the stream's final event); returns its frame. */
  ByteString frame(ObjectNode json, boolean last) {
    long n = ++seq;
    replay.tell(new StreamReplay.Record(streamId, n, json, last));
    return Sse.frame(StreamReplay.eventId(streamId, n), Json.writeBytes(json));
  }
}
