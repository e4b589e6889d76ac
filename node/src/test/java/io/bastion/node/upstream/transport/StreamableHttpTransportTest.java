package io.bastion.node.upstream.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.RecordingListener;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import io.bastion.node.testkit.TestConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StreamableHttpTransportTest extends TransportContract {

  static ActorTestKit testKit;
  EverythingServer server;

  @BeforeAll
  static void startSystem() {
    // TestConfigs turns exit-jvm off: shutting the test kit down would otherwise end the surefire JVM.
    testKit = ActorTestKit.create("streamable-http-transport-test", TestConfigs.local());
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  @Override
  boolean relatesMessagesToRequests() {
    return true;
  }

  @BeforeEach
  void startEverything() throws Exception {
    server = EverythingServer.startHttp();
    listener = new RecordingListener();
    transport = UpstreamTransports.create(testKit.system(), server.config("everything", TransportType.HTTP));
    assertThat(transport).isInstanceOf(StreamableHttpTransport.class);
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
  void capturesTheSessionIdAndOpensTheServerStream() throws Exception {
    initialize();
    String session = ((StreamableHttpTransport) transport).sessionId();
    assertThat(session).isNotBlank();
    awaitLog("Establishing new SSE stream for session " + session);
    transport.close().toCompletableFuture().get(20, TimeUnit.SECONDS);
    awaitLog("Received session termination request for session " + session);
  }

  @Test
  void serverInitiatedMessagesArriveOnTheGetStreamWithoutARequestId() throws Exception {
    initialize();
    awaitLog("Establishing new SSE stream for session " + ((StreamableHttpTransport) transport).sessionId());
    call("tools/call", toolCall("toggle-simulated-logging", JSON.createObjectNode()));
    RecordingListener.Received log = listener.await(
        r -> "notifications/message".equals(r.message().path("method").asText()), WAIT, "a log notification");
    assertThat(log.relatedRequestId()).isNull();
  }

  @Test
  void sendFailsFastOnceTheUpstreamIsGone() throws Exception {
    initialize();
    server.kill();
    CompletableFuture<Void> sent = transport.send(request(99, "tools/list", null)).toCompletableFuture();
    assertThat(sent).failsWithin(Duration.ofSeconds(20))
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        // refused on a new connection, or "closed unexpectedly" on a pooled keep-alive one
        .isInstanceOf(IOException.class)
        .withMessageContaining(server.url().toString());
  }

  @Test
  void notFoundForTheSessionSignalsSessionExpired() throws Exception {
    // A stub upstream: initialize gets a JSON answer and a session id, anything carrying the session gets 404
    String initResult = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-11-25\","
        + "\"capabilities\":{},\"serverInfo\":{\"name\":\"stub\",\"version\":\"0\"}}}";
    ServerBinding binding = Http.get(testKit.system()).newServerAt("127.0.0.1", 0).bindSync(req -> {
      req.discardEntityBytes(testKit.system());
      if (req.getHeader("mcp-session-id").isPresent()) {
        return HttpResponse.create().withStatus(404).withEntity(ContentTypes.APPLICATION_JSON,
            "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32001,\"message\":\"Session not found\"},\"id\":null}");
      }
      return HttpResponse.create().addHeader(RawHeader.create("Mcp-Session-Id", "stub-session"))
          .withEntity(ContentTypes.APPLICATION_JSON, initResult);
    }).toCompletableFuture().get(10, TimeUnit.SECONDS);
    try {
      URI url = URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/mcp");
      RecordingListener l = new RecordingListener();
      UpstreamTransport t = new StreamableHttpTransport(testKit.system(),
          ServerConfig.remote("stub", TransportType.HTTP, url), null);
      t.start(l).toCompletableFuture().get(10, TimeUnit.SECONDS);

      ObjectNode init = request(1, "initialize", JSON.createObjectNode().put("protocolVersion", "2025-11-25"));
      t.send(init).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(l.awaitResponse(IntNode.valueOf(1), WAIT).path("result").path("serverInfo").path("name").asText())
          .isEqualTo("stub");
      assertThat(l.received().get(0).relatedRequestId()).isEqualTo(IntNode.valueOf(1));
      assertThat(((StreamableHttpTransport) t).sessionId()).isEqualTo("stub-session");

      assertThat(t.send(request(2, "tools/list", null)).toCompletableFuture())
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(ExecutionException.class)
          .havingCause()
          .isInstanceOfSatisfying(UpstreamHttpException.class, e -> assertThat(e.status()).isEqualTo(404));
      Throwable cause = l.awaitClosed(WAIT).orElseThrow();
      assertThat(cause).isInstanceOfSatisfying(UpstreamHttpException.class,
          e -> assertThat(e.sessionExpired()).isTrue());
      t.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(l.closedCalls()).isEqualTo(1);
    } finally {
      binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private void awaitLog(String line) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!server.log().contains(line)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("server never logged [" + line + "]; log:\n" + server.log());
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }
}
