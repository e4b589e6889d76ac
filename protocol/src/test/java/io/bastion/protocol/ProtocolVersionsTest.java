package io.bastion.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProtocolVersionsTest {

  @ParameterizedTest
  @ValueSource(strings = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"})
  void aSupportedVersionIsNegotiatedToItself(String v) {
    assertThat(ProtocolVersions.isSupported(v)).isTrue();
    assertThat(ProtocolVersions.negotiate(v)).isEqualTo(v);
  }

  @ParameterizedTest
  @ValueSource(strings = {"2099-01-01", "2024-10-07", "", "latest", "2025-11-25 "})
  void anUnknownVersionIsNegotiatedToTheLatest(String v) {
    assertThat(ProtocolVersions.isSupported(v)).isFalse();
    assertThat(ProtocolVersions.negotiate(v)).isEqualTo(ProtocolVersions.LATEST).isEqualTo("2025-11-25");
  }

  @Test
  void aMissingVersionIsNotSupportedAndNegotiatesToTheLatest() {
    assertThat(ProtocolVersions.isSupported(null)).isFalse();
    assertThat(ProtocolVersions.negotiate(null)).isEqualTo(ProtocolVersions.LATEST);
  }

  @Test
  void supportedVersionsAreListedNewestFirstWithTheLatestAtTheHead() {
    assertThat(ProtocolVersions.SUPPORTED).first().isEqualTo(ProtocolVersions.LATEST);
    assertThat(ProtocolVersions.SUPPORTED).isSortedAccordingTo((a, b) -> b.compareTo(a));
    assertThat(ProtocolVersions.SUPPORTED).contains(ProtocolVersions.ASSUMED_WHEN_ABSENT);
  }

  @ParameterizedTest
  @ValueSource(strings = {"2025-03-26", "2024-11-05"})
  void batchesAreAllowedBefore2025_06_18(String v) {
    assertThat(ProtocolVersions.allowsBatches(v)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"2025-06-18", "2025-11-25", "2099-01-01"})
  void batchesAreRefusedFrom2025_06_18On(String v) {
    assertThat(ProtocolVersions.allowsBatches(v)).isFalse();
    assertThat(ProtocolVersions.allowsBatches(null)).isFalse();
  }
}
