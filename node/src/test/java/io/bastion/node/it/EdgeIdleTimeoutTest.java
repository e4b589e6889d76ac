package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.McpHttp;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Client connections have a server idle timeout, and open streams never trip it: an idle
 * keep-alive connection is closed, while a tool call that runs longer than the idle timeout is
 * switched to SSE after the keep-alive interval and kept alive by comments until it is answered.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class EdgeIdleTimeoutTest {
  private static final Duration IDLE = Duration.ofSeconds(2);

  private FixtureServer fixture;
  private BastionTestNode node;

  @BeforeAll
  void start() {
    fixture = FixtureServer.startHttp();
    node = BastionTestNode.start(List.of(fixture.config("fx")), ConfigFactory.parseString(
        "bastion.node.sse-keepalive = 500ms\npekko.http.server.idle-timeout = " + IDLE.toMillis() + "ms"));
    node.awaitReady("fx");
  }

  @AfterAll
  void stop() {
    node.close();
    fixture.close();
  }

  @Test
  void anIdleConnectionIsClosedByTheServer() throws Exception {
    URI uri = URI.create(node.mcpUrl());
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), uri.getPort())) {
      s.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
      long started = System.nanoTime();
      InputStream in = s.getInputStream();
      int read;
      try {
        read = in.read(); // nothing was sent: the next thing to happen is the server closing
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the server kept an idle connection open for 30 s", e);
      } catch (java.net.SocketException e) {
        read = -1; // closed with a reset rather than a FIN: closed all the same
      }
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertThat(read).as("end of stream").isEqualTo(-1);
      assertThat(waitedMs).as("closed after the idle timeout, not before").isGreaterThanOrEqualTo(IDLE.toMillis() - 200);
    }
  }

  @Test
  void aCallLongerThanTheIdleTimeoutIsKeptAliveAsSse() {
    McpHttp http = new McpHttp();
    String session = http.initialize(node.mcpUrl(), false);
    ObjectNode params = McpHttp.JSON.createObjectNode().put("name", "fx__slow_echo");
    params.putObject("arguments").put("message", "still answered").put("ms", IDLE.toMillis() * 2);
    try (McpHttp.Exchange e = http.post(node.mcpUrl(), session, McpHttp.request(7, "tools/call", params))) {
      assertThat(e.status).isEqualTo(200);
      assertThat(e.contentType).startsWith("text/event-stream");
      JsonNode r = e.response(Duration.ofSeconds(30));
      assertThat(r.path("id").asInt()).isEqualTo(7);
      assertThat(r.path("result").path("content").path(0).path("text").asText()).isEqualTo("still answered");
    }
  }
}
