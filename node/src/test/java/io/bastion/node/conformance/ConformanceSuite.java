package io.bastion.node.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bastion.node.testkit.EverythingServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs the official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, {@code
 * server --suite all}) against an MCP URL with {@code conformance-baseline.yml} as expected
 * failures, and sums up its checks. Needs {@code bash node/src/test/node/install.sh}.
 *
 * <pre>{@code
 * ConformanceSuite.Result r = ConformanceSuite.run(node.mcpUrl(), workDir, "through Bastion");
 * System.out.println(r.summary());
 * r.assertPassed();
 * }</pre>
 */
public final class ConformanceSuite {
  static final Path BASELINE = Path.of("src", "test", "resources", "conformance-baseline.yml");
  private static final Pattern MIN_SUCCESS = Pattern.compile("(?m)^#\\s*min-success-checks:\\s*(\\d+)");
  private static final Pattern TIMESTAMP_SUFFIX = Pattern.compile("-\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z$");
  private static final Duration SUITE_TIMEOUT = Duration.ofMinutes(4);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ConformanceSuite() {}

  /** What one run found: per-scenario {success, failure, warning} counts and the suite's exit code. */
  public record Result(int exit, Map<String, int[]> perScenario, int success, int failed, int warnings,
      int minSuccess, Path results, Path suiteLog, String summary) {

    /** The suite exited 0 and at least the baseline's {@code min-success-checks} passed. */
    public void assertPassed() {
      assertThat(perScenario).as("scenarios with checks.json under " + results).isNotEmpty();
      assertThat(exit).as("conformance suite exit code (see " + suiteLog + ")" + summary).isZero();
      assertThat(success).as("SUCCESS checks (baseline min-success-checks)" + summary)
          .isGreaterThanOrEqualTo(minSuccess);
    }
  }

  /** The Node 22 binary installed by install.sh (override: -Dbastion.test.node22). */
  static Path node22() {
    String configured = System.getProperty("bastion.test.node22");
    return (configured != null ? Path.of(configured)
        : Path.of("src", "test", "node22", "node_modules", "node", "bin", "node")).toAbsolutePath().normalize();
  }

  /** Runs the suite against {@code mcpUrl}; results and {@code suite.log} go under {@code workDir}. */
  public static Result run(String mcpUrl, Path workDir, String label) throws IOException, InterruptedException {
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

    Files.createDirectories(workDir);
    Path results = workDir.resolve("results-" + System.currentTimeMillis());
    Files.createDirectories(results);
    Path suiteLog = workDir.resolve("suite.log");
    ProcessBuilder pb = new ProcessBuilder(node22.toString(), cli.toString(), "server",
        "--url", mcpUrl, "--suite", "all", "-o", results.toString(),
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
    StringBuilder summary = new StringBuilder("\n=== MCP conformance 0.1.16 " + label + " ===\n");
    perScenario.forEach((s, c) -> summary.append(String.format("%-36s %2d passed, %d failed, %d warnings%n",
        s, c[0], c[1], c[2])));
    summary.append(String.format("%d scenarios: %d passed, %d failed, %d warnings; suite exit %d"
        + " (minimum %d passed); results in %s%n", perScenario.size(), success, failed, warnings, exit,
        minSuccess, results));
    problems.forEach(p -> summary.append("  ").append(p).append('\n'));
    return new Result(exit, perScenario, success, failed, warnings, minSuccess, results, suiteLog,
        summary.toString());
  }
}
