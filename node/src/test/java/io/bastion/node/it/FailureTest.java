package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.ServerConfig;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.upstream.UpstreamStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** Upstream failures seen through a real node: crashes, bad commands, backoff, list_changed, cancellation. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class FailureTest {
  private static final String MISSING_COMMAND = "/nonexistent/bastion-it/no-such-mcp-server";

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private FixtureServer fixture;
  private BastionTestNode fixtureNode;

  @AfterAll
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    toClose.add(c);
    return c;
  }

  /** A live fixture (HTTP) behind its own node, shared by the tests that do not kill it. */
  private synchronized BastionTestNode fixtureNode() {
    if (fixtureNode == null) {
      fixture = closing(FixtureServer.startHttp());
      fixtureNode = closing(BastionTestNode.start(List.of(fixture.config("fixture"))));
      fixtureNode.awaitReady("fixture");
    }
    return fixtureNode;
  }

  @Test
  void upstreamDeathMidCallIsAToolErrorAndOtherUpstreamsKeepServing() throws Exception {
    FixtureServer doomed = closing(FixtureServer.startHttp());
    BastionTestNode node = closing(BastionTestNode.start(List.of(doomed.config("doomed"),
        EverythingServer.startStdioConfig())));
    node.awaitReady("doomed");
    node.awaitReady("everything");

    long started = System.nanoTime();
    CompletableFuture<JsonNode> call = CompletableFuture.supplyAsync(() -> TsClient.run(node.mcpUrl(),
        "call", "--tool", "doomed__slow_echo", "--args", "{\"message\":\"never\",\"ms\":10000}"));
    // Give the call time to reach the upstream, then kill it as a crash would.
    Admin.pause(1500);
    assertThat(call).as("the call must still be running when the upstream dies").isNotDone();
    doomed.kill();

    JsonNode r = TsClient.ok(call.get(60, TimeUnit.SECONDS));
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertThat(r.path("result").path("isError").asBoolean()).as("result: %s", r).isTrue();
    assertThat(TsClient.text(r.path("result"))).doesNotContain("never");
    // slow_echo would answer "never" after 10 s, the request timeout would say "timed out" after
    // 30 s: the error must come from the death (how fast is the benchmarks' business, not a test's).
    assertThat(TsClient.text(r.path("result"))).doesNotContain("timed out");
    assertThat(elapsedMs).isLessThan(25_000);

    JsonNode echo = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "everything__echo",
        "--args", "{\"message\":\"still here\"}"));
    assertThat(echo.path("result").path("isError").asBoolean(false)).isFalse();
    assertThat(TsClient.text(echo.path("result"))).contains("still here");

    // And the dead upstream is reported, and calls to it fail fast with a tool error.
    Admin.awaitServer(node, "doomed", Duration.ofSeconds(20), s -> !"ready".equals(s.path("state").asText()));
    JsonNode again = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "doomed__slow_echo",
        "--args", "{\"message\":\"x\",\"ms\":1}"));
    assertThat(again.path("result").path("isError").asBoolean()).isTrue();
  }

  @Test
  void missingStdioCommandIsReportedFailedWithTheReasonAndOthersServe() {
    ServerConfig ghost = ServerConfig.stdio("ghost", List.of(MISSING_COMMAND, "--stdio"));
    BastionTestNode node = closing(BastionTestNode.start(List.of(ghost, EverythingServer.startStdioConfig())));
    node.awaitReady("everything");

    JsonNode s = Admin.awaitServer(node, "ghost", Duration.ofSeconds(30),
        x -> "failed".equals(x.path("state").asText()));
    assertThat(s.path("lastError").asText()).contains("command not found").contains(MISSING_COMMAND);
    assertThat(s.path("tools").asInt()).isZero();

    JsonNode echo = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "everything__echo",
        "--args", "{\"message\":\"ghost-free\"}"));
    assertThat(TsClient.text(echo.path("result"))).contains("ghost-free");
    JsonNode tools = TsClient.ok(TsClient.run(node.mcpUrl(), "list-tools"));
    assertThat(tools.path("names").toString()).doesNotContain("ghost__");
  }

  @Test
  void backoffGrowsAndCapsAtBackoffMax() {
    ServerConfig ghost = ServerConfig.stdio("ghost", List.of(MISSING_COMMAND))
        .withTimings(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(2),
            Duration.ofMillis(100), Duration.ofMillis(400));
    BastionTestNode node = closing(BastionTestNode.start(List.of(ghost)));

    // 100, 200, 400, 400, 400: five attempts take about 1.5 s; the status keeps the last 8.
    JsonNode s = Admin.awaitServer(node, "ghost", Duration.ofSeconds(30),
        x -> x.path("recentBackoffMs").size() >= 5);
    List<Long> delays = new ArrayList<>();
    s.path("recentBackoffMs").forEach(d -> delays.add(d.asLong()));
    assertThat(delays).as("recentBackoffMs %s", delays).allMatch(d -> d >= 100 && d <= 400);
    if (delays.size() < 8) {
      // Complete history: starts at backoffMin (+ up to 20 % jitter) and grows.
      assertThat(delays.get(0)).isBetween(100L, 120L);
      assertThat(delays.get(1)).isGreaterThan(delays.get(0));
    }
    assertThat(delays.get(delays.size() - 1)).isEqualTo(400L);
    assertThat(delays.get(delays.size() - 2)).isEqualTo(400L);
    assertThat(node.directory().statuses().get("ghost").attempts()).isGreaterThanOrEqualTo(5);

    // Keeps capping later on.
    JsonNode later = Admin.awaitServer(node, "ghost", Duration.ofSeconds(30),
        x -> x.path("attempts").asInt() >= 10);
    later.path("recentBackoffMs").forEach(d -> assertThat(d.asLong()).isBetween(100L, 400L));
    JsonNode lastDelays = later.path("recentBackoffMs");
    assertThat(lastDelays.get(lastDelays.size() - 1).asLong()).isEqualTo(400L);
  }

  @Test
  void toolListChangedReachesTheClient() {
    BastionTestNode node = fixtureNode();
    JsonNode r = TsClient.ok(TsClient.run(node.mcpUrl(), "list-changed",
        "--tool", "fixture__change_tools", "--args", "{\"action\":\"add\"}", "--wait-ms", "5000"));
    // Received within the client's 5 s wait. How fast (the 200 ms notify interval) is a number for
    // the benchmarks, not an assertion: on a loaded 2-core box it read 1.17 s once and failed.
    assertThat(r.path("notificationReceived").asBoolean()).as("report: %s", r).isTrue();
    List<String> after = new ArrayList<>();
    r.path("toolsAfter").forEach(t -> after.add(t.asText()));
    assertThat(after).contains("fixture__dynamic_tool");

    JsonNode dyn = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "fixture__dynamic_tool"));
    assertThat(TsClient.text(dyn.path("result"))).contains("dynamic tool called");
  }

  @Test
  void cancellationReachesTheUpstream() {
    BastionTestNode node = fixtureNode();
    JsonNode r = TsClient.ok(TsClient.run(node.mcpUrl(), "cancel",
        "--tool", "fixture__slow_echo", "--args", "{\"message\":\"too slow\",\"ms\":10000}",
        "--after-ms", "500", "--then-tool", "fixture__last_cancelled"));
    assertThat(r.path("aborted").asBoolean()).as("report: %s", r).isTrue();
    assertThat(r.path("cancelledNotificationSent").asBoolean()).isTrue();
    JsonNode report = r.path("then").path("structuredContent");
    assertThat(report.path("count").asInt()).as("last_cancelled: %s", r.path("then")).isGreaterThanOrEqualTo(1);
    assertThat(report.path("tool").asText()).isEqualTo("slow_echo");
    assertThat(report.path("requestId").isNull()).isFalse();
    assertThat(fixtureNode.directory().statuses().get("fixture").state()).isEqualTo(UpstreamStatus.READY);
  }
}
