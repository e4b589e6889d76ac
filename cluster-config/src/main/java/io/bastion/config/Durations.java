package io.bastion.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 1d}, bare seconds) and byte sizes. */
final class Durations {

  static final String EXPECTED = "a duration like 500ms, 30s, 5m, 1h or 1d (a bare number means seconds)";
  static final String EXPECTED_SIZE = "a size like 512KiB, 4MiB, 1GiB or a whole number of bytes";

  private static final Pattern DURATION = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)?");
  private static final Pattern SIZE = Pattern.compile("(\\d{1,13})\\s*(B|KiB|MiB|GiB)?");

  private Durations() {}

  /** Parses a positive duration; the exception message is ready for a {@link ConfigProblem}. */
  static Duration parse(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("expected " + EXPECTED + ", got " + ConfigNode.quote(text));
    }
    long amount = Long.parseLong(m.group(1));
    if (amount == 0) {
      throw new IllegalArgumentException("must be greater than zero, got " + ConfigNode.quote(text));
    }
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      case "m" -> Duration.ofMinutes(amount);
      case "h" -> Duration.ofHours(amount);
      case "d" -> Duration.ofDays(amount);
      default -> throw new IllegalStateException(unit);
    };
  }

  /** Parses a byte size ({@code 4MiB}, {@code 512KiB}, {@code 1GiB}, {@code 1024B} or {@code 1024}). */
  static long parseSize(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("expected " + EXPECTED_SIZE + ", got " + ConfigNode.quote(text));
    }
    long amount = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "B" : m.group(2);
    long factor = switch (unit) {
      case "B" -> 1L;
      case "KiB" -> 1L << 10;
      case "MiB" -> 1L << 20;
      case "GiB" -> 1L << 30;
      default -> throw new IllegalStateException(unit);
    };
    return Math.multiplyExact(amount, factor);
  }

  /** Short human form, e.g. {@code 30s}, {@code 500ms}, {@code 5m}. */
  static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 86_400_000L == 0) {
      return ms / 86_400_000L + "d";
    }
    if (ms % 3_600_000L == 0) {
      return ms / 3_600_000L + "h";
    }
    if (ms % 60_000L == 0) {
      return ms / 60_000L + "m";
    }
    if (ms % 1000L == 0) {
      return ms / 1000L + "s";
    }
    return ms + "ms";
  }

  /**
   * A size setting: {@code fallback} when absent, null (and a problem on {@code node}) when it is
   * not a size or lies outside {@code [min, max]}.
   */
  static Long readSize(ConfigNode node, long min, long max, long fallback) {
    if (!node.isSet()) {
      return fallback;
    }
    String text = node.scalarAsText(Durations.EXPECTED_SIZE);
    if (text == null) {
      return null;
    }
    long bytes;
    try {
      bytes = Durations.parseSize(text);
    } catch (IllegalArgumentException e) {
      node.error(e.getMessage());
      return null;
    } catch (ArithmeticException e) {
      bytes = Long.MAX_VALUE;
    }
    if (bytes < min || bytes > max) {
      node.error("expected a size from " + formatSize(min) + " to " + formatSize(max)
          + ", got " + ConfigNode.quote(text));
      return null;
    }
    return bytes;
  }

  static String formatSize(long bytes) {
    if (bytes % (1L << 30) == 0) {
      return (bytes >> 30) + "GiB";
    }
    if (bytes % (1L << 20) == 0) {
      return (bytes >> 20) + "MiB";
    }
    return bytes % 1024 == 0 ? (bytes >> 10) + "KiB" : bytes + "B";
  }
}
