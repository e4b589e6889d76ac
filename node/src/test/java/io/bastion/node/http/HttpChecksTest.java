package io.bastion.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpChecksTest {

  @ParameterizedTest
  @ValueSource(strings = {"application/json, text/event-stream", "*/*", "text/html, */*;q=0.1",
      "APPLICATION/JSON;q=0.9, text/event-stream", " application/json ; charset=utf-8"})
  void acceptsWhatNamesTheMediaTypeOrAnything(String accept) {
    assertThat(HttpChecks.accepts(Optional.of(accept), "application/json")).isTrue();
  }

  /** Regression (found by EdgeFuzzTest): a part that is empty or parameters only threw, and the edge answered 500. */
  @ParameterizedTest
  @ValueSource(strings = {";", ",", ", ;", ";q=1", " ; ", ";;,;", "", "text/html;", "application/jsonx"})
  void refusesMalformedOrOtherAcceptHeadersWithoutThrowing(String accept) {
    assertThat(HttpChecks.accepts(Optional.of(accept), "application/json")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {";, application/json", "application/json;q=0.5,;"})
  void findsTheMediaTypeBesideMalformedParts(String accept) {
    assertThat(HttpChecks.accepts(Optional.of(accept), "application/json")).isTrue();
  }
}
