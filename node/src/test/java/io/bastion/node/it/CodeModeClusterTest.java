package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.CodeModeConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.node.testkit.BastionTestCluster;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** A Code Mode program entering a node of a 3-node cluster that owns neither of the upstreams it calls. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CodeModeClusterTest {
  private BastionTestCluster cluster;

  private static String script(String pkg) {
    return EverythingServer.nodeModules().resolve("@modelcontextprotocol/" + pkg + "/dist/index.js").toString();
  }

  @BeforeAll
  void start() throws Exception {
    Path dir = Files.createTempDirectory("codemode-cluster-");
    String yaml = """
        mcp:
          servers:
            - {name: everything, type: stdio, command: ["%1$s", "%2$s", "stdio"]}
            - name: memory
              type: stdio
              command: ["%1$s", "%3$s"]
              env: {MEMORY_FILE_PATH: "%4$s"}
          code_mode: {enabled: true, sandbox: starlark}
        """.formatted(EverythingServer.nodeBinary(), script("server-everything"), script("server-memory"),
        dir.resolve("memory.jsonl"));
    BastionConfig base = ConfigLoader.parse(yaml, Path.of("codemode-cluster.yaml"), Map.of());
    assertThat(base.codeMode().enabled()).isTrue();
    cluster = BastionTestCluster.start(3, base, BastionTestCluster.fastFailover());
    for (BastionTestNode n : cluster.nodes()) {
      n.awaitReady("everything");
      n.awaitReady("memory");
    }
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aProgramCallsBothUpstreamsThroughANodeThatOwnsNeither() {
    // both upstreams may live on one node: then two nodes own neither
    Set<String> owners = new java.util.HashSet<>(List.of(cluster.node(0).directory().statuses().get("everything").owner(),
        cluster.node(0).directory().statuses().get("memory").owner()));
    BastionTestNode entry = cluster.nodes().stream()
        .filter(n -> !owners.contains(Cluster.get(n.running().system()).selfMember().address().toString()))
        .findFirst().orElseThrow();
    JsonNode list = TsClient.ok(TsClient.run(entry.mcpUrl(), "list-tools"));
    assertThat(list.path("names").toString()).contains("executeToolCode").doesNotContain("everything__");
    JsonNode r = TsClient.ok(TsClient.run(entry.mcpUrl(), "call", "--tool", "executeToolCode", "--args",
        TsClient.json(Map.of("code", """
            text = everything.get_sum(a=40, b=2)
            memory.create_entities(entities=[{"name": "Cluster", "entityType": "test", "observations": [text]}])
            result = {"sum": int(text.split(" is ")[1].rstrip(".")),
                      "names": [e["name"] for e in memory.read_graph()["entities"]]}
            """)))).path("result");
    assertThat(r.path("isError").asBoolean(false)).as("%s", r).isFalse();
    assertThat(TsClient.text(r)).isEqualTo("{\"sum\":42,\"names\":[\"Cluster\"]}");
  }
}
