package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.upstream.UpstreamStatus;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An upstream that answers POSTs with SSE bodies (the conformance fixture's default) must not use
 * up the upstream's connection pool. Before the fix, the transport did not recognise the answer in
 * the SSE body (a {@code LongNode} id compared with the parsed {@code IntNode}), took the stream
 * for one cut short, and "resumed" it with a GET + {@code Last-Event-ID} that the upstream kept
 * open: one pooled connection lost per call, until a call and the health ping behind it hung and
 * the upstream was reconnected.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class UpstreamSseAnswersTest {

  private static final int CALLS = 80; // well past the pool's 32 connections

  @Test
  void manyCallsAnsweredAsSseKeepTheUpstreamReady() throws Exception {
    McpHttp http = new McpHttp();
    try (FixtureServer fixture = FixtureServer.startHttp();
         BastionTestNode node = BastionTestNode.start(List.of(fixture.config("fx")
             // Frequent pings with a short timeout: a starved pool shows up as a failed ping.
             .withTimings(Duration.ofSeconds(20), Duration.ofMillis(250), Duration.ofSeconds(2),
                 Duration.ofMillis(100), Duration.ofMillis(500))))) {
      node.awaitReady("fx");
      Set<String> statesSeen = ConcurrentHashMap.newKeySet();
      AtomicBoolean watching = new AtomicBoolean(true);
      Thread watcher = new Thread(() -> {
        while (watching.get()) {
          UpstreamStatus s = node.directory().statuses().get("fx");
          if (s != null) {
            statesSeen.add(s.state());
          }
          Admin.pause(10);
        }
      });
      watcher.start();
      String session = http.initialize(node.mcpUrl(), false);
      ObjectNode params = McpHttp.JSON.createObjectNode().put("name", "fx__test_simple_text");
      params.putObject("arguments");
      for (int i = 0; i < CALLS; i++) {
        try (McpHttp.Exchange e = http.post(node.mcpUrl(), session, McpHttp.request(1000 + i, "tools/call", params))) {
          assertThat(e.status).as("call %d", i).isEqualTo(200);
          JsonNode r = e.response();
          assertThat(r.path("result").path("content").path(0).path("type").asText()).as("call %d: %s", i, r)
              .isEqualTo("text");
        }
      }
      Admin.pause(1_000); // a few more pings after the last call
      watching.set(false);
      watcher.join();
      UpstreamStatus last = node.directory().statuses().get("fx");
      assertThat(statesSeen).as("states of the upstream during the calls (last error: %s)", last.lastError())
          .containsOnly(UpstreamStatus.READY);
      assertThat(last.attempts()).isZero();
    }
  }
}
