package io.bastion.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CursorsTest {

  private static String b64(String raw) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  private static void assertInvalid(String kind, String cursor) {
    JsonRpcException e = catchThrowableOfType(JsonRpcException.class, () -> Cursors.decode(kind, cursor));
    assertThat(e).as("cursor %s for %s", cursor, kind).isNotNull();
    assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_PARAMS).isEqualTo(-32602);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 50, 12345, Integer.MAX_VALUE})
  void anEncodedCursorDecodesToItsOffset(int offset) {
    for (String kind : new String[] {"tools", "prompts", "resources", "resourceTemplates"}) {
      assertThat(Cursors.decode(kind, Cursors.encode(kind, offset))).isEqualTo(offset);
    }
  }

  @Test
  void cursorsAreOpaqueUrlSafeTextAndDeterministic() {
    String c = Cursors.encode("tools", 100);

    assertThat(c).matches("[A-Za-z0-9_-]+").doesNotContain("tools").doesNotContain("100");
    assertThat(Cursors.encode("tools", 100)).isEqualTo(c);
    assertThat(Cursors.encode("tools", 101)).isNotEqualTo(c);
  }

  @Test
  void aCursorOfAnotherKindIsRefused() {
    assertInvalid("prompts", Cursors.encode("tools", 10));
    assertInvalid("resources", Cursors.encode("resourceTemplates", 10));
    assertInvalid("resourceTemplates", Cursors.encode("resources", 10));
    assertInvalid("tool", Cursors.encode("tools", 10));
    assertInvalid("tools", Cursors.encode("tool", 10));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "garbage!!", "%%%", "not base64 at all", "AAAA", "Ym9ndXM", "===="})
  void garbageIsRefused(String cursor) {
    assertInvalid("tools", cursor);
  }

  @Test
  void handCraftedCursorsThatAreNotWellFormedAreRefused() {
    assertInvalid("tools", b64("bastion:1:tools:-1"));
    assertInvalid("tools", b64("bastion:1:tools:-2147483648"));
    assertInvalid("tools", b64("bastion:1:tools:"));
    assertInvalid("tools", b64("bastion:1:tools:abc"));
    assertInvalid("tools", b64("bastion:1:tools:1.5"));
    assertInvalid("tools", b64("bastion:1:tools:99999999999"));
    assertInvalid("tools", b64("bastion:2:tools:1"));
    assertInvalid("tools", b64("tools:1"));
    assertInvalid("tools", b64("bastion:1:tools:1:2"));
  }

  @Test
  void aHandCraftedWellFormedCursorIsAccepted() {
    assertThat(Cursors.decode("tools", b64("bastion:1:tools:7"))).isEqualTo(7);
  }
}
