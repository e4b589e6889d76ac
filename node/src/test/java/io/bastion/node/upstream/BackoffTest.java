package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void delaysDoubleFromTheInitialOneUpToTheCap() {
    assertThat(Backoff.delayMillis(1000, 30_000, 1, 0)).isEqualTo(1000);
    assertThat(Backoff.delayMillis(1000, 30_000, 2, 0)).isEqualTo(2000);
    assertThat(Backoff.delayMillis(1000, 30_000, 5, 0)).isEqualTo(16_000);
    assertThat(Backoff.delayMillis(1000, 30_000, 6, 0)).isEqualTo(30_000);
    assertThat(Backoff.delayMillis(1000, 30_000, 1_000, 0.99)).isEqualTo(30_000);
  }

  @Test
  void jitterAddsUpToTwentyPercent() {
    assertThat(Backoff.delayMillis(1000, 30_000, 1, 0.5)).isEqualTo(1100);
    assertThat(Backoff.delayMillis(1000, 30_000, 2, 0.999)).isBetween(2000L, 2400L);
  }

  @Test
  void countsAttemptsUntilResetAndKeepsTheLastEightDelays() {
    Backoff b = new Backoff(Duration.ofMillis(10), Duration.ofMillis(100), () -> 0);
    for (int i = 0; i < 10; i++) {
      b.failed();
    }
    assertThat(b.attempts()).isEqualTo(10);
    assertThat(b.recent()).hasSize(Backoff.HISTORY).containsExactly(40L, 80L, 100L, 100L, 100L, 100L, 100L, 100L);
    b.reset();
    assertThat(b.attempts()).isZero();
    assertThat(b.failed()).isEqualTo(10);
    assertThat(b.recent()).hasSize(Backoff.HISTORY).endsWith(100L, 10L);
  }
}
