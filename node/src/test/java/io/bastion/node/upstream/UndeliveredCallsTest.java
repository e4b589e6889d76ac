package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import io.bastion.node.call.Reply;
import io.bastion.node.call.RequestStream;
import io.bastion.protocol.Json;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.pekko.actor.DeadLetter;
import org.apache.pekko.actor.Dropped;
import org.apache.pekko.actor.UnhandledMessage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which dead letters hold an undelivered call, and that the watcher hands each to the call's
 * reply. The dead letters are Pekko's own: a message told to an actor that has stopped, and a
 * {@link Dropped} sent to dead letters the way a shard region drops its buffer at a hand-off.
 * (HandOffTest covers the whole path under a real rebalance.)
 */
class UndeliveredCallsTest {
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("UndeliveredCallsTest");
    UndeliveredCalls.watch(kit.system());
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static UpstreamServer.Forward forward(TestProbe<RequestStream.Event> replies, long correlation, int id) {
    return new UpstreamServer.Forward("s-1", IntNode.valueOf(id), "tools/call",
        Json.object().put("name", "echo"), new Reply(replies.getRef(), correlation));
  }

  @Test
  void aCallToldToAStoppedEntityComesBackNamingTheEntity() {
    TestProbe<RequestStream.Event> replies = kit.createTestProbe();
    String entityId = KeyedUpstreams.entityId("github", "team a/1");
    ActorRef<UpstreamServer.Command> entity = kit.spawn(Behaviors.empty(),
        URLEncoder.encode(entityId, StandardCharsets.UTF_8));
    kit.stop(entity);
    UpstreamServer.Forward f = forward(replies, 7, 1);

    entity.tell(f);

    UndeliveredCalls.Undelivered u = replies.expectMessageClass(UndeliveredCalls.Undelivered.class, Duration.ofSeconds(5));
    assertThat(u.correlation()).isEqualTo(7);
    assertThat(u.entityId()).isEqualTo(entityId);
    assertThat(u.forward()).isEqualTo(f);
  }

  @Test
  void aCallDroppedFromARegionsBufferComesBackWithItsEnvelopesEntity() {
    TestProbe<RequestStream.Event> replies = kit.createTestProbe();
    UpstreamServer.Forward f = forward(replies, 8, 2);
    org.apache.pekko.actor.ActorRef deadLetters = kit.system().classicSystem().deadLetters();

    deadLetters.tell(new Dropped(new ShardingEnvelope<>("fixture", f), "Avoiding reordering of buffered messages at shard handoff",
        org.apache.pekko.actor.ActorRef.noSender(), org.apache.pekko.actor.ActorRef.noSender()),
        org.apache.pekko.actor.ActorRef.noSender());

    UndeliveredCalls.Undelivered u = replies.expectMessageClass(UndeliveredCalls.Undelivered.class, Duration.ofSeconds(5));
    assertThat(u.correlation()).isEqualTo(8);
    assertThat(u.entityId()).isEqualTo("fixture");
    assertThat(u.forward()).isEqualTo(f);
  }

  @Test
  void otherDeadLettersAndUnhandledCallsAreNotCalledUndelivered() {
    TestProbe<RequestStream.Event> replies = kit.createTestProbe();
    org.apache.pekko.actor.ActorRef someone = Adapter.toClassic(replies.getRef());
    UpstreamServer.Forward f = forward(replies, 9, 3);

    // An UnhandledMessage reached its actor: sending it again could run it twice.
    assertThat(UndeliveredCalls.of(new UnhandledMessage(f, someone, someone))).isEmpty();
    assertThat(UndeliveredCalls.of(new DeadLetter(new UpstreamServer.Cancel("s-1", IntNode.valueOf(3), "x"),
        someone, someone))).isEmpty();
    assertThat(UndeliveredCalls.of(new DeadLetter(new ShardingEnvelope<>("fixture", "text"), someone, someone))).isEmpty();
    assertThat(UndeliveredCalls.of(new DeadLetter(new ShardingEnvelope<>("fixture", f), someone, someone)))
        .get().extracting(UndeliveredCalls.Undelivered::entityId).isEqualTo("fixture");
  }
}
