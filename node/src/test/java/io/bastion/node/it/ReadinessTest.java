package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.upstream.UpstreamStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /health/ready} after a start waits until every configured upstream has finished its
 * first connection attempt (ready or failed), for at most {@code
 * bastion.node.ready-wait-for-upstreams}. The slow upstream is real server-everything behind a
 * shell that waits for a gate file: the test decides when its first attempt can finish, so
 * nothing depends on timing.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ReadinessTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Status and body of {@code GET /health/ready}. */
  private record Probe(int status, JsonNode body) {
    List<String> pending() {
      List<String> names = new ArrayList<>();
      body.at("/upstreams/firstAttemptPending").forEach(n -> names.add(n.asText()));
      return names;
    }
  }

  private Probe ready(BastionTestNode node) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/health/ready"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return new Probe(r.statusCode(), McpHttp.JSON.readTree(r.body()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  /** server-everything over stdio, started only once {@code gate} exists. */
  private static String gatedEverything(Path gate) {
    List<String> command = new ArrayList<>(List.of("sh", "-c",
        "while [ ! -f \"$0\" ]; do sleep 0.05; done; exec \"$@\"", gate.toString()));
    command.addAll(EverythingServer.stdioCommand());
    return TsClient.json(command);
  }

  private static String yaml(Path gate) {
    return "mcp:\n"
        + "  servers:\n"
        + "    - name: slow\n"
        + "      type: stdio\n"
        + "      request_timeout: 120s\n"
        + "      command: " + gatedEverything(gate) + "\n"
        + "    - name: broken\n"
        + "      type: stdio\n"
        + "      command: [\"sh\", \"-c\", \"exit 3\"]\n";
  }

  @Test
  void readyWaitsForTheSlowUpstreamsFirstAttemptAndAFailedOneCountsAsFinished(@TempDir Path dir) throws IOException {
    Path gate = dir.resolve("gate");
    try (BastionTestNode node = BastionTestNode.startYaml(yaml(gate), Map.of(),
        ConfigFactory.parseString("bastion.node.ready-wait-for-upstreams = 120s"))) {
      // The broken upstream fails its first attempt at once: only the gated one holds readiness back.
      Probe waiting = Eventually.poll(WAIT, Eventually.EVERY, () -> ready(node),
          p -> p.pending().equals(List.of("slow")), p -> "readiness never waited for slow alone: " + p);
      assertThat(waiting.status()).isEqualTo(503);
      assertThat(waiting.body().get("status").asText()).isEqualTo("not-ready");
      assertThat(waiting.body().at("/upstreams/waitExpired").asBoolean()).isFalse();
      assertThat(node.directory().statuses().get("broken").state())
          .isIn(UpstreamStatus.FAILED, UpstreamStatus.BACKING_OFF, UpstreamStatus.CONNECTING);
      assertThat(node.directory().statuses().get("slow").state()).isEqualTo(UpstreamStatus.CONNECTING);

      Files.createFile(gate);
      Probe ready = Eventually.poll(WAIT, Eventually.EVERY, () -> ready(node), p -> p.status() == 200,
          p -> "never ready: " + p);
      assertThat(ready.body().get("status").asText()).isEqualTo("ready");
      assertThat(ready.pending()).isEmpty();
      // Ready means the slow upstream's first attempt is over: here it succeeded, with its tools.
      UpstreamStatus slow = node.directory().statuses().get("slow");
      assertThat(slow.state()).isEqualTo(UpstreamStatus.READY);
      assertThat(slow.catalog().tools()).isNotEmpty();
    }
  }

  @Test
  void anUpstreamThatNeverFinishesHoldsReadinessBackOnlyForTheConfiguredWait(@TempDir Path dir) {
    Path gate = dir.resolve("never-created");
    try (BastionTestNode node = BastionTestNode.startYaml(yaml(gate), Map.of(),
        ConfigFactory.parseString("bastion.node.ready-wait-for-upstreams = 2s"))) {
      Probe ready = Eventually.poll(WAIT, Eventually.EVERY, () -> ready(node), p -> p.status() == 200,
          p -> "never ready: " + p);
      assertThat(ready.body().at("/upstreams/waitExpired").asBoolean()).isTrue();
      assertThat(ready.pending()).contains("slow");
      assertThat(node.directory().statuses().get("slow").state()).isEqualTo(UpstreamStatus.CONNECTING);
      // Once ready, it stays ready: the upstream still connecting does not take the node out again.
      assertThat(ready(node).status()).isEqualTo(200);
    }
  }
}
