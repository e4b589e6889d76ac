package io.bastion.node.upstream;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The reconnect pacing of one upstream: capped exponential backoff with jitter,
 * {@code min(max, initial·2^(n-1)·(1+U[0,0.2)))} for the n-th consecutive failed attempt, and the
 * last {@value #HISTORY} delays chosen (shown to operators in {@code /api/v1/servers}).
 *
 * <p>Owned by one {@link UpstreamServer} and used only on its thread: not thread-safe.
 */
final class Backoff {

  /** How many recent delays are kept. */
  static final int HISTORY = 8;

  private final long minMillis;
  private final long maxMillis;
  private final DoubleSupplier random;
  private final ArrayDeque<Long> recent = new ArrayDeque<>();
  private int attempts;

  /** @param random uniform in [0, 1), the source of the jitter */
  Backoff(Duration min, Duration max, DoubleSupplier random) {
    this.minMillis = min.toMillis();
    this.maxMillis = max.toMillis();
    this.random = random;
  }

  Backoff(Duration min, Duration max) {
    this(min, max, () -> ThreadLocalRandom.current().nextDouble());
  }

  /** The delay of the {@code attempt}-th consecutive failure (1-based) with jitter {@code u} in [0, 1). */
  static long delayMillis(long minMillis, long maxMillis, int attempt, double u) {
    double base = minMillis * Math.pow(2, Math.min(Math.max(attempt, 1) - 1, 30));
    double jittered = base * (1 + 0.2 * u);
    return (long) Math.min(maxMillis, jittered);
  }

  /** Records one more failed attempt and returns the delay before the next one. */
  long failed() {
    attempts++;
    long delay = delayMillis(minMillis, maxMillis, attempts, random.getAsDouble());
    recent.addLast(delay);
    while (recent.size() > HISTORY) {
      recent.removeFirst();
    }
    return delay;
  }

  /** The connection became ready: the next failure starts from the initial delay again. */
  void reset() {
    attempts = 0;
  }

  /** Consecutive failed attempts since the last {@link #reset}. */
  int attempts() {
    return attempts;
  }

  /** The last delays chosen, oldest first (kept across {@link #reset}). */
  List<Long> recent() {
    return List.copyOf(recent);
  }
}
