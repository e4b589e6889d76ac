package io.bastion.node.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RateWindowTest {

  /** Admits like a gate would: check, then record. */
  private static boolean admit(RateWindow w, long now) {
    if (!w.allows(now)) {
      return false;
    }
    w.record(now, 1);
    return true;
  }

  @Test
  void exactModeAdmitsTheLimitThenRefusesUntilTheOldestCallLeaves() {
    RateWindow w = new RateWindow(3, 1_000);
    assertThat(admit(w, 0)).isTrue();
    assertThat(admit(w, 100)).isTrue();
    assertThat(admit(w, 200)).isTrue();
    assertThat(admit(w, 300)).isFalse();
    assertThat(w.retryAfterMs(300)).isEqualTo(700); // the call at 0 leaves the window at 1000
    assertThat(admit(w, 999)).isFalse();
    assertThat(admit(w, 1_000)).isTrue(); // (0, 1000]: the call at 0 is out
    assertThat(admit(w, 1_050)).isFalse();
    assertThat(admit(w, 1_100)).isTrue();
  }

  @Test
  void clearAfterIsWhenTheNewestCountedCallLeavesTheWindow() {
    RateWindow w = new RateWindow(3, 1_000);
    assertThat(w.clearAfterMs(0)).isZero(); // nothing counted
    w.record(100, 1);
    w.record(400, 1);
    assertThat(w.clearAfterMs(500)).isEqualTo(900); // the call at 400 leaves at 1400
    assertThat(w.retryAfterMs(500)).isEqualTo(600); // the call at 100 leaves at 1100
    assertThat(w.clearAfterMs(1_200)).isEqualTo(200);
    assertThat(w.clearAfterMs(1_400)).isZero();

    // Bucket mode: the newest bucket's end plus the window, never earlier than its calls leave.
    RateWindow b = new RateWindow(RateWindow.EXACT_MAX + 1, 64_000); // buckets of 1000 ms
    b.record(10_500, 5);
    b.record(20_200, 5);
    assertThat(b.count(21_000)).isEqualTo(10);
    assertThat(b.clearAfterMs(21_000)).isEqualTo(21_000 + 64_000 - 21_000); // bucket [20000, 21000) + 64 s
    assertThat(b.clearAfterMs(21_000) + 21_000).isGreaterThanOrEqualTo(20_200 + 64_000);
    assertThat(b.clearAfterMs(90_000)).isZero();
  }

  @Test
  void bucketModeNeverAdmitsMoreThanTheLimitInAnyWindow() {
    long limit = RateWindow.EXACT_MAX + 1_000; // bucket mode
    long per = 60_000;
    RateWindow w = new RateWindow(limit, per);
    Random random = new Random(42);
    List<Long> admitted = new ArrayList<>();
    long now = 1_000_000;
    for (int i = 0; i < 200_000; i++) {
      now += random.nextInt(3); // bursts of calls in the same millisecond, and gaps
      if (admit(w, now)) {
        admitted.add(now);
      }
    }
    // Sliding check over every admitted call: at most `limit` calls in (t - per, t].
    int from = 0;
    for (int to = 0; to < admitted.size(); to++) {
      while (admitted.get(from) <= admitted.get(to) - per) {
        from++;
      }
      assertThat(to - from + 1).as("calls in the window ending at %d", admitted.get(to)).isLessThanOrEqualTo((int) limit);
    }
    // Conservative by at most one bucket: over the run (≈ 200 s) it admitted nearly the limit per window.
    assertThat(admitted.size()).isGreaterThan((int) (limit * 3 * 0.9));
  }

  @Test
  void bucketModeRefusesWithARetryHintWithinTheWindow() {
    RateWindow w = new RateWindow(10_000, 64_000); // buckets of 1 s
    for (int i = 0; i < 10_000; i++) {
      assertThat(admit(w, 5_500)).isTrue();
    }
    assertThat(admit(w, 6_000)).isFalse();
    long retry = w.retryAfterMs(6_000);
    // The bucket [5000, 6000) stops overlapping the window when now - 64000 reaches 6000.
    assertThat(retry).isEqualTo(64_000);
    assertThat(admit(w, 6_000 + retry - 1)).isFalse();
    assertThat(admit(w, 6_000 + retry)).isTrue();
  }

  @Test
  void memoryStaysBoundedWhateverTheLimit() {
    RateWindow w = new RateWindow(1_000_000_000L, 3_600_000);
    for (long t = 0; t < 1_000_000; t++) {
      w.record(t, 1);
    }
    assertThat(w.count(1_000_000)).isEqualTo(1_000_000);
    assertThat(w.snapshot(1_000_000).size()).isLessThanOrEqualTo(2 * (RateWindow.BUCKETS + 2));
  }

  @Test
  void snapshotAndRestoreKeepTheCounts() {
    RateWindow exact = new RateWindow(5, 10_000);
    admit(exact, 1);
    admit(exact, 2);
    RateWindow back = new RateWindow(5, 10_000);
    back.restore(exact.snapshot(3));
    assertThat(back.count(3)).isEqualTo(2);

    RateWindow buckets = new RateWindow(100_000, 10_000);
    for (int i = 0; i < 500; i++) {
      admit(buckets, 1_000 + i);
    }
    RateWindow restored = new RateWindow(100_000, 10_000);
    restored.restore(buckets.snapshot(2_000));
    assertThat(restored.count(2_000)).isEqualTo(500);
    assertThat(restored.count(1_000 + 500 + 10_000 + 1_000)).isZero();
  }

  @Test
  void rejectsAnEmptyLimit() {
    assertThatThrownBy(() -> new RateWindow(0, 1_000)).isInstanceOf(IllegalArgumentException.class);
  }
}
