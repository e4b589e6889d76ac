package io.bastion.node.upstream.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.RecordingListener;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import io.bastion.node.testkit.TestConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LegacySseTransportTest extends TransportContract {

  static ActorTestKit testKit;
  EverythingServer server;

  @BeforeAll
  static void startSystem() {
    testKit = ActorTestKit.create("legacy-sse-transport-test", TestConfigs.local());
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  @Override
  boolean relatesMessagesToRequests() {
    return false;
  }

  @BeforeEach
  void startEverything() throws Exception {
    server = EverythingServer.startSse();
    listener = new RecordingListener();
    transport = UpstreamTransports.create(testKit.system(), server.config("everything", TransportType.SSE));
    assertThat(transport).isInstanceOf(LegacySseTransport.class);
    transport.start(listener).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void stopEverything() throws Exception {
    try {
      if (transport != null) {
        transport.close().toCompletableFuture().get(20, TimeUnit.SECONDS);
      }
    } finally {
      server.close();
    }
  }

  @Test
  void resolvesTheRelativeEndpointAgainstTheUrl() {
    URI endpoint = ((LegacySseTransport) transport).endpoint();
    assertThat(endpoint.toString()).startsWith("http://127.0.0.1:" + server.port() + "/message?sessionId=");
  }

  @Test
  void upstreamDeathEndsTheStreamAndSignalsOnClosedWithCause() throws Exception {
    initialize();
    server.kill();
    Throwable cause = listener.awaitClosed(WAIT).orElseThrow();
    assertThat(cause).isInstanceOf(IOException.class).hasMessageContaining("SSE stream from " + server.url());
    assertThat(listener.closedCalls()).isEqualTo(1);
    assertThat(transport.send(request(99, "tools/list", null)).toCompletableFuture())
        .failsWithin(Duration.ofSeconds(10));
  }

  @Test
  void startFailsWhenNothingListens() {
    URI nowhere = URI.create("http://127.0.0.1:" + EverythingServer.freePort() + "/sse");
    UpstreamTransport t = new LegacySseTransport(testKit.system(),
        ServerConfig.remote("nowhere", TransportType.SSE, nowhere));
    assertThat(t.start(new RecordingListener()).toCompletableFuture())
        .failsWithin(Duration.ofSeconds(20))
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOf(ConnectException.class)
        .withMessage("connection refused: " + nowhere);
  }
}
