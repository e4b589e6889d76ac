package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.testkit.SseEvents;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A session's GET stream carries event ids and is resumed with {@code Last-Event-ID}: the events
 * after the id are replayed, then the new connection carries on as the session's GET stream. The
 * events are real {@code notifications/resources/updated} from the conformance fixture (its
 * {@code touch_resource} tool), so nothing is timed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class GetStreamResumptionTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String URI_ = "test://resumed";
  private static final String EXPOSED = "fx+" + URI_;
  private final McpHttp http = new McpHttp();
  private final AtomicLong ids = new AtomicLong(100);
  private FixtureServer fixture;
  private BastionTestNode node;

  @BeforeAll
  void start() {
    fixture = FixtureServer.startHttp();
    node = BastionTestNode.start(List.of(fixture.config("fx")));
    node.awaitReady("fx");
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  private JsonNode request(String session, String method, ObjectNode params) {
    try (McpHttp.Exchange e = http.post(node.mcpUrl(), session, McpHttp.request(ids.incrementAndGet(), method, params))) {
      assertThat(e.status).isEqualTo(200);
      return e.response();
    }
  }

  private void touch(String session) {
    JsonNode r = request(session, "tools/call", McpHttp.json("{\"name\":\"fx__touch_resource\",\"arguments\":{\"uri\":\""
        + URI_ + "\"}}"));
    assertThat(r.path("result").path("isError").asBoolean(false)).as("touch: %s", r).isFalse();
  }

  private SseEvents get(String session, String lastEventId) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.mcpUrl())).timeout(Duration.ofSeconds(60))
        .header("Accept", "text/event-stream").header("Mcp-Session-Id", session)
        .header("MCP-Protocol-Version", McpHttp.VERSION).GET();
    if (lastEventId != null) {
      b.header("Last-Event-ID", lastEventId);
    }
    return new SseEvents(b.build());
  }

  private static SseEvents.Event nextUpdate(SseEvents s) {
    while (true) {
      SseEvents.Event e = s.next(WAIT);
      if (e.hasMethod("notifications/resources/updated")) {
        assertThat(e.json().at("/params/uri").asText()).isEqualTo(EXPOSED);
        return e;
      }
    }
  }

  @Test
  void aGetStreamIsReplayedAfterTheLastIdSeenAndCarriesOnOnTheNewConnection() {
    String session = http.initialize(node.mcpUrl(), false);
    // A second session does the touching, so the first one's streams carry only its updates.
    String toucher = http.initialize(node.mcpUrl(), false);
    SseEvents.Event first;
    SseEvents.Event second;
    try (SseEvents stream = get(session, null)) {
      assertThat(stream.status).isEqualTo(200);
      SseEvents.Event priming = stream.next(WAIT);
      assertThat(priming.isPriming()).isTrue();
      assertThat(priming.id()).startsWith("g").endsWith(":0");
      request(session, "resources/subscribe", McpHttp.JSON.createObjectNode().put("uri", EXPOSED));
      touch(toucher);
      first = nextUpdate(stream);
      touch(toucher);
      second = nextUpdate(stream);
      assertThat(first.stream()).isEqualTo(priming.stream());
      assertThat(second.seq()).isEqualTo(first.seq() + 1);
    } // cut

    // The client says it processed only the first update: the second is replayed, once.
    try (SseEvents resumed = get(session, first.id())) {
      assertThat(resumed.status).isEqualTo(200);
      SseEvents.Event replayed = resumed.next(WAIT);
      assertThat(replayed.id()).isEqualTo(second.id());
      assertThat(replayed.json()).isEqualTo(second.json());
      // Then the new GET stream: its own priming event and ids, and later updates arrive on it.
      SseEvents.Event priming = resumed.next(WAIT);
      assertThat(priming.isPriming()).isTrue();
      assertThat(priming.stream()).startsWith("g").isNotEqualTo(first.stream());
      touch(toucher);
      SseEvents.Event third = nextUpdate(resumed);
      assertThat(third.stream()).isEqualTo(priming.stream());
      assertThat(third.seq()).isEqualTo(1);
    }
  }
}
