package io.bastion.node.session;

import io.bastion.node.call.SessionInfo;
import io.bastion.persistence.CborSerializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * Carries a session across a shard hand-off (a node leaving, a rebalance onto a new node).
 *
 * <p>A session entity keeps its state in memory only. When sharding stops it to move its shard,
 * it parks its state here (a Distributed Data map, written to a majority of nodes) and stops; the
 * entity started for the same id on the shard's new node finds it (read from a majority, so it
 * sees the write) when its first message is not an {@code Open}, restores it, and removes the
 * entry. Nothing is written on the hot path: only at hand-off, and read only by entities that
 * start without state.
 *
 * <p>Decision and alternatives (docs/cluster.md): an event-sourced session would also survive a
 * crash, at the price of a journal write per {@code initialize} and a store read for every
 * unknown id; a crash still costs the sessions of the lost node (their clients get 404 and
 * re-initialize, as the spec allows).
 */
final class SessionParking {

  /** What survives a hand-off: the session as its edges see it, and where it holds subscriptions. */
  record Parked(SessionInfo info, List<String> subscribedAt, long parkedAtMillis) implements CborSerializable {
    Parked {
      subscribedAt = List.copyOf(subscribedAt);
    }
  }

  static final Key<LWWMap<String, Parked>> KEY = LWWMapKey.create("bastion-sessions-parked");
  private static final Duration WRITE = Duration.ofSeconds(3);
  private static final Duration READ = Duration.ofSeconds(2);
  /** Messages a starting entity keeps while it looks for parked state. */
  private static final int STASH = 1_000;

  private final ActorSystem<?> system;
  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  /** Entries older than this are dropped (the session would have expired idle meanwhile). */
  private final Duration maxAge;

  SessionParking(ActorSystem<?> system, Duration maxAge) {
    this.system = system;
    this.replicator = DistributedData.get(system).replicator();
    this.self = DistributedData.get(system).selfUniqueAddress();
    this.maxAge = maxAge;
  }

  /** Parks {@code parked} under {@code sessionId}; {@code done} is sent to the entity once written (or not). */
  @SuppressWarnings("unchecked")
  <C> void park(ActorContext<C> ctx, String sessionId, Parked parked, C done) {
    long oldest = parked.parkedAtMillis() - maxAge.toMillis();
    Class<Replicator.UpdateResponse<LWWMap<String, Parked>>> type =
        (Class<Replicator.UpdateResponse<LWWMap<String, Parked>>>) (Class<?>) Replicator.UpdateResponse.class;
    ctx.ask(type, replicator, WRITE,
        replyTo -> new Replicator.Update<LWWMap<String, Parked>>(KEY, LWWMap.create(),
            new Replicator.WriteMajority(WRITE), replyTo, map -> prune(map, oldest).put(self, sessionId, parked)),
        (response, failure) -> done);
  }

  /** Looks {@code sessionId} up; the entity gets {@code adapter} applied to what was found. */
  @SuppressWarnings("unchecked")
  <C> void fetch(ActorContext<C> ctx, String sessionId, Function<Parked, C> adapter) {
    long oldest = System.currentTimeMillis() - maxAge.toMillis();
    Class<Replicator.GetResponse<LWWMap<String, Parked>>> type =
        (Class<Replicator.GetResponse<LWWMap<String, Parked>>>) (Class<?>) Replicator.GetResponse.class;
    ctx.ask(type, replicator, READ.plusSeconds(1),
        replyTo -> new Replicator.Get<LWWMap<String, Parked>>(KEY, new Replicator.ReadMajority(READ), replyTo),
        (response, failure) -> {
          Parked found = null;
          if (response instanceof Replicator.GetSuccess<LWWMap<String, Parked>> success) {
            Parked p = success.get(KEY).getEntries().get(sessionId);
            found = p != null && p.parkedAtMillis() >= oldest ? p : null;
          }
          return adapter.apply(found);
        });
  }

  /**
   * How a session entity starts: an {@code Open} goes straight to it; any other first message
   * means the session may have lived on another node, so its messages wait (stashed, bounded)
   * until the parked state, if any, is restored.
   */
  static Behavior<SessionEntity.Command> starting(ActorContext<SessionEntity.Command> ctx, SessionEntity entity,
      SessionParking parking, String sessionId) {
    return Behaviors.withStash(STASH, stash -> Behaviors.receive(SessionEntity.Command.class)
        .onMessage(SessionEntity.Open.class, open -> {
          stash.stash(open);
          return stash.unstashAll(entity);
        })
        .onAnyMessage(first -> {
          stash.stash(first);
          parking.fetch(ctx, sessionId, SessionEntity.Restored::new);
          return Behaviors.receive(SessionEntity.Command.class)
              .onMessage(SessionEntity.Restored.class, r -> {
                entity.restore(r.parked());
                return stash.unstashAll(entity);
              })
              .onAnyMessage(m -> {
                if (!stash.isFull()) {
                  stash.stash(m); // when full, dropped: the asker's timeout answers for it
                }
                return Behaviors.same();
              })
              .build();
        })
        .build());
  }

  /** The session was restored (or ended): its entry goes. */
  void forget(String sessionId) {
    replicator.tell(new Replicator.Update<>(KEY, LWWMap.create(), Replicator.writeLocal(),
        system.ignoreRef(), map -> map.remove(self, sessionId)));
  }

  private LWWMap<String, Parked> prune(LWWMap<String, Parked> map, long oldest) {
    LWWMap<String, Parked> m = map;
    for (Map.Entry<String, Parked> e : map.getEntries().entrySet()) {
      if (e.getValue().parkedAtMillis() < oldest) {
        m = m.remove(self, e.getKey());
      }
    }
    return m;
  }
}
