package io.bastion.node.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, {@code
 * --suite all}) against a Bastion node whose only upstream is Bastion's conformance fixture
 * ({@code src/test/node/conformance-fixture.mjs --http}), exposed with tool prefix "".
 *
 * <p>Needs {@code bash node/src/test/node/install.sh} (the suite and a Node 22 runtime; the suite
 * does not start on Node 20). The fixture runs on the system {@code node}. Everything listens on
 * 127.0.0.1 with ephemeral ports; the suite runs with the loopback preload. Results and logs go to
 * {@code target/conformance/}.
 *
 * <p>Asserts the suite's exit code (0: no failure outside {@code conformance-baseline.yml}) and
 * that at least {@code min-success-checks} (from the baseline's header comment) checks passed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ConformanceSuiteTest {

  private final Path workDir = Path.of("target", "conformance").toAbsolutePath();
  private Process fixture;
  private BastionTestNode node;

  @BeforeAll
  void startFixtureAndNode() throws Exception {
    Files.createDirectories(workDir);
    Path script = EverythingServer.nodeModules().getParent().resolve("conformance-fixture.mjs");
    ProcessBuilder pb = new ProcessBuilder(EverythingServer.nodeBinary(), "-r",
        EverythingServer.loopbackPreload().toString(), script.toString(), "--http")
        .redirectError(ProcessBuilder.Redirect.to(workDir.resolve("fixture.log").toFile()));
    fixture = pb.start();
    URI url = awaitListening(fixture);
    node = BastionTestNode.start(List.of(
        ServerConfig.remote("fixture", TransportType.HTTP, url).withToolPrefix("")));
    node.awaitReady("fixture");
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
    if (fixture != null) {
      fixture.destroy();
      try {
        if (!fixture.waitFor(10, TimeUnit.SECONDS)) {
          fixture.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void officialSuitePassesThroughBastion() throws Exception {
    ConformanceSuite.Result r = ConformanceSuite.run(node.mcpUrl(), workDir, "through Bastion");
    System.out.println(r.summary());
    r.assertPassed();
  }

  /**
   * The suite's server-sse-polling scenario only records INFO when Bastion answers with JSON, so
   * it cannot see a slow resume: test_reconnection closes the upstream POST stream after its
   * priming event, and Bastion must resume with Last-Event-ID after the retry interval (500 ms),
   * not wait for the request timeout.
   */
  @Test
  void upstreamClosingItsPostStreamMidCallIsResumedPromptly() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> init = client.send(post(null,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
            + "\"capabilities\":{},\"clientInfo\":{\"name\":\"conformance-test\",\"version\":\"1\"}}}"),
        HttpResponse.BodyHandlers.ofString());
    assertThat(init.statusCode()).isEqualTo(200);
    String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
    client.send(post(session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"),
        HttpResponse.BodyHandlers.discarding());
    long start = System.nanoTime();
    HttpResponse<String> call = client.send(post(session,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"test_reconnection\",\"arguments\":{}}}"),
        HttpResponse.BodyHandlers.ofString());
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(call.body()).contains("result delivered after the SSE stream was closed");
    assertThat(took).isLessThan(Duration.ofSeconds(10));
  }

  private HttpRequest post(String session, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.mcpUrl()))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (session != null) {
      b.header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-11-25");
    }
    return b.build();
  }

  /** Reads the fixture's stdout until {@code LISTENING <url>} (30 s at most). */
  private static URI awaitListening(Process p) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<URI> url = CompletableFuture.supplyAsync(() -> {
      try {
        for (String line; (line = out.readLine()) != null; ) {
          if (line.startsWith("LISTENING ")) {
            return URI.create(line.substring("LISTENING ".length()).trim());
          }
        }
        throw new IllegalStateException("conformance fixture exited before LISTENING (exit "
            + p.waitFor() + "); see target/conformance/fixture.log");
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    return url.get(30, TimeUnit.SECONDS);
  }
}
