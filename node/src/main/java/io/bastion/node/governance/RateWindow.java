package io.bastion.node.governance;

import java.util.ArrayList;
import java.util.List;

/**
 * The calls admitted under one rate limit ({@code requests} per {@code perMs}), for a sliding
 * window check that never admits more than {@code requests} calls in any interval of {@code
 * perMs}, in bounded memory.
 *
 * <ul>
 *   <li>Up to {@value #EXACT_MAX} requests per window it keeps an exact log: a ring of the
 *       admission times (8 bytes per allowed request). A call is admitted when fewer than {@code
 *       requests} calls happened in the last {@code perMs}.
 *   <li>Above that it keeps counts in {@value #BUCKETS} buckets of {@code perMs / 64} each (about
 *       1 KB, whatever the limit). A call is admitted when the buckets that overlap the last
 *       {@code perMs} hold fewer than {@code requests} calls. Counting whole buckets makes the
 *       check conservative: it never admits more than the limit in any window, and may refuse up
 *       to one bucket (1/64 of the window) early.
 * </ul>
 *
 * <p>Why not the earlier unbounded log of boxed timestamps: a limit of a million calls an hour
 * kept up to a million {@code Long}s per key in memory, and wrote them all to the journal on every
 * graceful stop. Not thread-safe: owned by one {@link BudgetEntity}.
 */
final class RateWindow {

  static final int EXACT_MAX = 4096;
  static final int BUCKETS = 64;

  private final long requests;
  private final long perMs;

  // Exact mode: ring of admission times, oldest at head.
  private final long[] ring;
  private int head;
  private int size;

  // Bucket mode: counts[slot] holds the calls of bucket index bucketOf[slot].
  private final long bucketMs;
  private final long[] counts;
  private final long[] bucketOf;

  RateWindow(long requests, long perMs) {
    if (requests < 1 || perMs < 1) {
      throw new IllegalArgumentException("rate limit needs requests >= 1 and per >= 1 ms");
    }
    this.requests = requests;
    this.perMs = perMs;
    if (requests <= EXACT_MAX) {
      this.ring = new long[(int) requests];
      this.bucketMs = 0;
      this.counts = null;
      this.bucketOf = null;
    } else {
      this.ring = null;
      this.bucketMs = Math.max(1, (perMs + BUCKETS - 1) / BUCKETS);
      // A window of perMs overlaps at most perMs / bucketMs + 2 buckets.
      int slots = (int) (perMs / bucketMs) + 2;
      this.counts = new long[slots];
      this.bucketOf = new long[slots];
      java.util.Arrays.fill(bucketOf, Long.MIN_VALUE);
    }
  }

  boolean sameLimit(long requests, long perMs) {
    return this.requests == requests && this.perMs == perMs;
  }

  /** True when one more call at {@code now} stays within the limit. */
  boolean allows(long now) {
    return count(now) < requests;
  }

  /** Milliseconds until a refused call could be admitted (at least 1). */
  long retryAfterMs(long now) {
    if (ring != null) {
      prune(now);
      return size == 0 ? 1 : Math.max(1, ring[head] + perMs - now);
    }
    long lo = Math.floorDiv(now - perMs, bucketMs);
    long oldest = Long.MAX_VALUE;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0 && bucketOf[i] >= lo && bucketOf[i] < oldest) {
        oldest = bucketOf[i];
      }
    }
    // The oldest counted bucket stops overlapping the window once now - perMs reaches its end.
    return oldest == Long.MAX_VALUE ? 1 : Math.max(1, (oldest + 1) * bucketMs + perMs - now);
  }

  /** Milliseconds until every call counted now has left the window (0 when none is counted). */
  long clearAfterMs(long now) {
    if (ring != null) {
      prune(now);
      return size == 0 ? 0 : Math.max(1, ring[(head + size - 1) % ring.length] + perMs - now);
    }
    long lo = Math.floorDiv(now - perMs, bucketMs);
    long newest = Long.MIN_VALUE;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0 && bucketOf[i] >= lo && bucketOf[i] > newest) {
        newest = bucketOf[i];
      }
    }
    return newest == Long.MIN_VALUE ? 0 : Math.max(1, (newest + 1) * bucketMs + perMs - now);
  }

  /** Records {@code n} calls admitted at {@code at}. */
  void record(long at, long n) {
    if (ring != null) {
      for (long i = 0; i < n; i++) {
        if (size == ring.length) { // full: the oldest is overwritten (only on restore of old data)
          head = (head + 1) % ring.length;
          size--;
        }
        ring[(head + size) % ring.length] = at;
        size++;
      }
      return;
    }
    long b = Math.floorDiv(at, bucketMs);
    int slot = (int) Math.floorMod(b, (long) counts.length);
    if (bucketOf[slot] != b) {
      if (bucketOf[slot] < b) {
        bucketOf[slot] = b;
        counts[slot] = 0;
      }
      // else the slot holds a newer bucket (the clock stepped back): counting the calls there
      // keeps them in the window a little longer, which errs on the safe side.
    }
    counts[slot] += n;
  }

  /** Calls counted against a call at {@code now}. */
  long count(long now) {
    if (ring != null) {
      prune(now);
      return size;
    }
    long lo = Math.floorDiv(now - perMs, bucketMs);
    long sum = 0;
    for (int i = 0; i < counts.length; i++) {
      if (bucketOf[i] >= lo) {
        sum += counts[i];
      }
    }
    return sum;
  }

  /** What to persist on a graceful stop: pairs {@code [time, calls, time, calls, …]} still in the window. */
  List<Long> snapshot(long now) {
    List<Long> out = new ArrayList<>();
    if (ring != null) {
      prune(now);
      for (int i = 0; i < size; i++) {
        out.add(ring[(head + i) % ring.length]);
        out.add(1L);
      }
      return out;
    }
    long lo = Math.floorDiv(now - perMs, bucketMs);
    for (int i = 0; i < counts.length; i++) {
      if (bucketOf[i] >= lo && counts[i] > 0) {
        out.add(bucketOf[i] * bucketMs);
        out.add(counts[i]);
      }
    }
    return out;
  }

  /** Restores pairs written by {@link #snapshot}. */
  void restore(List<Long> pairs) {
    for (int i = 0; i + 1 < pairs.size(); i += 2) {
      record(pairs.get(i), pairs.get(i + 1));
    }
  }

  private void prune(long now) {
    long from = now - perMs;
    while (size > 0 && ring[head] <= from) {
      head = (head + 1) % ring.length;
      size--;
    }
  }
}
