package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class InterpolationTest {

  private static String header(String value, Map<String, String> env) {
    String yaml = "mcp:\n  servers:\n    - name: a\n      type: http\n      url: http://h\n"
        + "      headers:\n        X: \"" + value + "\"\n";
    return Yaml.parse(yaml, env).servers().get(0).headers().get("X");
  }

  @Test
  void defaultIsUsedWhenTheVariableIsUnsetOrEmpty() {
    assertThat(header("${X:-def}", Map.of())).isEqualTo("def");
    assertThat(header("${X:-def}", Map.of("X", ""))).isEqualTo("def");
    assertThat(header("${X:-def}", Map.of("X", "set"))).isEqualTo("set");
  }

  @Test
  void defaultMayBeEmpty() {
    assertThat(header("a${X:-}b", Map.of())).isEqualTo("ab");
  }

  @Test
  void severalVariablesInOneString() {
    assertThat(header("Bearer ${A}-${B}/${A}", Map.of("A", "1", "B", "2"))).isEqualTo("Bearer 1-2/1");
  }

  @Test
  void doubleDollarEscapesALiteralPlaceholder() {
    assertThat(header("$${NOT_A_VAR} and ${A}", Map.of("A", "x"))).isEqualTo("${NOT_A_VAR} and x");
    assertThat(header("cost: $5 $$", Map.of())).isEqualTo("cost: $5 $$");
  }

  @Test
  void valuesAreNotReinterpolated() {
    assertThat(header("${A}", Map.of("A", "${B}", "B", "no"))).isEqualTo("${B}");
  }

  @Test
  void everyMissingVariableIsReportedAtItsPath() {
    ConfigException e = Yaml.failure("""
        mcp:
          servers:
            - name: a
              type: http
              url: ${URL}
              headers: {Authorization: "Bearer ${TOKEN} ${OTHER:-ok}"}
        """, Map.of());

    assertThat(e.problems()).extracting(p -> p.path() + " " + p.problem().split(" ")[2])
        .containsExactly("mcp.servers[0].url URL", "mcp.servers[0].headers.Authorization TOKEN");
  }

  @Test
  void unterminatedAndMalformedReferencesAreErrors() {
    assertThat(Yaml.failure(Yaml.stdioServer("cwd: \"${OOPS\"")).problem()).startsWith("unterminated");
    assertThat(Yaml.failure(Yaml.stdioServer("cwd: \"${A:default}\"")).problem())
        .startsWith("invalid variable reference \"${A:default}\"");
  }

  @Test
  void interpolatedTextCanFillNumbers() {
    BastionConfig config = Yaml.parse("gateway:\n  port: ${PORT:-9090}\n", Map.of());

    assertThat(config.gateway().port()).isEqualTo(9090);
  }

  @Test
  void literalQuotedNumberIsStillAWrongType() {
    assertThat(Yaml.problems("gateway:\n  port: \"9090\"\n"))
        .containsExactly("gateway.port: expected a whole number, got the string \"9090\"");
  }

  @Test
  void mapKeysAreNotInterpolated() {
    ServerConfig s = Yaml.parse(Yaml.stdioServer("env: {\"${K}\": v}"), Map.of()).servers().get(0);

    assertThat(s.env()).containsOnlyKeys("${K}");
  }
}
