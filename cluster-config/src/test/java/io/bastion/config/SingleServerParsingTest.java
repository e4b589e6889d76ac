package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import org.junit.jupiter.api.Test;

/** {@link ConfigLoader#parseServer}: one server as the admin API receives it, read by the file's reader. */
class SingleServerParsingTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode json(String s) throws Exception {
    return JSON.readTree(s);
  }

  @Test
  void aValidHttpServerIsRead() throws Exception {
    ServerConfig s = ConfigLoader.parseServer(json("""
        {"name": "docs", "type": "http", "url": "http://127.0.0.1:9/mcp", "tool_prefix": "d"}"""), null);
    assertThat(s.name()).isEqualTo("docs");
    assertThat(s.type()).isEqualTo(TransportType.HTTP);
    assertThat(s.url()).isEqualTo(URI.create("http://127.0.0.1:9/mcp"));
    assertThat(s.toolPrefix()).isEqualTo("d");
  }

  @Test
  void problemsCarryTheirPathsAndAllAreReported() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.parseServer(json("""
        {"name": "bad name!", "type": "http", "url": "ftp://x", "command": ["x"]}"""), null))
        .isInstanceOfSatisfying(ConfigException.class, e -> {
          assertThat(e.problems()).extracting(ConfigProblem::path)
              .contains("name", "url", "command");
          assertThat(e.problems()).filteredOn(p -> p.path().equals("url")).first()
              .extracting(ConfigProblem::problem).asString().contains("expected an http(s) URL");
        });
  }

  @Test
  void notAMapIsOneProblemAtTheRoot() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.parseServer(json("[1]"), null))
        .isInstanceOf(ConfigException.class);
  }
}
