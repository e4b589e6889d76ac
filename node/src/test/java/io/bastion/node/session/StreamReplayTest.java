package io.bastion.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.testkit.TestConfigs;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamReplay} on its own: a resumption gets the events after the id it names, exactly
 * once and in order, then (following a POST's stream) the later ones until the last; buffers are
 * bounded per stream and per session; an unknown stream is reported as such.
 */
class StreamReplayTest {
  private static final Duration LONG = Duration.ofHours(1);
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("stream-replay", TestConfigs.local());
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static ObjectNode msg(int n) {
    return Json.object().put("jsonrpc", "2.0").put("method", "notifications/progress").put("n", n);
  }

  private final TestProbe<ClusterSharding.ShardCommand> shard = kit.createTestProbe();
  private final ActorRef<StreamReplay.Command> replay = kit.spawn(StreamReplay.create(LONG, shard.getRef()));

  private void record(String stream, int from, int to, boolean lastIsFinal) {
    for (int i = from; i <= to; i++) {
      replay.tell(new StreamReplay.Record(stream, i, msg(i), lastIsFinal && i == to));
    }
  }

  /** Resumes {@code stream} after {@code after} to {@code to}; checks whether the stream was known. */
  private void resume(String stream, long after, boolean follow, TestProbe<StreamReplay.Replayed> to,
      boolean expectKnown) {
    TestProbe<Boolean> known = kit.createTestProbe();
    replay.tell(new StreamReplay.Resume(stream, after, follow, to.getRef(), known.getRef()));
    assertThat(known.receiveMessage()).isEqualTo(expectKnown);
  }

  private static List<StreamReplay.Replayed> untilEnd(TestProbe<StreamReplay.Replayed> to) {
    List<StreamReplay.Replayed> got = new ArrayList<>();
    while (got.isEmpty() || !got.get(got.size() - 1).end()) {
      got.add(to.receiveMessage());
    }
    return got;
  }

  @Test
  void aPostStreamIsReplayedAfterTheGivenIdThenFollowedUntilItsAnswer() {
    record("pA", 1, 3, false);
    TestProbe<StreamReplay.Replayed> to = kit.createTestProbe();
    resume("pA", 1, true, to, true);
    assertThat(to.receiveMessage().eventId()).isEqualTo("pA:2");
    assertThat(to.receiveMessage().eventId()).isEqualTo("pA:3");
    to.expectNoMessage(Duration.ofMillis(100));
    record("pA", 4, 5, true);
    StreamReplay.Replayed four = to.receiveMessage();
    StreamReplay.Replayed five = to.receiveMessage();
    assertThat(four.eventId()).isEqualTo("pA:4");
    assertThat(four.end()).isFalse();
    assertThat(five.eventId()).isEqualTo("pA:5");
    assertThat(five.json().get("n").asInt()).isEqualTo(5);
    assertThat(five.end()).isTrue();
    to.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void anEndedStreamIsReplayedToItsEndAndAClientThatSawEverythingGetsJustTheEnd() {
    record("pB", 1, 4, true);
    TestProbe<StreamReplay.Replayed> to = kit.createTestProbe();
    resume("pB", 2, true, to, true);
    List<StreamReplay.Replayed> got = untilEnd(to);
    assertThat(got).extracting(StreamReplay.Replayed::eventId).containsExactly("pB:3", "pB:4");
    TestProbe<StreamReplay.Replayed> again = kit.createTestProbe();
    resume("pB", 4, true, again, true);
    StreamReplay.Replayed end = again.receiveMessage();
    assertThat(end.end()).isTrue();
    assertThat(end.json()).isNull();
  }

  @Test
  void aGetStreamIsReplayedButNotFollowed() {
    record("gC", 1, 3, false);
    TestProbe<StreamReplay.Replayed> to = kit.createTestProbe();
    resume("gC", 0, false, to, true);
    List<StreamReplay.Replayed> got = untilEnd(to);
    assertThat(got).extracting(StreamReplay.Replayed::eventId).containsExactly("gC:1", "gC:2", "gC:3", null);
    record("gC", 4, 4, false);
    to.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void eachStreamKeepsItsLastEventsOnlyAndTheSessionItsMostRecentStreams() {
    record("pD", 1, StreamReplay.MAX_EVENTS + 10, false);
    TestProbe<StreamReplay.Replayed> to = kit.createTestProbe();
    resume("pD", 0, false, to, true);
    List<StreamReplay.Replayed> got = untilEnd(to);
    assertThat(got).hasSize(StreamReplay.MAX_EVENTS + 1);
    assertThat(got.get(0).eventId()).isEqualTo("pD:11");
    for (int s = 0; s < StreamReplay.MAX_STREAMS; s++) {
      record("pE" + s, 1, 1, true);
    }
    // One stream too many: the oldest ended one goes; pD, older but still running, stays.
    resume("pE0", 0, false, kit.createTestProbe(), false);
    resume("pE1", 0, false, kit.createTestProbe(), true);
    resume("pD", 0, false, kit.createTestProbe(), true);
  }

  @Test
  void anUnknownGetStreamIsReportedAndForgetDropsEverything() {
    TestProbe<StreamReplay.Replayed> to = kit.createTestProbe();
    resume("gNone", 0, false, to, false);
    to.expectNoMessage(Duration.ofMillis(100));
    record("gF", 1, 1, false);
    replay.tell(StreamReplay.Forget.INSTANCE);
    shard.expectMessageClass(ClusterSharding.Passivate.class);
    resume("gF", 0, false, kit.createTestProbe(), false);
  }

  @Test
  void aPostStreamWhoseRecordsArriveAfterTheResumptionIsFollowedWithoutRepeatingWhatTheClientHas() {
    TestProbe<StreamReplay.Replayed> to = kit.createTestProbe();
    // The client saw event 2; the records of events 1..2 reach the buffer only after it resumed.
    resume("pLate", 2, true, to, true);
    record("pLate", 1, 4, true);
    assertThat(untilEnd(to)).extracting(StreamReplay.Replayed::eventId).containsExactly("pLate:3", "pLate:4");
    to.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aStreamCutRightAfterItsPrimingEventIsKnownAndFollowedFromItsFirstMessage() {
    replay.tell(new StreamReplay.Record("pG", 0, null, false));
    TestProbe<StreamReplay.Replayed> to = kit.createTestProbe();
    resume("pG", 0, true, to, true);
    to.expectNoMessage(Duration.ofMillis(100));
    record("pG", 1, 2, true);
    assertThat(untilEnd(to)).extracting(StreamReplay.Replayed::eventId).containsExactly("pG:1", "pG:2");
  }
}
