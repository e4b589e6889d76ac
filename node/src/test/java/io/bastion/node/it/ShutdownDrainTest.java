package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node on its way out (SIGTERM, cluster leave) answers readiness with 503 at once, keeps
 * serving for {@code bastion.node.shutdown-drain} so that a load balancer can stop sending to it,
 * and only then closes its HTTP port.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ShutdownDrainTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void readinessFailsFirstThenTheNodeServesForTheDrainTimeThenCloses() throws Exception {
    BastionTestNode node = BastionTestNode.start(List.of(),
        ConfigFactory.parseString("bastion.node.shutdown-drain = 3s"));
    try {
      assertThat(get(node, "/health/ready").statusCode()).isEqualTo(200);
      CompletionStage<?> done = CoordinatedShutdown.get(node.running().system().classicSystem())
          .runAll(CoordinatedShutdown.unknownReason());

      Eventually.until(Duration.ofSeconds(2), () -> status(node, "/health/ready") == 503,
          "readiness is 503 once the node is leaving");
      // Still serving within the drain time.
      assertThat(get(node, "/health/live").statusCode()).isEqualTo(200);
      assertThat(done.toCompletableFuture().isDone()).isFalse();

      done.toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThatThrownBy(() -> get(node, "/health/live")).isInstanceOf(IOException.class);
    } finally {
      node.close();
    }
  }

  private static int status(BastionTestNode node, String path) {
    try {
      return get(node, path).statusCode();
    } catch (IOException | InterruptedException e) {
      return -1;
    }
  }

  private static HttpResponse<String> get(BastionTestNode node, String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + path)).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
