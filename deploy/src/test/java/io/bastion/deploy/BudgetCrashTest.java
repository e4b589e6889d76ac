package io.bastion.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code kill -9} of a node while a key spends its budget: after the restart (same H2 store) the
 * key's recovered usage is never below what it really spent (no overspending after a crash), and
 * at most one reservation block above it (docs/governance.md: 100 calls' cost, or two seconds of
 * the key's traffic when busier). A real node JVM started with {@code ./bastion}, a real
 * server-everything upstream over stdio, and SIGKILL.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class BudgetCrashTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String KEY = "vk-crash-test-1";
  static final int ROOM = 1000; // calls the budget has room for: $1.00 at $0.001
  static final int BEFORE_CRASH = 250;

  @Test
  void killNineDuringBudgetUseNeverUnderCountsTheSpend() throws Exception {
    Path dir = DeployFilesTest.DEPLOY.resolve("target/budget-crash");
    LocalCluster.deleteRecursively(dir);
    Files.createDirectories(dir);
    LocalCluster.ensureEverything(dir);
    Path config = dir.resolve("bastion.yaml");
    Files.writeString(config, """
        gateway:
          host: 127.0.0.1
          port: 0
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["node", "%s", "stdio"]
              pricing: {default: 0.001}
        virtual_keys:
          - key_name: crash
            key: %s
            mcp_clients:
              - name: everything
                allowed_tools: ["echo"]
            budget: {max_usd: 1.0, reset: 1M}
        store:
          type: h2
          data_dir: "%s"
        """.formatted(LocalCluster.EVERYTHING, KEY, dir.resolve("data")));
    int port = freePort();

    Process first = start(config, port, dir.resolve("first.log"));
    int spent;
    try {
      String session = initialize(port);
      for (spent = 0; spent < BEFORE_CRASH; spent++) {
        JsonNode r = echo(port, session, spent + 1);
        assertThat(r.path("result").path("isError").asBoolean(false)).as("call %d: %s", spent, r).isFalse();
      }
    } finally {
      first.destroyForcibly(); // SIGKILL: no graceful settle, no hand-off
      first.waitFor(30, TimeUnit.SECONDS);
    }

    Process second = start(config, port, dir.resolve("second.log"));
    try {
      String session = initialize(port);
      int admitted = 0;
      JsonNode refusal = null;
      for (int i = 0; i <= ROOM; i++) {
        JsonNode r = echo(port, session, 10_000 + i);
        if (r.has("error")) {
          refusal = r;
          break;
        }
        admitted++;
      }
      assertThat(refusal).as("the budget runs out after the restart").isNotNull();
      assertThat(refusal.path("error").path("code").asInt()).isEqualTo(-32012);
      int recovered = ROOM - admitted; // calls' worth of usage the node recovered from its journal
      MultiJvmClusterTest.log("budget crash: %d calls before kill -9; usage recovered as %d calls; %d admitted after",
          spent, recovered, admitted);
      assertThat(recovered).as("never under-counts: a crash cannot lead to overspending").isGreaterThanOrEqualTo(spent);
      // One block at most: 100 calls, or two seconds of the key's last second (≤ all of its calls).
      assertThat(recovered).as("over-counts by at most one reservation block")
          .isLessThanOrEqualTo(spent + Math.max(100, 2 * spent));
    } finally {
      second.destroy();
      second.waitFor(30, TimeUnit.SECONDS);
    }
  }

  static Process start(Path config, int port, Path log) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(LocalCluster.ROOT.resolve("bastion").toString(),
        "--config", config.toString(), "--port", String.valueOf(port), "--cluster-port", "0",
        "--management-port", "0").directory(LocalCluster.ROOT.toFile()).redirectErrorStream(true);
    Process p = pb.start();
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
           var w = Files.newBufferedWriter(log)) {
        String line;
        while ((line = r.readLine()) != null) {
          w.write(line);
          w.newLine();
          w.flush();
          if (line.startsWith("Bastion ready")) {
            ready.complete(null);
          }
        }
      } catch (IOException e) {
        ready.completeExceptionally(e);
      }
      ready.completeExceptionally(new IOException("the node exited before it was ready; see " + log));
    }, "budget-crash-log");
    pump.setDaemon(true);
    pump.start();
    try {
      ready.get(4, TimeUnit.MINUTES); // the first ./bastion of a fresh checkout builds the node
    } catch (Exception e) {
      p.destroyForcibly();
      throw new AssertionError("node did not become ready: " + Files.readString(log), e);
    }
    return p;
  }

  static String initialize(int port) throws Exception {
    HttpResponse<String> r = post(port, null, """
        {"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},\
        "clientInfo":{"name":"budget-crash-test","version":"1"}}}""");
    assertThat(r.statusCode()).as("initialize: %s", r.body()).isEqualTo(200);
    String session = r.headers().firstValue("Mcp-Session-Id").orElseThrow();
    post(port, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    // The upstream may still be starting: wait until the tool is listed.
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> l = post(port, session, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
      JsonNode m = LoadClients.message(l, 1);
      if (m != null && m.toString().contains("everything__echo")) {
        return session;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("everything__echo never listed");
  }

  static JsonNode echo(int port, String session, int id) throws Exception {
    HttpResponse<String> r = post(port, session, "{\"jsonrpc\":\"2.0\",\"id\":" + id
        + ",\"method\":\"tools/call\",\"params\":{\"name\":\"everything__echo\",\"arguments\":{\"message\":\"m\"}}}");
    JsonNode m = LoadClients.message(r, id);
    assertThat(m).as("answer to %d: HTTP %d %s", id, r.statusCode(), r.body()).isNotNull();
    return m;
  }

  static HttpResponse<String> post(int port, String session, String body) throws Exception {
    return LoadClients.post(port, session, body, "Authorization", "Bearer " + KEY);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
