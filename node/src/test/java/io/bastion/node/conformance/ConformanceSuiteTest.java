package io.bastion.node.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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

  private static final Path BASELINE = Path.of("src", "test", "resources", "conformance-baseline.yml");
  private static final Pattern MIN_SUCCESS = Pattern.compile("(?m)^#\\s*min-success-checks:\\s*(\\d+)");
  private static final Pattern TIMESTAMP_SUFFIX = Pattern.compile("-\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z$");
  private static final Duration SUITE_TIMEOUT = Duration.ofMinutes(4);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Path workDir = Path.of("target", "conformance").toAbsolutePath();
  private Process fixture;
  private BastionTestNode node;

  /** The Node 22 binary installed by install.sh (override: -Dbastion.test.node22). */
  static Path node22() {
    String configured = System.getProperty("bastion.test.node22");
    return (configured != null ? Path.of(configured)
        : Path.of("src", "test", "node22", "node_modules", "node", "bin", "node")).toAbsolutePath().normalize();
  }

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
    Path node22 = node22();
    if (!Files.isExecutable(node22)) {
      fail("Node 22 not found at " + node22 + ": the conformance suite needs Node >= 22."
          + " Run `bash node/src/test/node/install.sh` (or set -Dbastion.test.node22)");
    }
    Path cli = EverythingServer.nodeModules().resolve("@modelcontextprotocol/conformance/dist/index.js");
    if (!Files.isRegularFile(cli)) {
      fail("conformance suite not installed at " + cli + ": run `bash node/src/test/node/install.sh`");
    }
    String baseline = Files.readString(BASELINE);
    Matcher m = MIN_SUCCESS.matcher(baseline);
    assertThat(m.find()).as("header comment `# min-success-checks: N` in " + BASELINE).isTrue();
    int minSuccess = Integer.parseInt(m.group(1));

    Path results = workDir.resolve("results-" + System.currentTimeMillis());
    Files.createDirectories(results);
    Path suiteLog = workDir.resolve("suite.log");
    ProcessBuilder pb = new ProcessBuilder(node22.toString(), cli.toString(), "server",
        "--url", node.mcpUrl(), "--suite", "all", "-o", results.toString(),
        "--expected-failures", BASELINE.toAbsolutePath().toString())
        .redirectErrorStream(true)
        .redirectOutput(suiteLog.toFile());
    Map<String, String> env = pb.environment();
    env.put("PATH", node22.getParent() + java.io.File.pathSeparator + env.getOrDefault("PATH", ""));
    env.put("NODE_OPTIONS", "-r " + EverythingServer.loopbackPreload());
    env.put("LOOPBACK_PRELOAD_QUIET", "1");
    Process suite = pb.start();
    if (!suite.waitFor(SUITE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      suite.destroyForcibly();
      fail("the conformance suite did not finish within " + SUITE_TIMEOUT + "; see " + suiteLog);
    }
    int exit = suite.exitValue();

    Map<String, int[]> perScenario = new TreeMap<>(); // success, failure, warning
    List<String> problems = new ArrayList<>();
    try (Stream<Path> files = Files.walk(results)) {
      for (Path f : files.filter(p -> p.getFileName().toString().equals("checks.json")).toList()) {
        String scenario = TIMESTAMP_SUFFIX.matcher(f.getParent().getFileName().toString())
            .replaceFirst("").replaceFirst("^server-", "");
        int[] counts = perScenario.computeIfAbsent(scenario, k -> new int[3]);
        for (JsonNode check : MAPPER.readTree(f.toFile())) {
          String status = check.path("status").asText();
          switch (status) {
            case "SUCCESS" -> counts[0]++;
            case "FAILURE" -> counts[1]++;
            case "WARNING" -> counts[2]++;
            default -> { /* INFO */ }
          }
          if (status.equals("FAILURE") || status.equals("WARNING")) {
            problems.add(status + " " + scenario + "/" + check.path("id").asText() + ": "
                + check.path("errorMessage").asText(check.path("description").asText()));
          }
        }
      }
    }
    int success = perScenario.values().stream().mapToInt(c -> c[0]).sum();
    int failed = perScenario.values().stream().mapToInt(c -> c[1]).sum();
    int warnings = perScenario.values().stream().mapToInt(c -> c[2]).sum();
    StringBuilder summary = new StringBuilder("\n=== MCP conformance 0.1.16 through Bastion ===\n");
    perScenario.forEach((s, c) -> summary.append(String.format("%-36s %2d passed, %d failed, %d warnings%n",
        s, c[0], c[1], c[2])));
    summary.append(String.format("%d scenarios: %d passed, %d failed, %d warnings; suite exit %d"
        + " (minimum %d passed); results in %s%n", perScenario.size(), success, failed, warnings, exit,
        minSuccess, results));
    problems.forEach(p -> summary.append("  ").append(p).append('\n'));
    System.out.println(summary);

    assertThat(perScenario).as("scenarios with checks.json under " + results).isNotEmpty();
    assertThat(exit).as("conformance suite exit code (see " + suiteLog + ")" + summary).isZero();
    assertThat(success).as("SUCCESS checks (baseline min-success-checks)" + summary).isGreaterThanOrEqualTo(minSuccess);
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
