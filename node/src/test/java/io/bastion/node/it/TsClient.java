package io.bastion.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bastion.node.testkit.EverythingServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code node ts-client.mjs <url> <scenario> [options]} (the TypeScript-SDK client driver in
 * {@code node/src/test/node}) and returns the one JSON report it prints.
 *
 * <pre>{@code
 * JsonNode r = TsClient.run(node.mcpUrl(), "call", "--tool", "everything__echo", "--args", "{\"message\":\"hi\"}");
 * }</pre>
 */
public final class TsClient {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration DEFAULT_WAIT = Duration.ofSeconds(90);

  private TsClient() {}

  /** The folder holding ts-client.mjs, the fixture and node_modules. */
  public static Path toolsDir() {
    return EverythingServer.nodeModules().getParent();
  }

  public static JsonNode run(String url, String scenario, String... options) {
    return run(DEFAULT_WAIT, url, scenario, options);
  }

  /** Runs the driver, waiting at most {@code wait}; fails with its stderr when it misbehaves. */
  public static JsonNode run(Duration wait, String url, String scenario, String... options) {
    List<String> args = new ArrayList<>(List.of(url, scenario));
    args.addAll(Arrays.asList(options));
    return runScript(wait, "ts-client.mjs", args.toArray(String[]::new));
  }

  /** Runs another driver script of the tools folder (e.g. {@code ts-oauth-client.mjs}) the same way. */
  public static JsonNode runScript(Duration wait, String script, String... args) {
    List<String> cmd = new ArrayList<>(List.of(EverythingServer.nodeBinary(), toolsDir().resolve(script).toString()));
    cmd.addAll(Arrays.asList(args));
    Path stdout;
    Path stderr;
    Process p;
    try {
      stdout = Files.createTempFile("ts-client-", ".out");
      stderr = Files.createTempFile("ts-client-", ".err");
      p = new ProcessBuilder(cmd).directory(toolsDir().toFile())
          .redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start ts-client: " + cmd, e);
    }
    try {
      if (!p.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError("ts-client did not finish within " + wait + ": " + cmd
            + "\nstderr: " + read(stderr));
      }
      String out = read(stdout).trim();
      if (out.isEmpty()) {
        throw new AssertionError("ts-client printed nothing (exit " + p.exitValue() + "): " + cmd
            + "\nstderr: " + read(stderr));
      }
      String last = out.substring(out.lastIndexOf('\n') + 1);
      try {
        return JSON.readTree(last);
      } catch (IOException e) {
        throw new AssertionError("ts-client printed no JSON: " + out + "\nstderr: " + read(stderr), e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new AssertionError("interrupted", e);
    } finally {
      try {
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  /** Fails with the whole report when the driver reported an error. */
  public static JsonNode ok(JsonNode report) {
    if (report.has("error")) {
      throw new AssertionError("ts-client reported an error: " + report.toPrettyString());
    }
    return report;
  }

  /** The concatenated text content of a CallToolResult. */
  public static String text(JsonNode callResult) {
    StringBuilder sb = new StringBuilder();
    for (JsonNode c : callResult.path("content")) {
      if ("text".equals(c.path("type").asText())) {
        sb.append(c.path("text").asText());
      }
    }
    return sb.toString();
  }

  static String json(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
