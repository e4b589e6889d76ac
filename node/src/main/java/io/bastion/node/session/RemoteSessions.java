package io.bastion.node.session;

import io.bastion.node.call.SessionInfo;
import io.bastion.persistence.CborSerializable;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The sessions whose {@link SessionEntity} runs on another node and that requests on this node
 * have used, as their entities last told this node: the edge validates such a session here, so
 * only its first request on this node pays an ask across the cluster (docs/cluster.md, "Sessions
 * on any node").
 *
 * <p>How it stays exact: the edge's first ask ({@code Validate}) names this node's subscriber (the
 * actor in here). The entity then sends it every change of the session ({@link Update}) in the
 * order it makes them, the first one right away; an entry is written only from that stream, never
 * from an ask's answer, so an older state cannot overwrite a newer one. When the client deletes
 * the session, the entity answers the DELETE only after every subscriber confirmed the removal
 * (or after {@link SessionSubscribers#CONFIRM_WITHIN}, for a node that does not answer), so no node
 * serves a session its client was told is gone. When the entity stops (idle, hand-off, its node
 * lost) its entries go: it says so, and the subscriber also watches it.
 *
 * <p>Idle: requests validated here send the entity nothing, so every {@code touchEvery} (a third
 * of the session idle timeout, at most a minute) the subscriber sends each session used since the
 * last round one {@link SessionEntity.Touch}, which resets its idle timeout.
 */
public final class RemoteSessions implements Extension {

  /** What the subscriber receives. */
  public sealed interface Command permits Update, EntityGone, Touch {}

  /**
   * The session's state now ({@code info.found()} false: it ended here). {@code confirm}: the
   * entity waits for {@link SessionEntity.Confirmed} before it answers a DELETE.
   */
  public record Update(String sessionId, SessionInfo info, ActorRef<SessionEntity.Command> entity, boolean confirm)
      implements Command, CborSerializable {}

  private record EntityGone(ActorRef<SessionEntity.Command> entity) implements Command {}

  private enum Touch implements Command { INSTANCE }

  /** One cached session: the state, the entity that sent it, and whether a request used it since the last touch. */
  private static final class Entry {
    final SessionInfo info;
    final ActorRef<SessionEntity.Command> entity;
    volatile boolean used;

    Entry(SessionInfo info, ActorRef<SessionEntity.Command> entity, boolean used) {
      this.info = info;
      this.entity = entity;
      this.used = used;
    }
  }

  private final ConcurrentHashMap<String, Entry> cached = new ConcurrentHashMap<>();
  private volatile ActorRef<Update> subscriber;

  private RemoteSessions() {}

  public static RemoteSessions get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** Starts this node's subscriber (once, with the session entities). */
  static void start(ActorSystem<?> system, Duration idleTimeout) {
    RemoteSessions sessions = get(system);
    synchronized (sessions) {
      if (sessions.subscriber == null) {
        Duration third = idleTimeout.dividedBy(3);
        Duration touchEvery = third.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : third;
        sessions.subscriber = system.systemActorOf(sessions.behavior(touchEvery), "bastion-remote-sessions",
            Props.empty()).narrow();
      }
    }
  }

  /**
   * The session's state when an entity on another node told this node about it; marks it used.
   * Empty when this node holds nothing for it: then the edge asks the entity.
   */
  public Optional<SessionInfo> use(String sessionId) {
    Entry e = cached.get(sessionId);
    if (e == null) {
      return Optional.empty();
    }
    if (!e.used) {
      e.used = true;
    }
    return Optional.of(e.info);
  }

  /** Where entities send this node's updates, for a {@code Validate}; null before {@link #start}. */
  public ActorRef<Update> subscriber() {
    return subscriber;
  }

  /** Sessions of other nodes cached here. */
  public int size() {
    return cached.size();
  }

  private Behavior<Command> behavior(Duration touchEvery) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Touch.INSTANCE, touchEvery);
      Map<ActorRef<SessionEntity.Command>, Set<String>> byEntity = new HashMap<>();
      return Behaviors.receive(Command.class)
          .onMessage(Update.class, u -> {
            apply(ctx, byEntity, u);
            return Behaviors.same();
          })
          .onMessage(EntityGone.class, g -> {
            for (String id : byEntity.getOrDefault(g.entity(), Set.of())) {
              cached.computeIfPresent(id, (k, e) -> e.entity.equals(g.entity()) ? null : e);
            }
            byEntity.remove(g.entity());
            return Behaviors.same();
          })
          .onMessageEquals(Touch.INSTANCE, () -> {
            cached.values().forEach(e -> {
              if (e.used) {
                e.used = false;
                e.entity.tell(SessionEntity.Touch.INSTANCE);
              }
            });
            return Behaviors.same();
          })
          .build();
    }));
  }

  private void apply(ActorContext<Command> ctx, Map<ActorRef<SessionEntity.Command>, Set<String>> byEntity,
      Update u) {
    String id = u.sessionId();
    if (u.info().found()) {
      Entry was = cached.get(id);
      cached.put(id, new Entry(u.info(), u.entity(), was != null && was.used));
      if (was != null && !was.entity.equals(u.entity())) {
        forgetOf(byEntity, was.entity, id);
      }
      byEntity.computeIfAbsent(u.entity(), entity -> {
        ctx.watchWith(entity, new EntityGone(entity));
        return new HashSet<>();
      }).add(id);
    } else {
      // Only the entity that wrote the entry removes it: a late word from an earlier home must not.
      cached.computeIfPresent(id, (k, e) -> e.entity.equals(u.entity()) ? null : e);
      forgetOf(byEntity, u.entity(), id);
    }
    if (u.confirm()) {
      u.entity().tell(new SessionEntity.Confirmed(ctx.getSelf().narrow()));
    }
  }

  private static void forgetOf(Map<ActorRef<SessionEntity.Command>, Set<String>> byEntity,
      ActorRef<SessionEntity.Command> entity, String id) {
    Set<String> ids = byEntity.get(entity);
    if (ids != null) {
      ids.remove(id);
    }
  }

  /** One per ActorSystem. */
  public static final class Id extends ExtensionId<RemoteSessions> {
    static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public RemoteSessions createExtension(ActorSystem<?> system) {
      return new RemoteSessions();
    }
  }
}
