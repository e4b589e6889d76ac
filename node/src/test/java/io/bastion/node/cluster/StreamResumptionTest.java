package io.bastion.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.node.testkit.BastionTestCluster;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.SseEvents;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Resumable client streams across nodes (MCP 2025-11-25 "Resumability and Redelivery"): a
 * {@code tools/call} whose SSE answer is cut mid-call on one node is resumed with {@code
 * GET + Last-Event-ID} on another, and the client receives every event (progress and the answer)
 * exactly once, in order. Two nodes on PostgreSQL, server-everything over stdio, raw HTTP.
 */
@Timeout(180)
class StreamResumptionTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static BastionTestCluster cluster;
  private static final McpHttp mcp = new McpHttp();

  @BeforeAll
  static void startCluster() {
    BastionConfig base = new BastionConfig(Path.of("resume-test.yaml"), GatewayConfig.DEFAULT,
        List.of(EverythingServer.startStdioConfig()), null, null, null, null, null, null, null, null);
    cluster = BastionTestCluster.start(2, base, BastionTestCluster.fastFailover());
    for (BastionTestNode n : cluster.nodes()) {
      n.awaitReady("everything");
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static HttpRequest.Builder to(BastionTestNode node, String session) {
    return HttpRequest.newBuilder(URI.create(node.mcpUrl())).timeout(Duration.ofSeconds(60))
        .header("Mcp-Session-Id", session).header("MCP-Protocol-Version", McpHttp.VERSION);
  }

  private static boolean isProgress(SseEvents.Event e) {
    return !e.data().isEmpty() && "notifications/progress".equals(e.json().path("method").asText());
  }

  @Test
  void aCallsStreamCutOnOneNodeIsResumedOnAnotherWithEveryEventExactlyOnce() {
    BastionTestNode first = cluster.node(0);
    BastionTestNode second = cluster.node(1);
    String session = mcp.initialize(first.mcpUrl(), false);
    String call = McpHttp.request(7, "tools/call", McpHttp.json("{\"name\":\"everything__trigger-long-running-operation\","
        + "\"arguments\":{\"duration\":3,\"steps\":6},\"_meta\":{\"progressToken\":\"resume-me\"}}")).toString();

    List<SseEvents.Event> before = new ArrayList<>();
    try (SseEvents post = new SseEvents(to(first, session).header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(call)).build())) {
      assertThat(post.status).isEqualTo(200);
      SseEvents.Event priming = post.next(WAIT);
      assertThat(priming.data()).as("the priming event has no data").isEmpty();
      assertThat(priming.id()).startsWith("p").endsWith(":0");
      before.add(priming);
      while (before.stream().filter(StreamResumptionTest::isProgress).count() < 2) {
        before.add(post.next(WAIT));
      }
    } // the connection is cut here, mid-call

    SseEvents.Event lastSeen = before.get(before.size() - 1);
    List<SseEvents.Event> after = new ArrayList<>();
    try (SseEvents resumed = new SseEvents(to(second, session).header("Accept", "text/event-stream")
        .header("Last-Event-ID", lastSeen.id()).GET().build())) {
      assertThat(resumed.status).isEqualTo(200);
      while (after.isEmpty() || !after.get(after.size() - 1).json().has("result")) {
        after.add(resumed.next(WAIT));
      }
      // The answer ends the resumed stream.
      Eventually.until(WAIT, resumed::ended, "the resumed stream ends after the answer");
    }

    List<SseEvents.Event> all = new ArrayList<>(before);
    all.addAll(after);
    Set<String> ids = new HashSet<>();
    all.forEach(e -> assertThat(ids.add(e.id())).as("event id %s seen once", e.id()).isTrue());
    assertThat(all).extracting(SseEvents.Event::stream).containsOnly(priming(before).stream());
    for (int i = 1; i < all.size(); i++) {
      assertThat(all.get(i).seq()).as("event order").isEqualTo(all.get(i - 1).seq() + 1);
    }
    assertThat(after).allSatisfy(e -> assertThat(e.seq()).isGreaterThan(lastSeen.seq()));
    List<Integer> progress = all.stream().filter(StreamResumptionTest::isProgress)
        .map(e -> e.json().at("/params/progress").asInt()).toList();
    assertThat(progress).containsExactly(1, 2, 3, 4, 5, 6);
    List<SseEvents.Event> answers = all.stream().filter(e -> !e.data().isEmpty() && e.json().has("result")).toList();
    assertThat(answers).singleElement().satisfies(a -> {
      assertThat(a.json().get("id").asInt()).isEqualTo(7);
      assertThat(a.json().at("/result/content/0/text").asText()).contains("Long running operation completed");
    });
  }

  @Test
  void aStreamCutRightAfterItsPrimingEventIsResumedFromItsFirstMessage() {
    String session = mcp.initialize(cluster.node(1).mcpUrl(), false);
    String call = McpHttp.request(8, "tools/call", McpHttp.json("{\"name\":\"everything__trigger-long-running-operation\","
        + "\"arguments\":{\"duration\":1,\"steps\":2},\"_meta\":{\"progressToken\":\"primed\"}}")).toString();
    SseEvents.Event priming;
    try (SseEvents post = new SseEvents(to(cluster.node(1), session).header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(call)).build())) {
      priming = post.next(WAIT);
      assertThat(priming.isPriming()).isTrue();
    } // cut before any message was read
    List<SseEvents.Event> after = new ArrayList<>();
    try (SseEvents resumed = new SseEvents(to(cluster.node(0), session).header("Accept", "text/event-stream")
        .header("Last-Event-ID", priming.id()).GET().build())) {
      while (after.isEmpty() || !after.get(after.size() - 1).json().has("result")) {
        after.add(resumed.next(WAIT));
      }
    }
    assertThat(after).extracting(SseEvents.Event::seq).containsExactly(1L, 2L, 3L);
    assertThat(after).extracting(SseEvents.Event::stream).containsOnly(priming.stream());
    assertThat(after.subList(0, 2)).allSatisfy(e -> assertThat(isProgress(e)).isTrue());
    assertThat(after.get(2).json().get("id").asInt()).isEqualTo(8);
  }

  private static SseEvents.Event priming(List<SseEvents.Event> events) {
    return events.get(0);
  }

  @Test
  void anUnknownGetStreamsLastEventIdOpensAFreshGetStreamThatPrimesItself() {
    String session = mcp.initialize(cluster.node(0).mcpUrl(), false);
    try (SseEvents get = new SseEvents(to(cluster.node(1), session).header("Accept", "text/event-stream")
        .header("Last-Event-ID", "gNoSuchStream:3").GET().build())) {
      assertThat(get.status).isEqualTo(200);
      SseEvents.Event priming = get.next(WAIT);
      assertThat(priming.id()).startsWith("g").endsWith(":0");
      assertThat(priming.data()).isEmpty();
    }
  }
}
