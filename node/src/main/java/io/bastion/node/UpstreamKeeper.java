package io.bastion.node;

import io.bastion.node.upstream.UpstreamServer;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Keeps every configured upstream entity running: every node nudges each one at a fixed
 * interval, so after a node loss or a shard hand-off the upstream starts again on its new owner
 * within one interval, without remembered entities. The list is read at every tick: servers
 * added through the admin API start within one interval on whichever node owns them.
 */
final class UpstreamKeeper {
  private enum Tick { INSTANCE }

  private UpstreamKeeper() {}

  static Behavior<Object> create(Supplier<List<String>> servers, Duration interval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
      Runnable nudge = () -> servers.get().forEach(name ->
          sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, name).tell(UpstreamServer.Wakeup.INSTANCE));
      nudge.run();
      timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
      return Behaviors.receiveMessage(msg -> {
        nudge.run();
        return Behaviors.same();
      });
    }));
  }
}
