package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * {@code @modelcontextprotocol/inspector-cli} 1.0.3 through Bastion. Runs with the node_modules
 * folder as working directory (the CLI looks for {@code ../package.json} relative to its cwd).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class InspectorCliTest {
  private BastionTestNode node;

  @BeforeAll
  void start() {
    node = BastionTestNode.start(List.of(EverythingServer.startStdioConfig()));
    node.awaitReady("everything");
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  private JsonNode inspector(String... args) throws Exception {
    Path modules = EverythingServer.nodeModules();
    Path cli = modules.resolve("@modelcontextprotocol/inspector-cli/build/cli.js");
    assertThat(cli).isRegularFile();
    List<String> cmd = new ArrayList<>(List.of(EverythingServer.nodeBinary(), cli.toString(), "--cli",
        node.mcpUrl(), "--transport", "http"));
    cmd.addAll(Arrays.asList(args));
    Path out = Files.createTempFile("inspector-", ".out");
    Path err = Files.createTempFile("inspector-", ".err");
    try {
      Process p = new ProcessBuilder(cmd).directory(modules.toFile())
          .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError("inspector-cli timed out: " + cmd);
      }
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      String stderr = Files.readString(err, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("exit of %s\nstdout: %s\nstderr: %s", cmd, stdout, stderr).isZero();
      int start = stdout.indexOf('{');
      assertThat(start).as("JSON in %s", stdout).isGreaterThanOrEqualTo(0);
      return TsClient.JSON.readTree(stdout.substring(start));
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort
    }
  }

  @Test
  void listsToolsThroughBastion() throws Exception {
    JsonNode r = inspector("--method", "tools/list");
    List<String> names = new ArrayList<>();
    r.path("tools").forEach(t -> names.add(t.path("name").asText()));
    assertThat(names).contains("everything__echo", "everything__get-sum").allMatch(n -> n.startsWith("everything__"));
  }

  @Test
  void callsEchoThroughBastion() throws Exception {
    JsonNode r = inspector("--method", "tools/call", "--tool-name", "everything__echo",
        "--tool-arg", "message=hello-inspector");
    assertThat(r.path("isError").asBoolean(false)).isFalse();
    assertThat(TsClient.text(r)).contains("hello-inspector");
  }
}
