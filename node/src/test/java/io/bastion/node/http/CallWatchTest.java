package io.bastion.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.session.RequestStream;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CallWatchTest {
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create();
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void eachWatchEndsOnceWithItsAnswerOrWithWhyNot() {
    CallWatch watch = new CallWatch(kit.system(), Duration.ofMinutes(1));
    TestProbe<RequestStream.Event> a = kit.createTestProbe();
    TestProbe<RequestStream.Event> b = kit.createTestProbe();
    Map<String, String> ended = new ConcurrentHashMap<>();
    watch.watch(a.ref(), IntNode.valueOf(1), (answer, why) -> ended.merge("a1", answer != null ? "answer" : why, (x, y) -> x + "+" + y));
    watch.watch(a.ref(), IntNode.valueOf(2), (answer, why) -> ended.merge("a2", answer != null ? "answer" : why, (x, y) -> x + "+" + y));
    watch.watch(b.ref(), IntNode.valueOf(1), (answer, why) -> ended.merge("b1", answer != null ? "answer" : why, (x, y) -> x + "+" + y));
    assertThat(watch.size()).isEqualTo(3);

    ObjectNode answer = JsonRpc.result(IntNode.valueOf(1), Json.object());
    watch.seen(a.ref(), new RequestStream.Final(answer));
    assertThat(ended).containsOnly(Map.entry("a1", "answer"));

    watch.abandonAll(a.ref(), CallWatch.CLIENT_GONE);
    assertThat(ended).containsEntry("a2", CallWatch.CLIENT_GONE).doesNotContainKey("b1");
    assertThat(watch.size()).isEqualTo(1);

    // Already ended: seen again, or the stream ending again, changes nothing.
    watch.seen(a.ref(), new RequestStream.Final(answer));
    watch.abandonAll(a.ref(), CallWatch.CLIENT_GONE);
    assertThat(ended).containsEntry("a1", "answer").containsEntry("a2", CallWatch.CLIENT_GONE);

    watch.abandon(b.ref(), IntNode.valueOf(1), CallWatch.GATEWAY_TIMEOUT);
    assertThat(ended).containsEntry("b1", CallWatch.GATEWAY_TIMEOUT).hasSize(3);
    assertThat(watch.size()).isZero();
  }

  @Test
  void theSweepEndsWatchesPastTheirDeadline() throws Exception {
    CallWatch watch = new CallWatch(kit.system(), Duration.ofMillis(100));
    TestProbe<RequestStream.Event> a = kit.createTestProbe();
    Map<String, String> ended = new ConcurrentHashMap<>();
    watch.watch(a.ref(), IntNode.valueOf(5), (answer, why) -> ended.put("a5", String.valueOf(why)));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (ended.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(ended).containsOnly(Map.entry("a5", CallWatch.GATEWAY_TIMEOUT));
    assertThat(watch.size()).isZero();
  }
}
