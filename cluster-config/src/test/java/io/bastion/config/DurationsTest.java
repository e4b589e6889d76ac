package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void parsesEveryUnitAndBareSeconds() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("1d")).isEqualTo(Duration.ofDays(1));
    assertThat(Durations.parse("45")).isEqualTo(Duration.ofSeconds(45));
  }

  @Test
  void rejectsZeroNegativeAndUnknownUnits() {
    assertThatThrownBy(() -> Durations.parse("0s")).hasMessageContaining("greater than zero");
    assertThatThrownBy(() -> Durations.parse("-5s")).hasMessageStartingWith("expected a duration");
    assertThatThrownBy(() -> Durations.parse("1w")).hasMessageEndingWith("got \"1w\"");
    assertThatThrownBy(() -> Durations.parse("1.5s")).hasMessageStartingWith("expected a duration");
  }

  @Test
  void parsesSizes() {
    assertThat(Durations.parseSize("4MiB")).isEqualTo(4L << 20);
    assertThat(Durations.parseSize("512KiB")).isEqualTo(512L << 10);
    assertThat(Durations.parseSize("1GiB")).isEqualTo(1L << 30);
    assertThat(Durations.parseSize("1500")).isEqualTo(1500);
    assertThatThrownBy(() -> Durations.parseSize("4 megs")).hasMessageStartingWith("expected a size");
  }

  @Test
  void formatsShortForms() {
    assertThat(Durations.format(Duration.ofMinutes(1))).isEqualTo("1m");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }
}
