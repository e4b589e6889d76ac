package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TokenCipherTest {

  @Test
  void sealsAndOpensWithoutShowingThePlainText() {
    TokenCipher c = TokenCipher.of(TokenCipher.newKey(), List.of());

    String sealed = c.seal("eyJ-secret-token");

    assertThat(sealed).startsWith("v1." + c.currentKeyId() + ".").doesNotContain("secret");
    assertThat(c.open(sealed)).isEqualTo("eyJ-secret-token");
    assertThat(c.seal("eyJ-secret-token")).isNotEqualTo(sealed);
    assertThat(c.seal(null)).isNull();
    assertThat(c.open(null)).isNull();
  }

  @Test
  void aRotatedOutKeyStillOpensOldValuesAndNewValuesUseTheNewKey() {
    String oldKey = TokenCipher.newKey();
    String newKey = TokenCipher.newKey();
    String sealedBefore = TokenCipher.of(oldKey, List.of()).seal("refresh-1");

    TokenCipher rotated = TokenCipher.of(newKey, List.of(oldKey));

    assertThat(rotated.open(sealedBefore)).isEqualTo("refresh-1");
    assertThat(rotated.stale(sealedBefore)).isTrue();
    assertThat(rotated.stale(rotated.seal("refresh-2"))).isFalse();
    assertThatThrownBy(() -> TokenCipher.of(newKey, List.of()).open(sealedBefore))
        .hasMessageContaining("not configured").hasMessageNotContaining("refresh-1");
  }

  @Test
  void tamperingAndBadKeysAreRefused() {
    TokenCipher c = TokenCipher.of(TokenCipher.newKey(), List.of());
    String sealed = c.seal("access");
    String tampered = sealed.substring(0, sealed.length() - 2) + (sealed.endsWith("A") ? "BB" : "AA");

    assertThatThrownBy(() -> c.open(tampered)).hasMessageContaining("failed authentication");
    assertThatThrownBy(() -> TokenCipher.of("c2hvcnQ=", List.of())).hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> TokenCipher.of("not base64 !!", List.of())).hasMessageContaining("not base64");
  }
}
