package io.bastion.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.conformance.ConformanceSuite;
import io.bastion.node.it.FixtureServer;
import io.bastion.node.it.TsClient;
import io.bastion.node.testkit.BastionTestCluster;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.RoundRobinProxy;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Sessions work on any node: three clustered Bastion nodes (one PostgreSQL database) fronting the
 * conformance fixture, behind a round-robin proxy without affinity, so consecutive HTTP requests
 * of one MCP session (initialize, initialized, the GET stream, calls, server→client responses,
 * DELETE) land on different nodes. The official conformance suite must score as on one node, and
 * real TypeScript-SDK clients must get tool results, progress, sampling and prompts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RoundRobinConformanceTest {
  private final Path workDir = Path.of("target", "conformance-round-robin").toAbsolutePath();
  private FixtureServer fixture;
  private BastionTestCluster cluster;
  private RoundRobinProxy proxy;

  @BeforeAll
  void start() {
    fixture = FixtureServer.startHttp();
    ServerConfig server = ServerConfig.remote("fixture", TransportType.HTTP, fixture.url()).withToolPrefix("");
    BastionConfig base = new BastionConfig(Path.of("round-robin-test.yaml"), GatewayConfig.DEFAULT,
        List.of(server), List.of(), List.of(), List.of(), List.of(), null, null, null, List.of());
    cluster = BastionTestCluster.start(3, base, BastionTestCluster.fastFailover());
    for (BastionTestNode n : cluster.nodes()) {
      n.awaitReady("fixture");
    }
    proxy = RoundRobinProxy.start(cluster.nodes().stream().map(BastionTestNode::baseUrl).toList());
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  private String mcpUrl() {
    return proxy.url() + "/mcp";
  }

  @Test
  void officialSuitePassesThroughARoundRobinFrontOverThreeNodes() throws Exception {
    long[] before = proxy.requestCounts();
    ConformanceSuite.Result r = ConformanceSuite.run(mcpUrl(), workDir,
        "through a round-robin proxy over 3 clustered Bastion nodes");
    long[] after = proxy.requestCounts();
    long[] delta = new long[after.length];
    for (int i = 0; i < after.length; i++) {
      delta[i] = after[i] - before[i];
    }
    System.out.println(r.summary() + "requests per backend during the suite: " + Arrays.toString(delta));
    r.assertPassed();
    assertThat(Arrays.stream(delta).boxed().toList()).as("requests per backend").allSatisfy(c -> assertThat(c).isPositive());
  }

  @Test
  void typeScriptClientsThroughTheRoundRobinFront() {
    long[] before = proxy.requestCounts();

    JsonNode call = TsClient.ok(TsClient.run(mcpUrl(), "call", "--tool", "test_simple_text"));
    assertThat(TsClient.text(call.path("result"))).as("call: %s", call).isNotBlank();

    JsonNode progress = TsClient.ok(TsClient.run(mcpUrl(), "progress", "--tool", "test_tool_with_progress"));
    assertThat(progress.path("progressCount").asInt()).as("progress: %s", progress).isGreaterThanOrEqualTo(1);
    assertThat(progress.path("result").path("isError").asBoolean()).as("progress: %s", progress).isFalse();

    String sampled = "sampled through some other node";
    JsonNode sampling = TsClient.ok(TsClient.run(mcpUrl(), "sampling", "--tool", "test_sampling",
        "--args", "{\"prompt\":\"What is 2+2?\"}", "--text", sampled));
    assertThat(sampling.path("requestCount").asInt()).as("sampling: %s", sampling).isEqualTo(1);
    assertThat(sampling.path("requests").get(0).path("method").asText()).isEqualTo("sampling/createMessage");
    assertThat(TsClient.text(sampling.path("result"))).as("sampling: %s", sampling).contains(sampled);

    JsonNode prompts = TsClient.ok(TsClient.run(mcpUrl(), "prompts", "--prompt", "test_simple_prompt"));
    JsonNode messages = prompts.path("get").path("messages");
    assertThat(messages.size()).as("prompts: %s", prompts).isGreaterThan(0);
    assertThat(messages.get(0).path("content").path("text").asText()).isNotEmpty();

    long[] after = proxy.requestCounts();
    long[] delta = new long[after.length];
    for (int i = 0; i < after.length; i++) {
      delta[i] = after[i] - before[i];
    }
    System.out.println("TypeScript-SDK clients: requests per backend " + Arrays.toString(delta));
    assertThat(Arrays.stream(delta).boxed().toList()).as("requests per backend").allSatisfy(c -> assertThat(c).isPositive());
  }
}
