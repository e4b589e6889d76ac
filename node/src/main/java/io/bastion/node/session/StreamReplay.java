package io.bastion.node.session;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.persistence.CborSerializable;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The replay buffers of one session's SSE streams, sharded by session id (so any node reaches
 * them), for resumption with {@code Last-Event-ID} (MCP 2025-03-26 and later, "Resumability and
 * Redelivery"). The node writing a stream to its client records every event here as it writes it
 * ({@link Record}); a client that reconnects with {@code GET} and the last event id it saw, on any
 * node, gets the events of that stream that came after it ({@link Resume}), and, for the stream of
 * a request still running, every later event until its answer.
 *
 * <p>An event id is {@code <stream id>:<sequence>}: unique within the session, and it names its
 * stream, so a resumption replays that stream only (the spec forbids replaying another stream's
 * messages). Bounded: the last {@link #MAX_EVENTS} events of each stream, the {@link #MAX_STREAMS}
 * most recent streams of a session; older ones are forgotten, oldest first. Not persisted and kept
 * apart from {@link SessionEntity}: losing it (its node lost) loses replay, never the session. It
 * passivates after the session idle timeout without a message, and is told {@link Forget} when the
 * client deletes its session.
 */
public final class StreamReplay extends AbstractBehavior<StreamReplay.Command> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "StreamReplay");

  /** Events kept per stream. */
  public static final int MAX_EVENTS = 256;
  /** Streams kept per session. */
  public static final int MAX_STREAMS = 32;

  public sealed interface Command extends CborSerializable permits Record, Resume, Forget, Stop, Idle {}

  /**
   * An event written to the client on stream {@code streamId}, numbered {@code seq} (1, 2, ...);
   * {@code last}: the stream's final event (the answer that ends a POST's stream). The priming
   * event is recorded as event 0 with no {@code json}: it makes the stream known, nothing is
   * replayed for it.
   */
  public record Record(String streamId, long seq, ObjectNode json, boolean last) implements Command {}

  /**
   * Replay stream {@code streamId} after event {@code afterSeq} to {@code to}, and, when {@code
   * follow}, keep sending its later events there until its last one. {@code replyTo} learns first
   * whether the stream is known.
   */
  public record Resume(String streamId, long afterSeq, boolean follow, ActorRef<Replayed> to,
      ActorRef<Boolean> replyTo) implements Command {}

  /** The session ended: drop its buffers. */
  public enum Forget implements Command { INSTANCE }

  public enum Stop implements Command { INSTANCE }

  enum Idle implements Command { INSTANCE }

  /**
   * What a resumed stream receives: an event with its id; {@code end}: nothing follows (the
   * stream's last event, or, with {@code json} null, the end of what there is to replay).
   */
  public record Replayed(String eventId, ObjectNode json, boolean end) implements CborSerializable {}

  /** The event id of event {@code seq} of stream {@code streamId}. */
  public static String eventId(String streamId, long seq) {
    return streamId + ":" + seq;
  }

  public static void init(ActorSystem<?> system, Duration idleTimeout) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(idleTimeout, ctx.getShard()))
        .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(Duration idleTimeout, ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> new StreamReplay(ctx, idleTimeout, shard));
  }

  /** One stream's last events, and where a resumed client follows it. */
  private static final class Buffer {
    final ArrayDeque<Record> events = new ArrayDeque<>();
    boolean ended;
    ActorRef<Replayed> follower;
    /** The follower has every event up to this one: an earlier one recorded late is not sent again. */
    long followAfter;
  }

  private final ActorRef<ClusterSharding.ShardCommand> shard;
  /** Insertion order: the oldest stream first. */
  private final Map<String, Buffer> buffers = new LinkedHashMap<>();

  private StreamReplay(ActorContext<Command> ctx, Duration idleTimeout, ActorRef<ClusterSharding.ShardCommand> shard) {
    super(ctx);
    this.shard = shard;
    ctx.setReceiveTimeout(idleTimeout, Idle.INSTANCE);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Record.class, this::onRecord)
        .onMessage(Resume.class, this::onResume)
        .onMessageEquals(Forget.INSTANCE, () -> {
          buffers.clear();
          return passivate();
        })
        .onMessageEquals(Idle.INSTANCE, this::passivate)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .build();
  }

  private Behavior<Command> onRecord(Record r) {
    Buffer b = buffers.get(r.streamId());
    if (b == null) {
      b = new Buffer();
      buffers.put(r.streamId(), b);
      evictOldStreams();
    }
    if (b.ended || r.json() == null) {
      return this;
    }
    b.events.addLast(r);
    if (b.events.size() > MAX_EVENTS) {
      b.events.removeFirst();
    }
    b.ended = r.last();
    if (b.follower != null && r.seq() > b.followAfter) {
      b.follower.tell(new Replayed(eventId(r.streamId(), r.seq()), r.json(), r.last()));
      b.followAfter = r.seq();
      if (r.last()) {
        b.follower = null;
      }
    }
    return this;
  }

  /** Ended streams go first, then the oldest: a running call's stream is kept longest. */
  private void evictOldStreams() {
    while (buffers.size() > MAX_STREAMS) {
      Iterator<Map.Entry<String, Buffer>> it = buffers.entrySet().iterator();
      String victim = null;
      while (it.hasNext()) {
        Map.Entry<String, Buffer> e = it.next();
        if (e.getValue().ended) {
          victim = e.getKey();
          break;
        }
      }
      buffers.remove(victim != null ? victim : buffers.keySet().iterator().next());
    }
  }

  /**
   * A stream of a POST that is not known (yet) is followed all the same: the client knows its id
   * only because a node wrote it, and that node's records may still be on their way here (they
   * come from another sender than the resumption). A GET stream that is not known has nothing to
   * replay: the answer says so and the edge opens a new GET stream.
   */
  private Behavior<Command> onResume(Resume r) {
    Buffer b = buffers.get(r.streamId());
    if (b == null && r.follow()) {
      b = new Buffer();
      buffers.put(r.streamId(), b);
      evictOldStreams();
    }
    r.replyTo().tell(b != null);
    if (b == null) {
      return this;
    }
    boolean endSent = false;
    long sentUpTo = r.afterSeq();
    for (Record e : b.events) {
      if (e.seq() > r.afterSeq()) {
        r.to().tell(new Replayed(eventId(e.streamId(), e.seq()), e.json(), e.last()));
        endSent = e.last();
        sentUpTo = e.seq();
      }
    }
    if (r.follow() && !b.ended) {
      // Later records go to the new connection (replacing any earlier one), each once.
      b.follower = r.to();
      b.followAfter = sentUpTo;
    } else if (!endSent) {
      r.to().tell(new Replayed(null, null, true));
    }
    return this;
  }

  private Behavior<Command> passivate() {
    shard.tell(new ClusterSharding.Passivate<>(getContext().getSelf()));
    return this;
  }
}
