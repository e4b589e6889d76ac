package io.bastion.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.testkit.BastionTestNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import io.bastion.node.testkit.Eventually;
import java.time.Duration;
import java.util.function.Predicate;

/** The node's read-only operator API, for assertions. */
final class Admin {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Admin() {}

  /** {@code GET /api/v1/servers}. */
  static JsonNode servers(BastionTestNode node) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/v1/servers"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new AssertionError("/api/v1/servers answered " + r.statusCode() + ": " + r.body());
      }
      return TsClient.JSON.readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The entry of {@code name} in {@code /api/v1/servers}, or a missing node. */
  static JsonNode server(BastionTestNode node, String name) {
    for (JsonNode s : servers(node).path("servers")) {
      if (name.equals(s.path("name").asText())) {
        return s;
      }
    }
    return TsClient.JSON.missingNode();
  }

  /** Polls {@code /api/v1/servers} until the entry of {@code name} satisfies {@code until}. */
  static JsonNode awaitServer(BastionTestNode node, String name, Duration timeout, Predicate<JsonNode> until) {
    return Eventually.poll(timeout, Duration.ofMillis(100), () -> server(node, name), until,
        last -> "server " + name + " did not reach the expected status within " + timeout + "; last: " + last);
  }

  static void pause(long ms) {
    Eventually.pause(Duration.ofMillis(ms));
  }
}
