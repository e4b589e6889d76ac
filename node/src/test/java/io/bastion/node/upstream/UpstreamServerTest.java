package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.ServerConfig;
import io.bastion.node.NodeSettings;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.RequestStream;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;
import io.bastion.protocol.UpstreamCatalog;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link UpstreamServer} alone, on the in-memory journal of the persistence test kit with
 * serialization of commands, events and state checked, behind a {@link FakeUpstream}: the events
 * it writes, its state, the answers its clients get, and recovery from events and snapshots.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class UpstreamServerTest {

  private static final Config CONFIG = ConfigFactory.parseString(String.join("\n",
          "pekko.actor.provider = cluster",
          "pekko.remote.artery.canonical.hostname = 127.0.0.1",
          "pekko.remote.artery.canonical.port = 0",
          "pekko.persistence.journal.inmem.test-serialization = on",
          "pekko.loglevel = WARNING"))
      .withFallback(EventSourcedBehaviorTestKit.config());

  private static ActorTestKit testKit;
  private static NodeSettings settings;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("UpstreamServerTest", CONFIG.withFallback(ConfigFactory.load()));
    settings = NodeSettings.fromConfig(testKit.system().settings().config());
    Cluster cluster = Cluster.get(testKit.system());
    cluster.join(cluster.selfAddress());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }


  /** One entity under test, and the fake upstreams its connections get (in order). */
  private static final class Fixture {
    final String name;
    final BlockingQueue<FakeUpstream> upstreams = new LinkedBlockingQueue<>();
    final EventSourcedBehaviorTestKit<UpstreamServer.Command, UpstreamServer.Event, UpstreamServer.State> kit;
    final TestProbe<RequestStream.Event> client = testKit.createTestProbe();

    Fixture(String name, FakeUpstream... connections) {
      this.name = name;
      upstreams.addAll(List.of(connections));
      // Backoff of a minute: a failed connection is not retried while a test looks at it.
      ServerConfig config = ServerConfig.stdio(name, List.of("unused"))
          .withTimings(null, Duration.ofMinutes(5), null, Duration.ofMinutes(1), Duration.ofMinutes(1));
      UpstreamServer.TransportFactory factory = (system, cfg) -> {
        FakeUpstream next = upstreams.poll();
        return next != null ? next : new FakeUpstream(); // never starts: connecting
      };
      kit = EventSourcedBehaviorTestKit.create(testKit.system(),
          UpstreamServer.create(config, settings, FakeUpstream.NO_SESSIONS, factory));
    }

    UpstreamStatus awaitStatus(Predicate<UpstreamStatus> p) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        UpstreamStatus s = UpstreamDirectory.get(testKit.system()).statuses().get(name);
        if (s != null && p.test(s)) {
          return s;
        }
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
      }
      throw new AssertionError("status of " + name + " never matched: "
          + UpstreamDirectory.get(testKit.system()).statuses().get(name));
    }

    UpstreamStatus awaitReady() {
      return awaitStatus(UpstreamStatus::ready);
    }

    List<UpstreamServer.CatalogListed> events() {
      return kit.persistenceTestKit().persistedInStorage("UpstreamServer|" + name).stream()
          .map(UpstreamServer.CatalogListed.class::cast).toList();
    }

    UpstreamServer.Forward call(JsonNode id, String tool, String argsJson) {
      ObjectNode params = Json.object().put("name", tool);
      params.set("arguments", json(argsJson));
      return new UpstreamServer.Forward("s1", id, Methods.TOOLS_CALL, params, new Reply(client.ref(), 9));
    }
  }

  private static FakeUpstream started(String... tools) {
    FakeUpstream up = new FakeUpstream().withTools(tools);
    up.started.complete(null);
    return up;
  }

  private static ObjectNode json(String s) {
    try {
      return (ObjectNode) Json.MAPPER.readTree(s);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static List<String> toolNames(UpstreamCatalog c) {
    return c.tools().stream().map(t -> t.get("name").asText()).toList();
  }

  @Test
  void startRecordsAnIncarnationThenPersistsTheListedCatalogAndIsReady() throws Exception {
    FakeUpstream up = started("echo");
    Fixture f = new Fixture("start", up);
    UpstreamStatus ready = f.awaitReady();
    assertThat(ready.attempts()).isZero();
    assertThat(ready.serverInfo().get("name").asText()).isEqualTo("fake");
    assertThat(toolNames(ready.catalog())).containsExactly("echo");
    assertThat(ready.incarnation()).isEqualTo(1);
    // The incarnation writes the (empty) catalog it recovered; the listing writes the new one.
    assertThat(f.events()).extracting(e -> toolNames(e.catalog())).containsExactly(List.of(), List.of("echo"));
    assertThat(toolNames(f.kit.getState().catalog())).containsExactly("echo");
    // The handshake: initialize, then initialized, then the listing.
    assertThat(up.nextSent(Methods.INITIALIZE).at("/params/clientInfo/name").asText()).isEqualTo("bastion");
    assertThat(up.nextSent(Methods.NOTIFICATION_INITIALIZED)).isNotNull();
    assertThat(up.nextSent(Methods.TOOLS_LIST)).isNotNull();
  }

  @Test
  void aForwardIsAnsweredThroughItsReplyUnderTheClientsIdWithTheTokenRewritten() throws Exception {
    FakeUpstream up = started("echo");
    Fixture f = new Fixture("forward", up);
    f.awaitReady();
    UpstreamServer.Forward call = f.call(TextNode.valueOf("c-1"), "echo", "{\"x\":1}");
    call.params().putObject("_meta").put("progressToken", "client-token");
    var result = f.kit.runCommand(call);
    assertThat(result.hasNoEvents()).isTrue();
    ObjectNode sent = up.nextSent(Methods.TOOLS_CALL);
    assertThat(sent.get("id").isNumber()).isTrue();
    assertThat(sent.at("/params/_meta/progressToken").asLong()).isEqualTo(sent.get("id").asLong());
    RequestStream.Final answer = f.client.expectMessageClass(RequestStream.Final.class);
    assertThat(answer.correlation()).isEqualTo(9);
    assertThat(answer.fault()).isNull();
    assertThat(answer.json().get("id").asText()).isEqualTo("c-1");
    assertThat(answer.json().at("/result/content/0/text").asText()).isEqualTo("{\"x\":1}");
  }

  @Test
  void progressGoesToTheClientUnderItsOwnToken() throws Exception {
    FakeUpstream up = started("hang");
    Fixture f = new Fixture("progress", up);
    f.awaitReady();
    UpstreamServer.Forward call = f.call(IntNode.valueOf(3), "hang", "{}");
    call.params().putObject("_meta").put("progressToken", 77);
    f.kit.runCommand(call);
    long upstreamId = up.nextSent(Methods.TOOLS_CALL).get("id").asLong();
    ObjectNode p = Json.object().put("progressToken", upstreamId).put("progress", 1);
    up.say(JsonRpc.notification(Methods.NOTIFICATION_PROGRESS, p), null);
    RequestStream.Message m = f.client.expectMessageClass(RequestStream.Message.class);
    assertThat(m.json().at("/params/progressToken").asInt()).isEqualTo(77);
  }

  @Test
  void requestsWaitWhileConnectingAndAreAnsweredOnceReady() {
    FakeUpstream up = new FakeUpstream().withTools("echo");
    Fixture f = new Fixture("stash", up);
    // Published once the start is recorded (its event written): nothing else persists while connecting.
    assertThat(f.awaitStatus(s -> true).state()).isEqualTo(UpstreamStatus.CONNECTING);
    var result = f.kit.runCommand(f.call(IntNode.valueOf(1), "echo", "{\"y\":2}"));
    assertThat(result.hasNoEvents()).isTrue();
    up.started.complete(null);
    RequestStream.Final answer = f.client.expectMessageClass(RequestStream.Final.class);
    assertThat(answer.fault()).isNull();
    assertThat(answer.json().at("/result/content/0/text").asText()).isEqualTo("{\"y\":2}");
  }

  @Test
  void aFailedStartFailsRequestsFastAndBacksOff() {
    FakeUpstream up = new FakeUpstream();
    up.started.completeExceptionally(
        new java.util.concurrent.CompletionException(new IOException("connection refused: somewhere")));
    Fixture f = new Fixture("failed", up);
    UpstreamStatus failed = f.awaitStatus(s -> UpstreamStatus.FAILED.equals(s.state()));
    assertThat(failed.lastError()).isEqualTo("connection refused: somewhere");
    assertThat(failed.attempts()).isEqualTo(1);
    assertThat(failed.recentBackoffMs()).hasSize(1);
    var result = f.kit.runCommand(f.call(IntNode.valueOf(1), "echo", "{}"));
    assertThat(result.hasNoEvents()).isTrue();
    RequestStream.Final answer = f.client.expectMessageClass(RequestStream.Final.class);
    assertThat(answer.fault()).isEqualTo(Fault.UPSTREAM_UNAVAILABLE);
    assertThat(answer.json().at("/result/isError").asBoolean()).isTrue();
  }

  @Test
  void aCancelledRequestIsCancelledUpstreamAndAnsweredCancelled() throws Exception {
    FakeUpstream up = started("hang");
    Fixture f = new Fixture("cancel", up);
    f.awaitReady();
    f.kit.runCommand(f.call(IntNode.valueOf(5), "hang", "{}"));
    long upstreamId = up.nextSent(Methods.TOOLS_CALL).get("id").asLong();
    var result = f.kit.runCommand(new UpstreamServer.Cancel("s1", IntNode.valueOf(5), "user"));
    assertThat(result.hasNoEvents()).isTrue();
    ObjectNode cancelled = up.nextSent(Methods.NOTIFICATION_CANCELLED);
    assertThat(cancelled.at("/params/requestId").asLong()).isEqualTo(upstreamId);
    assertThat(cancelled.at("/params/reason").asText()).isEqualTo("user");
    assertThat(f.client.expectMessageClass(RequestStream.Final.class).fault()).isEqualTo(Fault.CLIENT_CANCELLED);
  }

  @Test
  void aCancelThatOvertakesItsRequestCancelsItBeforeItIsSent() throws Exception {
    FakeUpstream up = started("hang");
    Fixture f = new Fixture("cancel-early", up);
    f.awaitReady();
    up.sent.clear();
    // The client's cancel reached the entity first (its request was still passing the edge's checks).
    f.kit.runCommand(new UpstreamServer.Cancel("s1", IntNode.valueOf(6), "user"));
    f.kit.runCommand(f.call(IntNode.valueOf(6), "hang", "{}"));
    assertThat(f.client.expectMessageClass(RequestStream.Final.class).fault()).isEqualTo(Fault.CLIENT_CANCELLED);
    assertThat(up.sent).noneMatch(m -> Methods.TOOLS_CALL.equals(m.path("method").asText()));
    // Another request of the session is sent as usual.
    f.kit.runCommand(f.call(IntNode.valueOf(7), "hang", "{}"));
    assertThat(up.nextSent(Methods.TOOLS_CALL).at("/params/name").asText()).isEqualTo("hang");
  }

  @Test
  void aListChangeDuringTheFirstListingIsListedAgain() {
    // server-everything registers tools right after `initialized` and says list_changed while
    // Bastion is still on its first listing: that listing is stale and must be repeated.
    FakeUpstream up = new FakeUpstream().withTools("echo");
    up.afterToolsList = () -> {
      up.withTools("echo", "late");
      up.say(JsonRpc.notification(Methods.NOTIFICATION_TOOLS_LIST_CHANGED, null), null);
    };
    up.started.complete(null);
    Fixture f = new Fixture("late", up);
    f.awaitStatus(s -> s.ready() && s.catalog().tools().size() == 2);
    assertThat(toolNames(f.kit.getState().catalog())).containsExactly("echo", "late");
  }

  @Test
  void theFirstListingWaitsUntilInitializedHasBeenSent() throws Exception {
    // Over HTTP a tools/list POST could overtake the `initialized` POST, and servers register
    // tools when `initialized` arrives; their list_changed may go to a GET stream not yet open.
    FakeUpstream up = new FakeUpstream().withTools("echo");
    up.toolsBeforeInitialized = up.tools;
    up.withTools("echo", "registered"); // what it lists once `initialized` has reached it
    // The upstream takes its time over `initialized` (and then sends no list_changed). The old
    // order sent tools/list in the same step as `initialized`, long before this completes.
    up.initializedSend = new CompletableFuture<Void>()
        .completeOnTimeout(null, 300, TimeUnit.MILLISECONDS);
    up.started.complete(null);
    Fixture f = new Fixture("late-init", up);
    f.awaitStatus(s -> s.ready() && s.catalog().tools().size() == 2);
    assertThat(toolNames(f.kit.getState().catalog())).containsExactly("echo", "registered");
  }

  @Test
  void aListChangeIsPersistedOnlyWhenTheCatalogDiffers() throws Exception {
    FakeUpstream up = started("echo");
    Fixture f = new Fixture("relist", up);
    long before = f.awaitReady().version();
    up.withTools("echo", "add");
    up.say(JsonRpc.notification(Methods.NOTIFICATION_TOOLS_LIST_CHANGED, null), null);
    UpstreamStatus changed = f.awaitStatus(s -> s.catalog().tools().size() == 2);
    assertThat(changed.version()).isGreaterThan(before);
    assertThat(f.events()).hasSize(3);
    // The same list again: published, not persisted.
    up.say(JsonRpc.notification(Methods.NOTIFICATION_TOOLS_LIST_CHANGED, null), null);
    f.awaitStatus(s -> s.version() > changed.version());
    assertThat(f.events()).hasSize(3);
    assertThat(toolNames(f.kit.getState().catalog())).containsExactly("echo", "add");
  }

  @Test
  void recoversTheCatalogFromEventsAndTakesSnapshots() throws InterruptedException {
    // The first connection lists a and b; later ones never start, so every restart writes exactly
    // one event (its incarnation, with the recovered catalog). Each restart waits for the previous
    // start to be recorded: the journal is written only by the entity itself, one start at a time.
    // (EventSourcedBehaviorTestKit.initialize is not used: it restarts the entity in between,
    // whose incarnation event would race with the events it seeds.)
    Fixture f = new Fixture("recover", started("a", "b"));
    f.awaitStatus(s -> s.ready() && s.catalog().tools().size() == 2);
    assertThat(f.events()).hasSize(2);
    for (long incarnation = 3; incarnation <= 20; incarnation++) {
      var restarted = f.kit.restart();
      assertThat(toolNames(restarted.state().catalog())).containsExactly("a", "b");
      long expected = incarnation;
      UpstreamStatus published = f.awaitStatus(s -> s.incarnation() == expected);
      // A connecting entity publishes the recovered catalog at once.
      assertThat(published.state()).isEqualTo(UpstreamStatus.CONNECTING);
      assertThat(toolNames(published.catalog())).containsExactly("a", "b");
    }
    var snapshots = f.kit.snapshotTestKit().orElseThrow();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (snapshots.persistedInStorage("UpstreamServer|recover").isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    var stored = snapshots.persistedInStorage("UpstreamServer|recover");
    assertThat(stored).hasSize(1);
    assertThat(stored.get(0).first().sequenceNr()).isEqualTo(20);
    assertThat(toolNames(((UpstreamServer.State) stored.get(0).second()).catalog())).containsExactly("a", "b");
    // Recovery from the snapshot: the next start is the 21st.
    assertThat(toolNames(f.kit.restart().state().catalog())).containsExactly("a", "b");
    assertThat(f.awaitStatus(s -> s.incarnation() == 21).catalog().tools()).hasSize(2);
  }
}
