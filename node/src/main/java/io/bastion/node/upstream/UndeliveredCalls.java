package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.RequestStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.pekko.actor.AllDeadLetters;
import org.apache.pekko.actor.Dropped;
import org.apache.pekko.actor.UnhandledMessage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;

/**
 * Calls that never reached their upstream's entity, found among this node's dead letters, and
 * told to the node that holds their request ({@link Undelivered}), which sends them again.
 *
 * <p>Why: when Cluster Sharding moves a shard (a rebalance after a node joined, a leave), the region
 * that hands it off drops what it buffered for the shard between the coordinator's BeginHandOff
 * and HandOff, to keep their order ({@code ShardRegion}: "Dropping [n] buffered messages to shard
 * [..] during hand off"); a message that reaches an entity that has stopped goes to dead letters
 * too. A {@link UpstreamServer.Forward} lost that way was never seen by the entity, so nothing ran
 * upstream and sending it again keeps the call at most once. Without this the client waited for
 * the edge's time limit (HandOffTest lost 2 of 1,300 calls while 12 shards moved).
 *
 * <p>Only messages that were not delivered count: an {@link UnhandledMessage} reached its actor.
 * The check costs nothing while nothing is dead-lettered.
 */
public final class UndeliveredCalls {
  private UndeliveredCalls() {}

  /**
   * A call of upstream entity {@code entityId} (a server's, or a key's for a {@code per_key}
   * server) that did not reach it. Told to the call's {@link io.bastion.node.call.Reply}: the
   * node holding the request sends it again while the request still waits ({@link
   * UpstreamRoute#resend}); every other receiver ignores it.
   */
  public record Undelivered(long correlation, String entityId, UpstreamServer.Forward forward)
      implements RequestStream.Event {
    @Override
    public ObjectNode json() {
      return null;
    }
  }

  /** Watches this node's dead letters for calls, for as long as the system runs. */
  static void watch(ActorSystem<?> system) {
    system.systemActorOf(watcher(), "bastion-undelivered-calls", Props.empty());
  }

  private static Behavior<AllDeadLetters> watcher() {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(AllDeadLetters.class, ctx.getSelf()));
      long[] lastInfo = {System.nanoTime() - 2_000_000_000L};
      return Behaviors.receiveMessage(dead -> {
        of(dead).ifPresent(u -> {
          // At most one line a second at info: a call can bounce every 100 ms while a region is gone.
          long now = System.nanoTime();
          boolean info = now - lastInfo[0] > 1_000_000_000L;
          if (info) {
            lastInfo[0] = now;
            ctx.getLog().info("Call {} of upstream entity {} was not delivered ({}): it is sent again",
                u.forward().downstreamId(), u.entityId(), dead.getClass().getSimpleName());
          } else {
            ctx.getLog().debug("Call {} of upstream entity {} was not delivered: it is sent again",
                u.forward().downstreamId(), u.entityId());
          }
          u.forward().replyTo().tell(u);
        });
        return Behaviors.same();
      });
    });
  }

  /**
   * The undelivered call in a dead letter, if it holds one: a {@link UpstreamServer.Forward},
   * possibly in a {@link ShardingEnvelope} (naming its entity) and a {@link Dropped} (a region's
   * buffer at a hand-off); otherwise the entity is the recipient's name (an entity actor).
   */
  static Optional<Undelivered> of(AllDeadLetters dead) {
    if (dead instanceof UnhandledMessage) {
      return Optional.empty();
    }
    Object m = dead.message();
    if (m instanceof Dropped dropped) {
      m = dropped.message();
    }
    String entity = null;
    if (m instanceof ShardingEnvelope<?> envelope) {
      entity = envelope.entityId();
      m = envelope.message();
    }
    if (!(m instanceof UpstreamServer.Forward f)) {
      return Optional.empty();
    }
    if (entity == null) {
      entity = URLDecoder.decode(dead.recipient().path().name(), StandardCharsets.UTF_8);
    }
    return Optional.of(new Undelivered(f.replyTo().correlation(), entity, f));
  }
}
