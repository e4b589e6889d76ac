package io.bastion.node.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.JsonFields;
import io.bastion.node.call.Reply;
import io.bastion.node.call.RequestStream;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.persistence.CborSerializable;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.javadsl.AbstractMatchingBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One downstream MCP session, sharded by its id (architecture §2): any node's edge asks it whether
 * the session exists, and any node pushes messages to the client's GET stream through it.
 *
 * <p>Owns the negotiated protocol version, the client's info and capabilities, the virtual key,
 * where the GET stream lives, the server→client requests waiting for the client ({@link
 * PendingRequests}, at most {@link #MAX_PENDING}, each until the max request timeout), and which
 * upstreams hold resource subscriptions of the session (told {@link UpstreamServer.SessionEnded}
 * when it ends). Not persisted: at a shard hand-off its state is parked for the next home
 * ({@link SessionParking}); when its node is lost the client gets 404 and re-initializes, as the
 * spec allows. Idle sessions passivate after the idle timeout. Every change is published ({@link
 * SessionPublication}) to the edges of every node that uses it. Not event-sourced (no events):
 * {@code SessionEntityTest} drives it with probes. An {@code AbstractMatchingBehavior} (one
 * {@code instanceof} chain) rather than an {@code AbstractBehavior}, whose receive builder makes a
 * case object and a handler lambda per message type for every entity, and a node holds one entity
 * per open session (docs/benchmarks.md, heap per idle session).
 */
public final class SessionEntity extends AbstractMatchingBehavior<SessionEntity.Command> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Session");

  /** Server→client requests a session holds unanswered at most; beyond it the upstream is refused at once. */
  public static final int MAX_PENDING = 1_000;

  public sealed interface Command extends CborSerializable
      permits Open, Validate, Initialized, AttachStream, DetachStream, Notify, ServerRequest,
          ResolveClientResponse, Terminate, Stop, IdleTimeout, Subscribed, ResourceUpdated,
          PendingExpired, Restored, ParkDone, Touch, Confirmed {}

  /** Opens the session (sent once, by the edge that minted the id); {@code subject}: the OAuth token's, or null. */
  public record Open(String protocolVersion, JsonNode clientInfo, JsonNode capabilities,
      String keyName, ActorRef<SessionInfo> replyTo, String subject) implements Command {
    public Open {
      clientInfo = JsonFields.absentAsNull(clientInfo);
      capabilities = JsonFields.absentAsNull(capabilities);
    }
  }

  /**
   * Does the session exist, and what was negotiated? {@code subscriber} (null: none): the asking
   * node's {@link RemoteSessions}, which is then sent every change of the session.
   */
  public record Validate(ActorRef<SessionInfo> replyTo, ActorRef<RemoteSessions.Update> subscriber)
      implements Command {
    public Validate(ActorRef<SessionInfo> replyTo) {
      this(replyTo, null);
    }
  }

  /** Another node's requests used the session (validated from its {@link RemoteSessions}): it is not idle. */
  public enum Touch implements Command { INSTANCE }

  /**
   * A subscriber removed the ended session from its cache, or its node is gone (the watch); null:
   * the time to confirm is up ({@link SessionPublication}).
   */
  public record Confirmed(ActorRef<RemoteSessions.Update> subscriber) implements Command {}

  /** Legacy HTTP+SSE: the handshake arrives after the stream opened. */
  public record Initialized(String protocolVersion, JsonNode clientInfo, JsonNode capabilities) implements Command {
    public Initialized {
      clientInfo = JsonFields.absentAsNull(clientInfo);
      capabilities = JsonFields.absentAsNull(capabilities);
    }
  }

  /** The client opened its GET (or legacy SSE) stream on some node. */
  public record AttachStream(ActorRef<RequestStream.Event> stream) implements Command {}

  public record DetachStream(ActorRef<RequestStream.Event> stream) implements Command {}

  /** Put a notification on the session's GET stream (dropped when none is open, as the spec allows). */
  public record Notify(ObjectNode notification) implements Command {}

  /**
   * An upstream asks the client something (sampling, elicitation, roots). The session mints a
   * downstream id, remembers where the answer goes, and sends the request on {@code related} (the
   * stream of the request that caused it) or else on the GET stream.
   */
  public record ServerRequest(String server, JsonNode upstreamId, String method, JsonNode params,
      Reply related) implements Command {
    public ServerRequest {
      params = JsonFields.absentAsNull(params);
    }
  }

  /** The client POSTed a response: which upstream request does it answer ({@link PendingAnswer})? */
  public record ResolveClientResponse(JsonNode downstreamId, ActorRef<PendingAnswer> replyTo) implements Command {}

  public record Terminate(ActorRef<SessionInfo> replyTo) implements Command {}

  /**
   * The upstream {@code server} now holds a resource subscription of this session: the session
   * tells it {@link UpstreamServer.SessionEnded} when it ends (at once, if it already has).
   */
  public record Subscribed(String server) implements Command {}

  /** {@code notifications/resources/updated} from {@code server} for a URI this session subscribed to. */
  public record ResourceUpdated(String server, ObjectNode notification) implements Command {}

  /** A server→client request was not answered within the timeout. */
  record PendingExpired(String downstreamId) implements Command {}

  /** Sharding's stop message. */
  public enum Stop implements Command { INSTANCE }

  /** What {@link SessionParking} found for this id when the entity started without an Open (null: nothing). */
  record Restored(SessionParking.Parked parked) implements Command {}

  /** The state is parked for the shard's next home: stop now. */
  enum ParkDone implements Command { INSTANCE }

  enum IdleTimeout implements Command { INSTANCE }

  /**
   * @param pendingTimeout how long a server→client request waits for the client's answer
   *     ({@code bastion.node.max-request-timeout})
   */
  public static void init(ActorSystem<?> system, Duration idleTimeout, Duration pendingTimeout) {
    ClusterSharding sharding = ClusterSharding.get(system);
    RemoteSessions.start(system, idleTimeout);
    Function<String, RecipientRef<UpstreamServer.Command>> upstreams =
        server -> sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, server);
    sharding.init(
        Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), idleTimeout, pendingTimeout,
                MAX_PENDING, upstreams, ctx.getShard(), new SessionParking(system, idleTimeout)))
            .withStopMessage(Stop.INSTANCE));
  }

  /**
   * {@code upstreams}: how to reach an upstream's entity by server name (sharding; a probe in
   * tests); {@code parking}: null for an entity whose state never moves (tests without a cluster).
   */
  static Behavior<Command> create(String sessionId, Duration idleTimeout, Duration pendingTimeout,
      int maxPending, Function<String, RecipientRef<UpstreamServer.Command>> upstreams,
      ActorRef<ClusterSharding.ShardCommand> shard, SessionParking parking) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      SessionEntity entity = new SessionEntity(ctx, timers, sessionId, idleTimeout, pendingTimeout, maxPending,
          upstreams, shard, parking);
      return parking == null ? entity : SessionParking.starting(ctx, entity, parking, sessionId);
    }));
  }

  private final String sessionId;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final TimerScheduler<Command> timers;
  private final Function<String, RecipientRef<UpstreamServer.Command>> upstreams;
  private final Duration pendingTimeout;
  private SessionInfo info = SessionInfo.NOT_FOUND;
  private ActorRef<RequestStream.Event> stream;
  private final PendingRequests pending;
  /** Upstreams that hold resource subscriptions of this session. */
  private Set<String> subscribedAt = Set.of(); // a LinkedHashSet from the first subscription
  /** Where the session's state is published: this node's {@link LocalSessions}, other nodes' caches. */
  private final SessionPublication publication;
  private final SessionParking parking;
  /** Stopping for a hand-off with its state parked: subscriptions stay with the next home. */
  private boolean handedOff;
  /** Asked sharding to stop it (idle, ended): the stop that follows is not a hand-off. */
  private boolean passivating;

  private SessionEntity(ActorContext<Command> ctx, TimerScheduler<Command> timers, String sessionId,
      Duration idleTimeout, Duration pendingTimeout, int maxPending,
      Function<String, RecipientRef<UpstreamServer.Command>> upstreams,
      ActorRef<ClusterSharding.ShardCommand> shard, SessionParking parking) {
    super(ctx);
    this.parking = parking;
    this.sessionId = sessionId;
    this.shard = shard;
    this.timers = timers;
    this.upstreams = upstreams;
    this.pendingTimeout = pendingTimeout;
    this.pending = new PendingRequests(maxPending);
    this.publication = new SessionPublication(ctx, sessionId, LocalSessions.get(ctx.getSystem()));
    ctx.setReceiveTimeout(idleTimeout, IdleTimeout.INSTANCE);
  }

  /** Most frequent first (see the class comment for why this is not a receive builder). */
  @Override
  public Behavior<Command> onMessage(Command msg) {
    if (msg instanceof Validate v) {
      return onValidate(v);
    } else if (msg == Touch.INSTANCE) {
      return info.found() ? this : passivate();
    } else if (msg instanceof Open o) {
      return onOpen(o);
    } else if (msg instanceof Initialized i) {
      return onInitialized(i);
    } else if (msg instanceof AttachStream a) {
      return onAttach(a);
    } else if (msg instanceof DetachStream d) {
      return onDetach(d);
    } else if (msg instanceof Notify n) {
      if (stream != null) {
        stream.tell(new RequestStream.Message(n.notification()));
      }
      return info.found() ? this : passivate();
    } else if (msg instanceof ServerRequest r) {
      pending.offer(r, info, stream, timers, pendingTimeout, upstreams);
      return info.found() ? this : passivate();
    } else if (msg instanceof ResolveClientResponse r) {
      r.replyTo().tell(pending.resolve(r.downstreamId(), timers));
      return this;
    } else if (msg instanceof Terminate t) {
      return onTerminate(t);
    } else if (msg instanceof Subscribed sub) {
      return onSubscription(sub.server(), null);
    } else if (msg instanceof ResourceUpdated u) {
      return onSubscription(u.server(), u.notification());
    } else if (msg instanceof PendingExpired e) {
      pending.expire(e.downstreamId(), pendingTimeout, upstreams);
      return this;
    } else if (msg instanceof Confirmed c) {
      publication.confirmed(c.subscriber());
      return this;
    } else if (msg == IdleTimeout.INSTANCE) {
      // Idle: no message and no request validated on this node (LocalSessions.use) for the idle
      // timeout. A session whose client holds its GET or legacy SSE stream open stays.
      return stream != null || publication.takeUsed() ? this : passivate();
    } else if (msg == Stop.INSTANCE) {
      return onStop();
    } else if (msg == ParkDone.INSTANCE) {
      return Behaviors.stopped();
    }
    return this; // Restored: only the parking stage before this behavior acts on it
  }

  @Override
  public Behavior<Command> onSignal(Signal signal) {
    if (signal instanceof PostStop) {
      // However the session ends (idle, hand-off, node shutdown), nothing may wait on it.
      ended("the session ended", !handedOff);
      setInfo(SessionInfo.NOT_FOUND);
      publication.finish();
      return this;
    }
    return Behaviors.unhandled();
  }

  /** Sharding moves the shard (or the node stops): park the state for the next home, then stop. */
  private Behavior<Command> onStop() {
    if (parking == null || !info.found() || passivating) {
      return Behaviors.stopped();
    }
    handedOff = true;
    parking.park(getContext(), sessionId, new SessionParking.Parked(info, List.copyOf(subscribedAt),
        System.currentTimeMillis()), ParkDone.INSTANCE);
    return this;
  }

  /** Started on a new home: the state parked by the previous one, if any. */
  void restore(SessionParking.Parked parked) {
    if (parked == null) {
      return;
    }
    parking.forget(sessionId);
    subscribedAt = new LinkedHashSet<>(parked.subscribedAt());
    setInfo(parked.info());
    if (parked.info().stream() != null) {
      onAttach(new AttachStream(parked.info().stream()));
    }
  }

  private Behavior<Command> onOpen(Open open) {
    setInfo(new SessionInfo(true, open.protocolVersion(), open.keyName(), open.clientInfo(), open.capabilities(), null,
        open.subject()));
    open.replyTo().tell(info);
    return this;
  }

  private Behavior<Command> onValidate(Validate v) {
    if (v.subscriber() != null && info.found()) {
      publication.add(v.subscriber(), info);
    }
    v.replyTo().tell(info);
    // A message to a session that never opened (unknown or already deleted id) must not leave an
    // empty entity behind.
    return info.found() ? this : passivate();
  }

  private Behavior<Command> onInitialized(Initialized i) {
    if (info.found()) {
      setInfo(new SessionInfo(true, i.protocolVersion(), info.keyName(), i.clientInfo(), i.capabilities(), stream,
          info.subject()));
    }
    return info.found() ? this : passivate();
  }

  private Behavior<Command> onAttach(AttachStream a) {
    if (stream != null && !stream.equals(a.stream())) {
      getContext().unwatch(stream);
    }
    stream = a.stream();
    setInfo(info.withStream(stream));
    // The stream's end (client gone, or its node lost) detaches it, so an idle session with a
    // dead stream can still expire.
    getContext().watchWith(stream, new DetachStream(stream));
    return this;
  }

  private Behavior<Command> onDetach(DetachStream d) {
    if (d.stream().equals(stream)) {
      getContext().unwatch(stream);
      stream = null;
      setInfo(info.withStream(null));
    }
    // A stream ending after its session was deleted starts a fresh entity: it must not linger.
    return info.found() || stream != null ? this : passivate();
  }

  /** {@code server} holds a subscription of this session, and sent {@code update} (or null) for it. */
  private Behavior<Command> onSubscription(String server, ObjectNode update) {
    if (!info.found()) {
      // Ended (or never opened here) before the subscription was recorded, or the upstream entity
      // still counts a session that is gone (e.g. its node was lost): prune it at once.
      upstreams.apply(server).tell(new UpstreamServer.SessionEnded(sessionId));
      return passivate();
    }
    (subscribedAt.isEmpty() ? (subscribedAt = new LinkedHashSet<>()) : subscribedAt).add(server);
    if (update != null && stream != null) {
      stream.tell(new RequestStream.Message(update));
    }
    return this;
  }

  /** The session is over here: nothing may keep waiting on it (nor keep subscriptions, if {@code over}). */
  private void ended(String why, boolean over) {
    for (String server : over ? subscribedAt : Set.<String>of()) {
      upstreams.apply(server).tell(new UpstreamServer.SessionEnded(sessionId));
    }
    subscribedAt = Set.of();
    pending.failAll(why, timers, upstreams);
  }

  /** Answered once no other node's cache holds the session any more ({@link SessionPublication}). */
  private Behavior<Command> onTerminate(Terminate t) {
    SessionInfo was = info;
    info = SessionInfo.NOT_FOUND;
    publication.end(timers, () -> {
      t.replyTo().tell(was);
      if (passivating) {
        shard.tell(new ClusterSharding.Passivate<>(getContext().getSelf()));
      }
    });
    if (was.found()) {
      getContext().getLog().debug("Session [{}] terminated by the client", sessionId);
    }
    ended("the client ended the session", true);
    stream = null;
    return passivate();
  }

  /**
   * The one place the session's state changes (but for a DELETE's): this node's edges read it from
   * {@link LocalSessions}, other nodes' from their {@link RemoteSessions}.
   */
  private void setInfo(SessionInfo next) {
    info = next;
    publication.publish(next);
  }

  /** While a DELETE waits for other nodes' confirmations, the stop waits too (it would drop them). */
  private Behavior<Command> passivate() {
    passivating = true; // its own end (idle, terminated): nothing to park when sharding stops it
    if (!publication.confirming()) {
      shard.tell(new ClusterSharding.Passivate<>(getContext().getSelf()));
    }
    return this;
  }
}
