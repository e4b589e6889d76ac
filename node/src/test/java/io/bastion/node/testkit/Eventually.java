package io.bastion.node.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one poll-until helper of the node's tests: reads a value every {@code every} until it
 * satisfies a condition or {@code within} has passed, then fails with the last value read. Use it
 * instead of a hand-written sleep loop; no test asserts on how long anything took.
 */
public final class Eventually {
  /** The default pause between two reads. */
  public static final Duration EVERY = Duration.ofMillis(50);

  private Eventually() {}

  /**
   * Reads {@code read} until {@code done} holds for the value, and returns that value; otherwise
   * fails with {@code failure} applied to the last value (null if nothing was read).
   */
  public static <T> T poll(Duration within, Duration every, Supplier<T> read, Predicate<T> done,
      Function<T, String> failure) {
    long deadline = System.nanoTime() + within.toNanos();
    T last = null;
    do {
      last = read.get();
      if (done.test(last)) {
        return last;
      }
      pause(every);
    } while (System.nanoTime() < deadline);
    throw new AssertionError(failure.apply(last));
  }

  /** Waits until {@code check} holds, checking every {@link #EVERY}; fails naming {@code what}. */
  public static void until(Duration within, BooleanSupplier check, String what) {
    poll(within, EVERY, check::getAsBoolean, ok -> ok, ok -> what + " did not happen within " + within);
  }

  /** A deliberate pause (not a poll): lets time pass, e.g. for a timer that must fire. */
  public static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
