package io.bastion.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ClusterConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.McpHttp;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Pekko Management HTTP is on, read-write: members are listed, and a node leaves through it. */
@Timeout(60)
class ClusterManagementTest {

  @Test
  void membersAreListedAndANodeLeavesThroughManagementHttp() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    BastionConfig config = new BastionConfig(Path.of("mgmt-test.yaml"), GatewayConfig.DEFAULT, List.of(),
        null, null, null, null, null, null, null, null,
        new ClusterConfig("127.0.0.1", 0, List.of(), new ClusterConfig.Management("127.0.0.1", port, true)));
    try (BastionTestNode node = BastionTestNode.start(config, ConfigFactory.empty())) {
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + port;

      HttpResponse<String> members = http.send(HttpRequest.newBuilder(URI.create(base + "/cluster/members")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(members.statusCode()).isEqualTo(200);
      JsonNode body = McpHttp.JSON.readTree(members.body());
      String self = "pekko://bastion@" + node.clusterHostPort();
      assertThat(body.get("selfNode").asText()).isEqualTo(self);
      assertThat(body.get("members")).hasSize(1);
      assertThat(body.at("/members/0/status").asText()).isEqualTo("Up");

      JsonNode api = McpHttp.JSON.readTree(http.send(HttpRequest.newBuilder(
          URI.create(node.baseUrl() + "/api/v1/cluster")).build(), HttpResponse.BodyHandlers.ofString()).body());
      assertThat(api.get("self").asText()).isEqualTo(self);
      assertThat(api.at("/members/0/upNumber").asInt()).isEqualTo(1);

      HttpResponse<String> leave = http.send(HttpRequest.newBuilder(
              URI.create(base + "/cluster/members/" + URLEncoder.encode(self, StandardCharsets.UTF_8)))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .PUT(HttpRequest.BodyPublishers.ofString("operation=Leave")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(leave.statusCode()).as(leave.body()).isEqualTo(200);
      assertThat(leave.body()).contains("Leaving");

      node.running().system().getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(node.isRunning()).isFalse();
    }
  }

  @Test
  void aTakenManagementPortOnlyCostsManagement() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      BastionConfig config = new BastionConfig(Path.of("mgmt-test.yaml"), GatewayConfig.DEFAULT, List.of(),
          null, null, null, null, null, null, null, null, new ClusterConfig("127.0.0.1", 0, List.of(),
          new ClusterConfig.Management("127.0.0.1", taken.getLocalPort(), true)));
      try (BastionTestNode node = BastionTestNode.start(config, ConfigFactory.empty())) {
        JsonNode api = new McpHttp().getJson(node.baseUrl() + "/api/v1/cluster");
        assertThat(api.get("members")).hasSize(1);
      }
    }
  }
}
