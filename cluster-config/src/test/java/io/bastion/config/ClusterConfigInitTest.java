package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A config whose first cluster-related class to load is {@code ClusterConfig.Management} (a
 * {@code cluster.management} block) must load: the two classes' static initializers once formed a
 * cycle that left {@code Management.DEFAULT} null. Runs in its own JVM-wide class state only when
 * it is the first to touch these classes, so it also checks the resulting values.
 */
class ClusterConfigInitTest {

  @Test
  void managementBlockLoadsWhateverClassInitializesFirst() {
    ClusterConfig.Management m = new ClusterConfig.Management("127.0.0.1", 0, false);
    assertThat(m.enabled()).isFalse();
    assertThat(ClusterConfig.DEFAULT.management()).isNotNull();
    assertThat(ClusterConfig.Management.DEFAULT).isNotNull();
    BastionConfig c = ConfigLoader.parse(
        "cluster: {port: 0, management: {enabled: false}}\nmcp: {servers: []}\n", Path.of("t.yaml"), Map.of());
    assertThat(c.cluster().management().enabled()).isFalse();
    assertThat(c.cluster().port()).isZero();
  }
}
