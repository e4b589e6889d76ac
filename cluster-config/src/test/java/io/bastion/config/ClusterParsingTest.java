package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterParsingTest {

  @Test
  void everyClusterKeyIsRead() {
    ClusterConfig c = Yaml.parse("""
        cluster:
          host: 10.0.0.5
          port: 25521
          seed_nodes: ["10.0.0.5:25520", "node-b.bastion.svc:25520", "[::1]:25522"]
          management: {host: 0.0.0.0, port: 8558, enabled: false}
        """).cluster();

    assertThat(c).isEqualTo(new ClusterConfig("10.0.0.5", 25521,
        List.of("10.0.0.5:25520", "node-b.bastion.svc:25520", "[::1]:25522"),
        new ClusterConfig.Management("0.0.0.0", 8558, false)));
    assertThat(c.seedAddresses()).containsExactly("pekko://bastion@10.0.0.5:25520",
        "pekko://bastion@node-b.bastion.svc:25520", "pekko://bastion@[::1]:25522");
  }

  @Test
  void absentOrEmptyBlockMeansAClusterOfOneWithManagementOn7626() {
    assertThat(Yaml.parse("gateway: {port: 8080}").cluster()).isEqualTo(ClusterConfig.DEFAULT);
    assertThat(Yaml.parse("cluster: {}").cluster()).isEqualTo(ClusterConfig.DEFAULT);
    assertThat(ClusterConfig.DEFAULT.host()).isEqualTo("127.0.0.1");
    assertThat(ClusterConfig.DEFAULT.port()).isEqualTo(25520);
    assertThat(ClusterConfig.DEFAULT.seedNodes()).isEmpty();
    assertThat(ClusterConfig.DEFAULT.management()).isEqualTo(new ClusterConfig.Management("127.0.0.1", 7626, true));
    ClusterConfig partial = Yaml.parse("cluster: {port: 0, management: {port: 0}}").cluster();
    assertThat(partial.port()).isZero();
    assertThat(partial.management()).isEqualTo(new ClusterConfig.Management("127.0.0.1", 0, true));
  }

  @Test
  void seedNodesMustBeHostColonPort() {
    assertThat(Yaml.problems("cluster: {seed_nodes: [\"127.0.0.1:25520\", \"x\"]}"))
        .containsExactly("cluster.seed_nodes[1]: expected host:port, got \"x\"");
    assertThat(Yaml.problems("cluster: {seed_nodes: [\"pekko://bastion@h:1\", \"h:0\", \"h:70000\", 25520]}"))
        .containsExactly(
            "cluster.seed_nodes[0]: expected host:port, got \"pekko://bastion@h:1\"",
            "cluster.seed_nodes[1]: expected host:port, got \"h:0\"",
            "cluster.seed_nodes[2]: expected host:port, got \"h:70000\"",
            "cluster.seed_nodes[3]: expected host:port, got a number");
    assertThat(Yaml.problems("cluster: {seed_nodes: [\"h:1\", \"h:1\"]}"))
        .containsExactly("cluster.seed_nodes[1]: duplicate seed node \"h:1\"");
    assertThat(Yaml.problems("cluster: {seed_nodes: \"h:1\"}"))
        .containsExactly("cluster.seed_nodes: expected a list of host:port strings, got the string \"h:1\"");
  }

  @Test
  void portsHostsAndKeysAreChecked() {
    assertThat(Yaml.problems("""
        cluster:
          host: ""
          port: 70000
          seeds: []
          management: {port: -1, enabled: "yes", path: /x}
        """)).containsExactlyInAnyOrder(
        "cluster.host: expected a host name or IP address, got \"\"",
        "cluster.port: expected a whole number from 0 to 65535, got 70000",
        "cluster.seeds: unknown key; expected one of: host, port, seed_nodes, management",
        "cluster.management.port: expected a whole number from 0 to 65535, got -1",
        "cluster.management.enabled: expected true or false, got the string \"yes\"",
        "cluster.management.path: unknown key; expected one of: host, port, enabled");
    assertThat(Yaml.problems("cluster: [a]"))
        .containsExactly("cluster: expected a map with keys host, port, seed_nodes, management; got a list");
  }

  @Test
  void valuesMayComeFromTheEnvironment() {
    ClusterConfig c = Yaml.parse("""
        cluster:
          host: ${POD_IP}
          port: ${ARTERY_PORT:-25520}
          seed_nodes: ["${SEED_0}"]
          management: {enabled: "${MGMT:-true}"}
        """, Map.of("POD_IP", "10.1.2.3", "SEED_0", "bastion-0.bastion:25520", "MGMT", "false")).cluster();

    assertThat(c).isEqualTo(new ClusterConfig("10.1.2.3", 25520, List.of("bastion-0.bastion:25520"),
        ClusterConfig.Management.DISABLED));
  }

  @Test
  void recordsCheckTheirInvariants() {
    assertThatThrownBy(() -> new ClusterConfig("h", 1, List.of("nope"), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope");
    assertThat(new ClusterConfig("h", 1, null, null).management()).isEqualTo(ClusterConfig.Management.DEFAULT);
    BastionConfig legacy = new BastionConfig(Yaml.FILE, null, null, null, null, null, null, null, null, null, null);
    assertThat(legacy.cluster()).isEqualTo(ClusterConfig.DEFAULT);
    assertThat(legacy.withCluster(ClusterConfig.DEFAULT.withSeedNodes(List.of("a:1"))).cluster().seedNodes())
        .containsExactly("a:1");
  }
}
