package io.bastion.node;

import io.bastion.node.upstream.UpstreamServer;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Keeps every configured upstream entity running: every node nudges each one at a fixed
 * interval, so after a node loss or a shard hand-off the upstream starts again on its new owner
 * within one interval, without remembered entities. When a member is removed (downed or left),
 * the nudges come every 300 ms for a few seconds instead of every interval: the upstreams it ran
 * start elsewhere as soon as their shards have a new home. The list is read at every nudge:
 * servers added through the admin API start within one interval on whichever node owns them.
 */
final class UpstreamKeeper {
  private enum Tick { INSTANCE }

  /** Nudges every 300 ms for 3 s after a member was removed: its shards get a new home meanwhile. */
  private enum Soon { INSTANCE }

  private enum SoonOver { INSTANCE }

  private UpstreamKeeper() {}

  static Behavior<Object> create(Supplier<List<String>> servers, Duration interval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
      Runnable nudge = () -> servers.get().forEach(name ->
          sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, name).tell(UpstreamServer.Wakeup.INSTANCE));
      nudge.run();
      timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
      Cluster.get(ctx.getSystem()).subscriptions().tell(
          Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberRemoved.class));
      return Behaviors.receiveMessage(msg -> {
        if (msg == SoonOver.INSTANCE) {
          timers.cancel(Soon.INSTANCE);
          return Behaviors.same();
        }
        if (msg instanceof ClusterEvent.MemberRemoved) {
          timers.startTimerWithFixedDelay(Soon.INSTANCE, Soon.INSTANCE, Duration.ofMillis(300));
          timers.startSingleTimer(SoonOver.INSTANCE, SoonOver.INSTANCE, Duration.ofSeconds(3));
        }
        nudge.run();
        return Behaviors.same();
      });
    }));
  }
}
