package io.bastion.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * The defaults are split by concern into files joined with {@code include} (bastion-node.conf,
 * bastion-cluster.conf, bastion-http.conf, bastion-metrics.conf, and persistence's reference.conf).
 * Every key the single reference.conf had before the split must resolve to the same value through
 * the classpath's merged reference config.
 */
class ReferenceConfigTest {

  @Test
  void everyKeyFromBeforeTheSplitResolvesToTheSameValue() throws Exception {
    Map<String, String> before = new LinkedHashMap<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        ReferenceConfigTest.class.getResourceAsStream("/reference-keys-before-split.txt"), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        int eq = line.indexOf(" = ");
        before.put(line.substring(0, eq), line.substring(eq + 3));
      }
    }
    assertThat(before).hasSizeGreaterThan(50);

    Config reference = ConfigFactory.defaultReference();
    SoftAssertions soft = new SoftAssertions();
    before.forEach((key, value) -> {
      soft.assertThat(reference.hasPath(key)).as("%s is present", key).isTrue();
      if (reference.hasPath(key)) {
        soft.assertThat(reference.getValue(key).render(ConfigRenderOptions.concise())).as(key).isEqualTo(value);
      }
    });
    soft.assertAll();
  }

  @Test
  void nodeSettingsReadTheSameDefaults() {
    assertThat(NodeSettings.fromConfig(ConfigFactory.load())).isEqualTo(new NodeSettings(Duration.ofSeconds(5), 100,
        Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMinutes(10), Duration.ofSeconds(15),
        Duration.ofSeconds(20), Duration.ofSeconds(10), Duration.ofSeconds(2),
        Duration.ofSeconds(30), Duration.ZERO, Duration.ofSeconds(1), "netty",
        Duration.ofSeconds(4)));
    assertThat(ConfigFactory.load().getDuration("bastion.metrics.sample-interval")).hasSeconds(1);
    assertThat(ConfigFactory.load().getBoolean("bastion.cluster.management-enabled")).isTrue();
  }

  @Test
  void anUnknownUpstreamHttpClientIsRefusedByName() {
    var bad = ConfigFactory.parseString("bastion.node.upstream-http-client = nety").withFallback(ConfigFactory.load());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> NodeSettings.fromConfig(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bastion.node.upstream-http-client must be \"netty\" or \"pekko\", not \"nety\"");
  }
}
