package io.bastion.node.upstream;

import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * How this node tells an upstream entity: through its own {@code UpstreamServer} region, or,
 * once that region has stopped while the node still serves HTTP, through the region of another
 * member that is Up.
 *
 * <p>Why: a node that leaves through {@code Cluster.leave} (management HTTP's {@code
 * operation=Leave}) while it is the oldest member hands its shards off at once, not after its
 * HTTP port has closed: the next oldest takes the shard coordinators over as soon as it sees the
 * node {@code Exiting}, and a coordinator stopped for the hand-over tells its local region to shut
 * down. For the rest of the node's drain, calls entering it were dead-lettered by the stopped
 * region (chaos run 8: 3 calls cut when the port closed). A sharding proxy on the leaving node
 * does not help: the coordinator registers proxies of Up members only. Another member's region
 * routes a message it did not send as it routes its own, and the answer comes back to this node's
 * reply router, which runs until the node is gone. (A leave by SIGTERM runs the phases in order:
 * the region stops after the port has closed, so this is never needed then.)
 *
 * <p>The common path costs one volatile read.
 */
final class UpstreamRegion {
  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  /** Whether this node's region has stopped. */
  private volatile boolean stopped;

  UpstreamRegion(ActorSystem<?> system) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
  }

  /** Tells entity {@code entityId} (a server's, or a key's for a {@code per_key} server) {@code message}. */
  void tell(String entityId, UpstreamServer.Command message) {
    if (!stopped) {
      sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, entityId).tell(message);
      return;
    }
    Address self = Cluster.get(system).selfMember().address();
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.status() == MemberStatus.up() && !m.address().equals(self)) {
        system.classicSystem().actorSelection(m.address() + "/system/sharding/" + UpstreamServer.ENTITY_TYPE_KEY.name())
            .tell(new ShardingEnvelope<>(entityId, message), ActorRef.noSender());
        return;
      }
    }
    // No member is Up: nothing can run it; the caller's time limit answers.
    sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, entityId).tell(message);
  }

  /** This node started to leave: {@code ctx} watches the local region ({@link #regionStopped}). */
  void leaving(ActorContext<Object> ctx) {
    try {
      ActorRef region = org.apache.pekko.cluster.sharding.ClusterSharding.get(Adapter.toClassic(system))
          .shardRegion(UpstreamServer.ENTITY_TYPE_KEY.name());
      ctx.watchWith(Adapter.toTyped(region), RegionStopped.INSTANCE);
    } catch (RuntimeException e) {
      ctx.getLog().debug("Upstream region not watched on the way out: {}", e.toString());
    }
  }

  /** The message {@link #leaving} has the watcher told when the local region stops. */
  enum RegionStopped { INSTANCE }

  /** The local region stopped: from now on, calls go through another member's region. */
  void regionStopped(ActorContext<?> ctx) {
    if (!stopped && !system.whenTerminated().isCompleted()) {
      stopped = true;
      ctx.getLog().info("This node's upstream region has stopped while the node leaves: calls that still enter it "
          + "go through another member's region");
    }
  }
}
