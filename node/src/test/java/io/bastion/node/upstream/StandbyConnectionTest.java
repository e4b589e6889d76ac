package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.NodeSettings;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.RequestStream;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.upstream.transport.UpstreamTransports;
import io.bastion.protocol.Json;
import io.bastion.protocol.Methods;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link StandbyConnection} and {@link UpstreamStandby} against the real server-everything from
 * npm, over stdio and streamable HTTP: the handshake, calls queued while it runs, progress with
 * the client's own token, cancellation, and what its callers get when it cannot start or closes.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class StandbyConnectionTest {

  private static ActorTestKit testKit;
  private static NodeSettings settings;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("StandbyConnectionTest",
        ConfigFactory.parseString("pekko.loglevel = WARNING").withFallback(ConfigFactory.load()));
    settings = NodeSettings.fromConfig(testKit.system().settings().config());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static StandbyConnection open(ServerConfig cfg) {
    return new StandbyConnection(cfg, UpstreamTransports.create(testKit.system(), cfg), Duration.ofSeconds(30))
        .start();
  }

  private static UpstreamServer.Forward call(TestProbe<RequestStream.Event> client, int id, String tool,
      String argsJson) throws Exception {
    ObjectNode params = Json.object().put("name", tool);
    params.set("arguments", Json.MAPPER.readTree(argsJson));
    return new UpstreamServer.Forward("s1", IntNode.valueOf(id), Methods.TOOLS_CALL, params,
        new Reply(client.ref(), id));
  }

  @Test
  void aCallSentWhileTheHandshakeRunsIsAnsweredOverStdio() throws Exception {
    TestProbe<RequestStream.Event> client = testKit.createTestProbe();
    StandbyConnection c = open(EverythingServer.startStdioConfig("standby-stdio"));
    try {
      c.forward(call(client, 7, "echo", "{\"message\":\"from the standby\"}"));
      RequestStream.Final answer = client.expectMessageClass(RequestStream.Final.class, Duration.ofSeconds(30));
      assertThat(answer.fault()).isNull();
      assertThat(answer.correlation()).isEqualTo(7);
      assertThat(answer.json().get("id")).isEqualTo(IntNode.valueOf(7));
      assertThat(answer.json().path("result").toString()).contains("from the standby");
      assertThat(c.phase()).isEqualTo(StandbyConnection.Phase.READY);
      assertThat(c.inFlight()).isZero();
    } finally {
      c.close();
    }
  }

  @Test
  void progressCarriesTheClientsTokenAndCancelStopsTheCall() throws Exception {
    TestProbe<RequestStream.Event> client = testKit.createTestProbe();
    StandbyConnection c = open(EverythingServer.startStdioConfig("standby-progress"));
    try {
      UpstreamServer.Forward f = call(client, 1, "trigger-long-running-operation", "{\"duration\":30,\"steps\":30}");
      f.params().putObject("_meta").put("progressToken", "client-token");
      c.forward(f);
      // server-everything also sends log messages now and then: they reach the client too.
      RequestStream.Message progress = (RequestStream.Message) client.fishForMessage(Duration.ofSeconds(30),
          e -> e instanceof RequestStream.Message m
              && m.json().path("method").asText().equals(Methods.NOTIFICATION_PROGRESS)
              ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore()).get(0);
      assertThat(progress.json().path("params").get("progressToken")).isEqualTo(TextNode.valueOf("client-token"));

      c.cancel("s1", IntNode.valueOf(1), "the user changed their mind");
      // Progress already on its way may come first; then the cancellation's answer.
      RequestStream.Event last = client.fishForMessage(Duration.ofSeconds(10),
          e -> e instanceof RequestStream.Final ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore())
          .get(0);
      assertThat(((RequestStream.Final) last).fault()).isEqualTo(Fault.CLIENT_CANCELLED);
      assertThat(c.inFlight()).isZero();
    } finally {
      c.close();
    }
  }

  @Test
  void aCallIsAnsweredOverStreamableHttp() throws Exception {
    TestProbe<RequestStream.Event> client = testKit.createTestProbe();
    try (EverythingServer http = EverythingServer.startHttp()) {
      StandbyConnection c = open(ServerConfig.remote("standby-http", TransportType.HTTP, http.url()));
      try {
        c.forward(call(client, 3, "get-sum", "{\"a\":2,\"b\":40}"));
        RequestStream.Final answer = client.expectMessageClass(RequestStream.Final.class, Duration.ofSeconds(30));
        assertThat(answer.fault()).isNull();
        assertThat(answer.json().path("result").toString()).contains("42");
      } finally {
        c.close();
      }
    }
  }

  @Test
  void aStandbyThatCannotStartFailsItsCallsWithTheReason() throws Exception {
    TestProbe<RequestStream.Event> client = testKit.createTestProbe();
    StandbyConnection c = open(ServerConfig.stdio("standby-missing", List.of("/nonexistent/bastion-no-such-program")));
    c.forward(call(client, 5, "echo", "{\"message\":\"x\"}"));
    RequestStream.Final answer = client.expectMessageClass(RequestStream.Final.class, Duration.ofSeconds(30));
    assertThat(answer.fault()).isEqualTo(Fault.UPSTREAM_UNAVAILABLE);
    assertThat(answer.json().toString()).contains("standby-missing").contains("could not connect");
    assertThat(c.phase()).isEqualTo(StandbyConnection.Phase.CLOSED);
    assertThat(c.failure()).isNotNull();

    // Closed: later calls fail at once instead of waiting.
    c.forward(call(client, 6, "echo", "{\"message\":\"y\"}"));
    assertThat(client.expectMessageClass(RequestStream.Final.class).fault()).isEqualTo(Fault.UPSTREAM_UNAVAILABLE);
  }

  @Test
  void closingFailsTheCallsItRuns() throws Exception {
    TestProbe<RequestStream.Event> client = testKit.createTestProbe();
    StandbyConnection c = open(EverythingServer.startStdioConfig("standby-close"));
    c.forward(call(client, 1, "trigger-long-running-operation", "{\"duration\":30,\"steps\":3}"));
    io.bastion.node.testkit.Eventually.until(Duration.ofSeconds(30),
        () -> c.phase() == StandbyConnection.Phase.READY && c.inFlight() == 1, "the call runs upstream");
    c.close();
    RequestStream.Final answer = client.expectMessageClass(RequestStream.Final.class, Duration.ofSeconds(10));
    assertThat(answer.fault()).isEqualTo(Fault.UPSTREAM_UNAVAILABLE);
    assertThat(c.phase()).isEqualTo(StandbyConnection.Phase.CLOSED);
  }

  @Test
  void warmStandbysOpenOffTheOwnerAndCloseOnIt() throws Exception {
    ServerConfig warm = EverythingServer.startStdioConfig("standby-warm").withFailover(io.bastion.config.Failover.WARM_STANDBY);
    ServerConfig held = EverythingServer.startStdioConfig("standby-held");
    UpstreamStandby standby = new UpstreamStandby(testKit.system(), settings);
    standby.configure(n -> Optional.ofNullable(n.equals(warm.name()) ? warm : n.equals(held.name()) ? held : null),
        () -> List.of(warm.name(), held.name()));
    try {
      // Owned elsewhere: the warm one opens on the tick, the held one (failover: hold) never does.
      standby.tick(server -> false, server -> false);
      assertThat(standby.open()).isEqualTo(1);
      assertThat(standby.enabled(warm.name())).isTrue();
      assertThat(standby.enabled(held.name())).isFalse();

      TestProbe<RequestStream.Event> client = testKit.createTestProbe();
      assertThat(standby.serve(held.name(), call(client, 1, "echo", "{\"message\":\"held\"}"))).isFalse();
      assertThat(standby.serve(warm.name(), call(client, 2, "echo", "{\"message\":\"warm\"}"))).isTrue();
      RequestStream.Final answer = client.expectMessageClass(RequestStream.Final.class, Duration.ofSeconds(30));
      assertThat(answer.fault()).isNull();
      assertThat(answer.json().path("result").toString()).contains("warm");

      // This node became the owner: its standby is not needed any more.
      standby.tick(server -> false, server -> true);
      assertThat(standby.open()).isZero();
    } finally {
      standby.closeAll();
    }
  }

  @Test
  void activeActiveConnectionsServeEveryCallOffTheOwnerOnceReady() throws Exception {
    ServerConfig active = EverythingServer.startStdioConfig("standby-active")
        .withFailover(io.bastion.config.Failover.ACTIVE_ACTIVE);
    ServerConfig warm = EverythingServer.startStdioConfig("standby-warm-only")
        .withFailover(io.bastion.config.Failover.WARM_STANDBY);
    UpstreamStandby standby = new UpstreamStandby(testKit.system(), settings);
    standby.configure(n -> Optional.ofNullable(n.equals(active.name()) ? active : n.equals(warm.name()) ? warm : null),
        () -> List.of(active.name(), warm.name()));
    TestProbe<RequestStream.Event> client = testKit.createTestProbe();
    try {
      // Before the tick has opened any connection, the entity serves the calls.
      assertThat(standby.serveActive(active.name(), call(client, 1, "echo", "{\"message\":\"early\"}"))).isFalse();
      standby.tick(server -> false, server -> false);
      assertThat(standby.open()).isEqualTo(2);
      UpstreamServer.Forward second = call(client, 2, "echo", "{\"message\":\"local\"}");
      io.bastion.node.testkit.Eventually.until(Duration.ofSeconds(30), () -> standby.serveActive(active.name(), second),
          "the active-active connection is ready and takes a call");
      RequestStream.Final answer = client.expectMessageClass(RequestStream.Final.class, Duration.ofSeconds(30));
      assertThat(answer.fault()).isNull();
      assertThat(answer.correlation()).isEqualTo(2);
      assertThat(answer.json().path("result").toString()).contains("local");
      assertThat(standby.activeCalls(active.name())).isEqualTo(1);

      // A warm standby, ready or not, serves nothing while its owner is alive; a subscription is
      // always the entity's.
      assertThat(standby.serveActive(warm.name(), call(client, 3, "echo", "{\"message\":\"warm\"}"))).isFalse();
      ObjectNode uri = Json.object().put("uri", "demo://resource/static/document/1");
      assertThat(standby.serveActive(active.name(), new UpstreamServer.Forward("s1", IntNode.valueOf(4),
          Methods.RESOURCES_SUBSCRIBE, uri, new Reply(client.ref(), 4)))).isFalse();
      client.expectNoMessage(Duration.ofMillis(100));

      // This node now runs the entity: it keeps no connection, and its calls go to the entity.
      standby.tick(server -> false, server -> true);
      assertThat(standby.open()).isZero();
      assertThat(standby.serveActive(active.name(), call(client, 5, "echo", "{\"message\":\"owner\"}"))).isFalse();
    } finally {
      standby.closeAll();
    }
  }

  @Test
  void aFailedStandbyIsNotReopenedAtOnce() throws Exception {
    ServerConfig broken = ServerConfig.stdio("standby-broken", List.of("/nonexistent/bastion-no-such-program"))
        .withFailover(io.bastion.config.Failover.STANDBY);
    UpstreamStandby standby = new UpstreamStandby(cfg -> UpstreamTransports.create(testKit.system(), cfg), settings,
        Duration.ofHours(1));
    standby.configure(n -> Optional.of(broken), () -> List.of(broken.name()));
    TestProbe<RequestStream.Event> client = testKit.createTestProbe();
    assertThat(standby.serve(broken.name(), call(client, 1, "echo", "{\"message\":\"x\"}"))).isTrue();
    assertThat(client.expectMessageClass(RequestStream.Final.class, Duration.ofSeconds(30)).fault())
        .isEqualTo(Fault.UPSTREAM_UNAVAILABLE);
    // Within the retry delay after the failure the route holds calls instead of starting it again.
    assertThat(standby.serve(broken.name(), call(client, 2, "echo", "{\"message\":\"y\"}"))).isFalse();
    client.expectNoMessage(Duration.ofMillis(100));
    standby.closeAll();
  }
}
