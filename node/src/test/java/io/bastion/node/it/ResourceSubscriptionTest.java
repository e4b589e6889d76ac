package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.config.ServerConfig;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.McpHttp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Resource subscriptions through one shared upstream connection: the upstream sees one subscribe
 * per URI however many sessions watch it, one unsubscribe when the last watcher leaves (by
 * unsubscribing, DELETE or going idle), and every subscription again after it restarts.
 *
 * <p>Clients are raw streamable-HTTP sessions with their GET stream open (where
 * {@code notifications/resources/updated} arrives); the upstream is the conformance fixture, whose
 * {@code subscription_stats} tool counts the subscribe/unsubscribe requests it received.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ResourceSubscriptionTest {
  private static final Duration IDLE = Duration.ofSeconds(3);
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final McpHttp http = new McpHttp();
  private final AtomicLong ids = new AtomicLong(100);
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private BastionTestNode node;

  @BeforeAll
  void start() {
    // SSE answers (the fixture's default); updates arrive on the upstream's GET stream.
    FixtureServer fixture = closing(FixtureServer.startHttp());
    // The stdio fixture is restarted by its crash tool; short backoff so it is back quickly.
    ServerConfig stdio = ServerConfig.stdio("fxs", FixtureServer.stdioCommand())
        .withTimings(Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(2),
            Duration.ofMillis(100), Duration.ofMillis(500));
    GatewayConfig gateway = new GatewayConfig(GatewayConfig.DEFAULT_HOST, 0,
        GatewayConfig.DEFAULT_MAX_REQUEST_BYTES, List.of(), IDLE, null);
    BastionConfig config = new BastionConfig(Path.of("test.yaml"), gateway, List.of(fixture.config("fx"), stdio),
        List.of(), List.of(), List.of(), List.of(), null, null, null, List.of());
    node = closing(BastionTestNode.start(config, ConfigFactory.empty()));
    node.awaitReady("fx");
    node.awaitReady("fxs");
  }

  @AfterAll
  void stop() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    toClose.add(c);
    return c;
  }

  /** A session with its GET stream open (which also keeps it from going idle). */
  private record Client(String id, McpHttp.Exchange stream) {}

  private Client client() {
    String id = http.initialize(node.mcpUrl(), false);
    McpHttp.Exchange stream = closing(http.getStream(node.mcpUrl(), id));
    assertThat(stream.status).isEqualTo(200);
    return new Client(id, stream);
  }

  private JsonNode request(String session, String method, ObjectNode params) {
    try (McpHttp.Exchange e = http.post(node.mcpUrl(), session, McpHttp.request(ids.incrementAndGet(), method, params))) {
      assertThat(e.status).as("%s answered HTTP %s", method, e.status).isEqualTo(200);
      return e.response();
    }
  }

  private JsonNode subscribe(Client c, String uri) {
    return request(c.id(), "resources/subscribe", McpHttp.JSON.createObjectNode().put("uri", uri));
  }

  private JsonNode unsubscribe(Client c, String uri) {
    return request(c.id(), "resources/unsubscribe", McpHttp.JSON.createObjectNode().put("uri", uri));
  }

  /** Calls a tool on a fresh session (so that it cannot keep any other session alive). */
  private JsonNode tool(String name, ObjectNode args) {
    String session = http.initialize(node.mcpUrl(), false);
    ObjectNode params = McpHttp.JSON.createObjectNode().put("name", name);
    params.set("arguments", args);
    JsonNode r = request(session, "tools/call", params);
    http.delete(node.mcpUrl(), session).close();
    return r;
  }

  /** The fixture's counters for one upstream URI: {pid, subscribe, unsubscribe, subscribers}. */
  private JsonNode stats(String server, String upstreamUri) {
    JsonNode r = tool(server + "__subscription_stats", McpHttp.JSON.createObjectNode().put("uri", upstreamUri));
    JsonNode s = r.path("result").path("structuredContent");
    assertThat(s.isObject()).as("subscription_stats answered %s", r).isTrue();
    ObjectNode out = McpHttp.JSON.createObjectNode();
    out.set("pid", s.path("pid"));
    out.put("subscribe", s.path("subscribe").path(upstreamUri).asInt(0));
    out.put("unsubscribe", s.path("unsubscribe").path(upstreamUri).asInt(0));
    out.put("subscribers", s.path("subscribers").path(upstreamUri).asInt(0));
    return out;
  }

  private JsonNode awaitStats(String server, String upstreamUri, Predicate<JsonNode> p) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = stats(server, upstreamUri);
        if (p.test(last)) {
          return last;
        }
      } catch (AssertionError e) {
        last = McpHttp.JSON.createObjectNode().put("failed", e.getMessage()); // upstream not back yet
      }
      Admin.pause(200);
    }
    throw new AssertionError("stats of " + upstreamUri + " never matched; last " + last);
  }

  private void touch(String server, String upstreamUri) {
    JsonNode r = tool(server + "__touch_resource", McpHttp.JSON.createObjectNode().put("uri", upstreamUri));
    assertThat(r.path("result").path("isError").asBoolean(false)).as("touch: %s", r).isFalse();
  }

  private static Predicate<JsonNode> updated(String exposedUri) {
    return m -> "notifications/resources/updated".equals(m.path("method").asText())
        && exposedUri.equals(m.path("params").path("uri").asText());
  }

  private static void assertEmptyResult(JsonNode response) {
    assertThat(response.has("error")).as("response %s", response).isFalse();
    assertThat(response.path("result").isObject()).as("response %s", response).isTrue();
    assertThat(response.path("result").size()).as("response %s", response).isZero();
  }

  /** No update for {@code exposedUri} arrives on the stream within {@code within}. */
  private static void assertNoUpdate(Client c, String exposedUri, Duration within) {
    boolean arrived;
    try {
      c.stream().await(updated(exposedUri), within);
      arrived = true;
    } catch (AssertionError expected) {
      arrived = false;
    }
    assertThat(arrived).as("session %s must not get updates of %s any more", c.id(), exposedUri).isFalse();
  }

  @Test
  void oneUnsubscribeDoesNotEndTheOtherSessionsUpdates() {
    String uri = "test://shared";
    String exposed = "fx+" + uri;
    Client a = client();
    Client b = client();

    assertEmptyResult(subscribe(a, exposed));
    assertEmptyResult(subscribe(b, exposed));
    assertEmptyResult(subscribe(b, exposed)); // twice from one session: still one subscriber
    JsonNode s = stats("fx", uri);
    assertThat(s.path("subscribe").asInt()).as("upstream subscribes: %s", s).isEqualTo(1);
    assertThat(s.path("subscribers").asInt()).isEqualTo(1);

    touch("fx", uri);
    a.stream().await(updated(exposed), WAIT);
    b.stream().await(updated(exposed), WAIT);

    assertEmptyResult(unsubscribe(a, exposed));
    s = stats("fx", uri);
    assertThat(s.path("unsubscribe").asInt()).as("no upstream unsubscribe while b watches: %s", s).isZero();
    assertThat(s.path("subscribers").asInt()).isEqualTo(1);

    touch("fx", uri);
    b.stream().await(updated(exposed), WAIT);
    assertNoUpdate(a, exposed, Duration.ofSeconds(1));

    // An unsubscribe from a session that is not subscribed changes nothing upstream.
    assertEmptyResult(unsubscribe(a, exposed));
    assertThat(stats("fx", uri).path("unsubscribe").asInt()).isZero();

    assertEmptyResult(unsubscribe(b, exposed));
    s = stats("fx", uri);
    assertThat(s.path("unsubscribe").asInt()).as("the last one leaving unsubscribes: %s", s).isEqualTo(1);
    assertThat(s.path("subscribers").asInt()).isZero();
    assertThat(s.path("subscribe").asInt()).isEqualTo(1);

    // Subscribing again afterwards reaches the upstream again.
    assertEmptyResult(subscribe(a, exposed));
    assertThat(stats("fx", uri).path("subscribe").asInt()).isEqualTo(2);
    touch("fx", uri);
    a.stream().await(updated(exposed), WAIT);
    assertNoUpdate(b, exposed, Duration.ofSeconds(1));
    assertEmptyResult(unsubscribe(a, exposed));
  }

  @Test
  void deletingTheLastSubscribersSessionUnsubscribesUpstream() {
    String uri = "test://deleted";
    String exposed = "fx+" + uri;
    Client a = client();
    Client b = client();
    assertEmptyResult(subscribe(a, exposed));
    assertEmptyResult(subscribe(b, exposed));

    try (McpHttp.Exchange d = http.delete(node.mcpUrl(), a.id())) {
      assertThat(d.status).isEqualTo(200);
    }
    touch("fx", uri);
    b.stream().await(updated(exposed), WAIT);
    JsonNode s = stats("fx", uri);
    assertThat(s.path("unsubscribe").asInt()).as("b still watches: %s", s).isZero();
    assertThat(s.path("subscribers").asInt()).isEqualTo(1);

    try (McpHttp.Exchange d = http.delete(node.mcpUrl(), b.id())) {
      assertThat(d.status).isEqualTo(200);
    }
    s = awaitStats("fx", uri, x -> x.path("unsubscribe").asInt() >= 1);
    assertThat(s.path("unsubscribe").asInt()).isEqualTo(1);
    assertThat(s.path("subscribers").asInt()).isZero();
  }

  @Test
  void anIdleSessionsSubscriptionsArePruned() {
    String uri = "test://idle";
    String exposed = "fx+" + uri;
    // No GET stream: the session goes idle after the node's session_idle_timeout (3 s here).
    String session = http.initialize(node.mcpUrl(), false);
    assertEmptyResult(request(session, "resources/subscribe", McpHttp.JSON.createObjectNode().put("uri", exposed)));
    assertThat(stats("fx", uri).path("subscribers").asInt()).isEqualTo(1);

    JsonNode s = awaitStats("fx", uri, x -> x.path("unsubscribe").asInt() >= 1);
    assertThat(s.path("subscribers").asInt()).as("after the session idled out: %s", s).isZero();
  }

  @Test
  void subscriptionsAreSentAgainAfterTheUpstreamRestarts() {
    String uri = "test://restart";
    String exposed = "fxs+" + uri;
    Client a = client();
    assertEmptyResult(subscribe(a, exposed));
    JsonNode before = stats("fxs", uri);
    assertThat(before.path("subscribe").asInt()).isEqualTo(1);

    // The stdio child exits; Bastion respawns it, and the new process has never seen a subscribe.
    tool("fxs__crash", McpHttp.JSON.createObjectNode());
    JsonNode after = awaitStats("fxs", uri, x -> x.has("pid") && !x.path("pid").equals(before.path("pid"))
        && x.path("subscribe").asInt() >= 1);
    assertThat(after.path("subscribe").asInt()).as("re-sent once: %s", after).isEqualTo(1);
    assertThat(after.path("subscribers").asInt()).isEqualTo(1);

    touch("fxs", uri);
    a.stream().await(updated(exposed), WAIT);
  }
}
