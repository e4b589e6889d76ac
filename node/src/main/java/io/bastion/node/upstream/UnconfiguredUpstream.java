package io.bastion.node.upstream;

import io.bastion.node.call.Fault;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The {@link UpstreamServer} entity of a server name this node's configuration does not list
 * (removed from the YAML, or only known from a stale directory entry): every forwarded request is
 * answered at once with an error, instead of being dropped and left to the edge's time bound.
 * Passivates after a minute idle; stops at the first {@link UpstreamServer.Wakeup} after the
 * server was added to this node's configuration.
 */
final class UnconfiguredUpstream {
  private UnconfiguredUpstream() {}

  /** Receive timeout: passivate. */
  private enum Idle { INSTANCE }

  /** {@code configuredNow}: true once this node's configuration lists the server (the admin API added it). */
  static Behavior<UpstreamServer.Command> create(String name, ActorRef<ClusterSharding.ShardCommand> shard,
      java.util.function.BooleanSupplier configuredNow) {
    return Behaviors.<Object>setup(ctx -> {
      ctx.getLog().info("Upstream [{}] is not in this node's configuration: requests to it are refused", name);
      ctx.setReceiveTimeout(Duration.ofMinutes(1), Idle.INSTANCE);
      return Behaviors.receive(Object.class)
          .onMessage(UpstreamServer.Forward.class, f -> {
            f.replyTo().fail(Fault.UPSTREAM_NOT_CONFIGURED, f.downstreamId(), f.method(),
                "Unknown upstream server: " + name + " is not in Bastion's configuration");
            return Behaviors.same();
          })
          .onMessageEquals(Idle.INSTANCE, () -> {
            shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf().unsafeUpcast()));
            return Behaviors.same();
          })
          .onMessageEquals(UpstreamServer.Stop.INSTANCE, Behaviors::stopped)
          // Added meanwhile: stop, so that the next message starts the real entity.
          .onMessageEquals(UpstreamServer.Wakeup.INSTANCE, () -> configuredNow.getAsBoolean()
              ? Behaviors.stopped() : Behaviors.same())
          .onAnyMessage(m -> Behaviors.same())
          .build();
    }).narrow();
  }
}
