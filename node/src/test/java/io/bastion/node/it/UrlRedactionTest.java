package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.BastionTestNode;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/** Secrets in a configured upstream URL never reach lastError, the operator API or the logs. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class UrlRedactionTest {

  @Test
  void anUnreachableUpstreamsSecretsAreNotShownOrLogged() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    String secretUrl = "http://alice:pw-hunter2@127.0.0.1:" + closedPort + "/mcp?token=secret123&team=t-42";
    ServerConfig http = ServerConfig.remote("locked", TransportType.HTTP, URI.create(secretUrl))
        .withTimings(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(2),
            Duration.ofMillis(200), Duration.ofMillis(500));
    ServerConfig sse = ServerConfig.remote("locked-sse", TransportType.SSE, URI.create(secretUrl))
        .withTimings(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(2),
            Duration.ofMillis(200), Duration.ofMillis(500));

    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    root.addAppender(logs);
    try (BastionTestNode node = BastionTestNode.start(List.of(http, sse))) {
      for (String name : List.of("locked", "locked-sse")) {
        JsonNode s = Admin.awaitServer(node, name, Duration.ofSeconds(30),
            x -> "failed".equals(x.path("state").asText()) && x.path("attempts").asInt() >= 2);
        String lastError = s.path("lastError").asText();
        // The URL is named (so the operator knows which one), without its secrets.
        assertThat(lastError).as(name).contains("127.0.0.1:" + closedPort + "/mcp?token=***&team=***")
            .contains("***@127.0.0.1").doesNotContain("secret123").doesNotContain("pw-hunter2")
            .doesNotContain("t-42");
      }
      String api = Admin.servers(node).toString();
      assertThat(api).contains("locked").doesNotContain("secret123").doesNotContain("pw-hunter2");
      assertThat(node.directory().statuses().get("locked").lastError()).doesNotContain("secret123");
    } finally {
      root.detachAppender(logs);
    }
    List<String> lines = logs.list.stream().map(e -> e.getFormattedMessage()
        + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getMessage())).toList();
    assertThat(lines).as("the node logged the failed attempts").anyMatch(l -> l.contains("Upstream [locked]"));
    assertThat(lines).noneMatch(l -> l.contains("secret123") || l.contains("pw-hunter2"));
  }
}
