package io.bastion.node.http;

import io.bastion.node.call.AccessPolicy;
import io.bastion.node.call.RequestStream;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.session.StreamReplay;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;
import org.apache.pekko.util.ByteString;

/**
 * The long-lived client streams open on this node: the GET stream of a streamable-HTTP session and
 * the legacy HTTP+SSE stream. A stream is a TCP connection, so it is node-local by nature; its ref
 * is attached to the session entity, so any node can write to it. Also sends {@code
 * notifications/*_list_changed} to every open stream that can see a changed server, within the
 * directory's subscription interval of the change.
 */
public final class SessionStreams implements UpstreamDirectory.Listener {

  private record Open(SessionInfo session, String group, ActorRef<RequestStream.Event> stream) {}

  private final Map<String, Open> streams = new ConcurrentHashMap<>();
  private final AccessPolicy policy;
  private final ActorSystem<?> system;
  private final Duration keepAlive;

  public SessionStreams(ActorSystem<?> system, AccessPolicy policy, Duration keepAlive) {
    this.system = system;
    this.policy = policy;
    this.keepAlive = keepAlive;
  }

  public int openStreams() {
    return streams.size();
  }

  /**
   * Opens a stream for the session, attached to its entity and registered for list_changed;
   * {@code terminateOnClose} ends the session with the stream (legacy SSE: the stream is the session).
   */
  Source<ByteString, NotUsed> open(String sessionId, SessionInfo info, String group, boolean terminateOnClose) {
    Pair<ActorRef<RequestStream.Event>, Source<RequestStream.Event, NotUsed>> s =
        ActorSource.<RequestStream.Event>actorRef(e -> false, e -> Optional.empty(), 1024,
            OverflowStrategy.dropHead()).preMaterialize(system);
    ActorRef<RequestStream.Event> ref = s.first();
    EntityRef<SessionEntity.Command> session =
        ClusterSharding.get(system).entityRefFor(SessionEntity.ENTITY_TYPE_KEY, sessionId);
    session.tell(new SessionEntity.AttachStream(ref));
    streams.put(sessionId, new Open(info, group, ref));
    Source<ByteString, NotUsed> frames;
    if (terminateOnClose) {
      frames = s.second().map(Sse::frame); // legacy HTTP+SSE has no event ids or resumption
    } else {
      StreamRecorder recorder = new StreamRecorder(system, sessionId, StreamRecorder.GET_STREAM);
      frames = s.second().map(e -> recorder.frame(e.json(), false));
      if (StreamRecorder.primes(info.protocolVersion())) {
        frames = Source.single(recorder.priming()).concat(frames);
      }
    }
    return frames
        .keepAlive(keepAlive, () -> Sse.KEEP_ALIVE)
        .watchTermination((mat, done) -> {
          done.whenComplete((d, err) -> {
            streams.computeIfPresent(sessionId, (k, v) -> v.stream().equals(ref) ? null : v);
            session.tell(new SessionEntity.DetachStream(ref));
            if (terminateOnClose) {
              session.tell(new SessionEntity.Terminate(system.ignoreRef()));
            }
          });
          return mat;
        });
  }

  /**
   * A GET with {@code Last-Event-ID}: the events of the stream that id names which came after it,
   * from the session's {@link StreamReplay} (on whichever node), then: for a session's GET stream,
   * a new GET stream carrying on; for a POST's stream, its later events as they come, ending with
   * its answer. A GET stream's id that names nothing buffered (or a malformed id) just opens a
   * new GET stream; a POST stream's id is followed even before its first record arrives.
   */
  CompletionStage<Source<ByteString, NotUsed>> resume(String sessionId, SessionInfo info, String group,
      String lastEventId, Duration askTimeout) {
    int colon = lastEventId.lastIndexOf(':');
    long seq;
    try {
      seq = colon > 1 ? Long.parseLong(lastEventId.substring(colon + 1)) : -1;
    } catch (NumberFormatException e) {
      seq = -1;
    }
    if (seq < 0) {
      return CompletableFuture.completedFuture(open(sessionId, info, group, false));
    }
    String streamId = lastEventId.substring(0, colon);
    boolean follow = streamId.charAt(0) == StreamRecorder.POST_STREAM;
    Pair<ActorRef<StreamReplay.Replayed>, Source<StreamReplay.Replayed, NotUsed>> r =
        ActorSource.<StreamReplay.Replayed>actorRef(e -> false, e -> Optional.empty(), 1024,
            OverflowStrategy.dropHead()).preMaterialize(system);
    long after = seq;
    return ClusterSharding.get(system).entityRefFor(StreamReplay.ENTITY_TYPE_KEY, sessionId)
        .<Boolean>ask(reply -> new StreamReplay.Resume(streamId, after, follow, r.first(), reply), askTimeout)
        .whenComplete((known, err) -> {
          if (err != null || !known) {
            r.second().runWith(Sink.cancelled(), system); // stops the replay source's actor
          }
        })
        .thenApply(known -> {
          if (!known) {
            return open(sessionId, info, group, false);
          }
          Source<ByteString, NotUsed> replayed = r.second()
              .takeWhile(e -> !e.end(), true)
              .filter(e -> e.json() != null)
              .map(e -> Sse.frame(e.eventId(), Json.writeBytes(e.json())));
          return follow
              ? replayed.keepAlive(keepAlive, () -> Sse.KEEP_ALIVE)
              // The new GET stream is attached now: what arrives during the replay waits behind it.
              : replayed.concat(open(sessionId, info, group, false));
        });
  }

  @Override
  public void catalogChanged(Set<String> servers, Set<String> notifications, FederatedCatalog catalog) {
    for (Open o : streams.values()) {
      boolean affected = servers.stream().anyMatch(s -> policy.allowsServer(o.session(), o.group(), s));
      if (affected) {
        for (String method : notifications) {
          o.stream().tell(new RequestStream.Message(JsonRpc.notification(method, null)));
        }
      }
    }
  }
}
