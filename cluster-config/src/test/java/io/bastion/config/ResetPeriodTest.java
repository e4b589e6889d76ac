package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ResetPeriodTest {

  private static Instant at(String iso) {
    return Instant.parse(iso);
  }

  @Test
  void minuteResetsAtTheNextWholeMinute() {
    assertThat(ResetPeriod.MINUTE.nextReset(at("2026-03-10T10:15:42.5Z"))).isEqualTo(at("2026-03-10T10:16:00Z"));
    assertThat(ResetPeriod.MINUTE.nextReset(at("2026-03-10T10:15:00Z"))).isEqualTo(at("2026-03-10T10:16:00Z"));
  }

  @Test
  void fiveMinutesResetsOnMultiplesOfFive() {
    assertThat(ResetPeriod.FIVE_MINUTES.nextReset(at("2026-03-10T10:17:01Z"))).isEqualTo(at("2026-03-10T10:20:00Z"));
    assertThat(ResetPeriod.FIVE_MINUTES.nextReset(at("2026-03-10T10:55:00Z"))).isEqualTo(at("2026-03-10T11:00:00Z"));
  }

  @Test
  void hourResetsAtTheNextHour() {
    assertThat(ResetPeriod.HOUR.nextReset(at("2026-12-31T23:59:59Z"))).isEqualTo(at("2027-01-01T00:00:00Z"));
  }

  @Test
  void dayResetsAtUtcMidnight() {
    assertThat(ResetPeriod.DAY.nextReset(at("2026-03-10T00:00:00Z"))).isEqualTo(at("2026-03-11T00:00:00Z"));
    assertThat(ResetPeriod.DAY.nextReset(at("2028-02-28T13:00:00Z"))).isEqualTo(at("2028-02-29T00:00:00Z"));
  }

  @Test
  void weekResetsOnMondayUtc() {
    // 2026-03-10 is a Tuesday; 2026-03-16 a Monday.
    assertThat(ResetPeriod.WEEK.nextReset(at("2026-03-10T12:00:00Z"))).isEqualTo(at("2026-03-16T00:00:00Z"));
    assertThat(ResetPeriod.WEEK.nextReset(at("2026-03-16T00:00:00Z"))).isEqualTo(at("2026-03-23T00:00:00Z"));
  }

  @Test
  void monthResetsOnTheFirstIncludingRollover() {
    assertThat(ResetPeriod.MONTH.nextReset(at("2026-01-31T18:30:00Z"))).isEqualTo(at("2026-02-01T00:00:00Z"));
    assertThat(ResetPeriod.MONTH.nextReset(at("2026-12-15T00:00:00Z"))).isEqualTo(at("2027-01-01T00:00:00Z"));
    assertThat(ResetPeriod.MONTH.nextReset(at("2026-02-01T00:00:00Z"))).isEqualTo(at("2026-03-01T00:00:00Z"));
  }

  @Test
  void yamlNamesAreCaseSensitive() {
    assertThat(ResetPeriod.fromYaml("1m")).contains(ResetPeriod.MINUTE);
    assertThat(ResetPeriod.fromYaml("1M")).contains(ResetPeriod.MONTH);
    assertThat(ResetPeriod.fromYaml("2w")).isEmpty();
    assertThat(ResetPeriod.allowedNames()).isEqualTo("1m, 5m, 1h, 1d, 1w, 1M");
  }
}
