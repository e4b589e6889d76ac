package io.bastion.config;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How often a budget starts again. Windows are aligned to UTC calendar boundaries: {@code 5m} resets
 * at :00, :05, ...; {@code 1d} at midnight UTC; {@code 1w} on Monday 00:00 UTC; {@code 1M} on the
 * first of the month 00:00 UTC.
 */
public enum ResetPeriod {
  MINUTE("1m", 1, ChronoUnit.MINUTES),
  FIVE_MINUTES("5m", 5, ChronoUnit.MINUTES),
  HOUR("1h", 1, ChronoUnit.HOURS),
  DAY("1d", 1, ChronoUnit.DAYS),
  WEEK("1w", 1, ChronoUnit.WEEKS),
  MONTH("1M", 1, ChronoUnit.MONTHS);

  private final String yamlName;
  private final long amount;
  private final ChronoUnit unit;

  ResetPeriod(String yamlName, long amount, ChronoUnit unit) {
    this.yamlName = yamlName;
    this.amount = amount;
    this.unit = unit;
  }

  public String yamlName() {
    return yamlName;
  }

  /** The length as amount × unit, e.g. 5 × MINUTES or 1 × MONTHS. */
  public long amount() {
    return amount;
  }

  public ChronoUnit unit() {
    return unit;
  }

  /** The length as a Duration; for {@link #MONTH} an estimate (ISO average month), use {@link #nextReset} instead. */
  public Duration approximateLength() {
    return unit.getDuration().multipliedBy(amount);
  }

  /** The first window boundary strictly after {@code now}, in UTC. */
  public Instant nextReset(Instant now) {
    ZonedDateTime t = now.atZone(ZoneOffset.UTC);
    ZonedDateTime next = switch (this) {
      case MINUTE -> t.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
      case FIVE_MINUTES -> {
        ZonedDateTime minute = t.truncatedTo(ChronoUnit.MINUTES);
        yield minute.minusMinutes(minute.getMinute() % 5).plusMinutes(5);
      }
      case HOUR -> t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
      case DAY -> t.truncatedTo(ChronoUnit.DAYS).plusDays(1);
      case WEEK -> t.truncatedTo(ChronoUnit.DAYS).with(TemporalAdjusters.next(DayOfWeek.MONDAY));
      case MONTH -> t.truncatedTo(ChronoUnit.DAYS).with(TemporalAdjusters.firstDayOfNextMonth());
    };
    return next.toInstant();
  }

  /** The period named {@code yamlName} (case-sensitive: {@code 1m} is a minute, {@code 1M} a month). */
  public static Optional<ResetPeriod> fromYaml(String yamlName) {
    return Arrays.stream(values()).filter(p -> p.yamlName.equals(yamlName)).findFirst();
  }

  /** {@code 1m, 5m, 1h, 1d, 1w, 1M}. */
  public static String allowedNames() {
    return Arrays.stream(values()).map(ResetPeriod::yamlName).collect(Collectors.joining(", "));
  }
}
