package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.SseEvents;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SSE polling (MCP 2025-11-25, {@code bastion.node.sse-poll-after}): a call's SSE answer still open
 * after the poll time is closed after its priming event and a {@code retry} field, with the call
 * still running; the client resumes with {@code GET} and {@code Last-Event-ID} and gets the rest.
 * Raw HTTP shows the server's side; the official TypeScript SDK client shows that a real client
 * follows it without noticing (a 3 s call through a stream closed after 1 s).
 */
@Timeout(120)
class SsePollingTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static BastionTestNode node;
  private static final McpHttp mcp = new McpHttp();

  @BeforeAll
  static void start() {
    node = BastionTestNode.start(List.of(EverythingServer.startStdioConfig()), ConfigFactory.parseString(
        "bastion.node.sse-poll-after = 1s\nbastion.node.sse-poll-retry = 200ms"));
    node.awaitReady("everything");
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  private static String longCall(int id, String token) {
    return McpHttp.request(id, "tools/call", McpHttp.json("{\"name\":\"everything__trigger-long-running-operation\","
        + "\"arguments\":{\"duration\":3,\"steps\":3},\"_meta\":{\"progressToken\":\"" + token + "\"}}")).toString();
  }

  private static HttpRequest.Builder to(String session) {
    return HttpRequest.newBuilder(URI.create(node.mcpUrl())).timeout(Duration.ofSeconds(60))
        .header("Mcp-Session-Id", session).header("MCP-Protocol-Version", McpHttp.VERSION);
  }

  @Test
  void aLongCallsStreamIsClosedEarlyAndItsRestComesToTheResumption() {
    String session = mcp.initialize(node.mcpUrl(), false);
    List<SseEvents.Event> before = new ArrayList<>();
    try (SseEvents post = new SseEvents(to(session).header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(longCall(11, "polled"))).build())) {
      assertThat(post.status).isEqualTo(200);
      before.add(post.next(WAIT));
      assertThat(before.get(0).isPriming()).as("the priming event comes first").isTrue();
      // The server closes the stream itself (after ~1 s), before the 3 s call has answered.
      Eventually.until(WAIT, post::ended, "the server closes the call's stream for polling");
      before.addAll(post.remaining());
    }
    assertThat(before).noneMatch(e -> !e.data().isEmpty() && e.json().has("result"));

    SseEvents.Event lastSeen = before.get(before.size() - 1);
    List<SseEvents.Event> after = new ArrayList<>();
    try (SseEvents resumed = new SseEvents(to(session).header("Accept", "text/event-stream")
        .header("Last-Event-ID", lastSeen.id()).GET().build())) {
      assertThat(resumed.status).isEqualTo(200);
      while (after.isEmpty() || !after.get(after.size() - 1).json().has("result")) {
        after.add(resumed.next(WAIT));
      }
    }
    List<SseEvents.Event> all = new ArrayList<>(before);
    all.addAll(after);
    List<Integer> progress = all.stream()
        .filter(e -> !e.data().isEmpty() && e.hasMethod("notifications/progress"))
        .map(e -> e.json().at("/params/progress").asInt()).toList();
    assertThat(progress).containsExactly(1, 2, 3);
    JsonNode answer = after.get(after.size() - 1).json();
    assertThat(answer.get("id").asInt()).isEqualTo(11);
    assertThat(answer.at("/result/content/0/text").asText()).contains("Long running operation completed");
  }

  @Test
  void theTypeScriptSdkFollowsThePollingToTheAnswer() {
    JsonNode report = TsClient.ok(TsClient.run(node.mcpUrl(), "progress",
        "--tool", "everything__trigger-long-running-operation", "--args", "{\"duration\":3,\"steps\":3}"));
    assertThat(TsClient.text(report.get("result"))).contains("Long running operation completed");
    assertThat(report.get("progressOnWire")).hasSize(3);
    assertThat(report.get("elapsedMs").asDouble()).as("the call outlived the 1 s stream").isGreaterThan(1000);
  }
}
