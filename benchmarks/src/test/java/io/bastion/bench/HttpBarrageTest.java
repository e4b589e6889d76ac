package io.bastion.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.bastion.config.ServerConfig;
import io.bastion.node.BastionNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short, seeded HTTP barrage (docs/fuzzing.md; the long one is {@code benchmarks/fuzz.sh}):
 * 2,000 generated hostile requests against a real node in this JVM fronting server-everything over
 * stdio. No 5xx, no connection torn down by the node, and the node still serves a session afterwards.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HttpBarrageTest {

  @Test
  void seededBarrageGetsNo5xxAndTheNodeKeepsServing(@TempDir Path dir) throws Exception {
    BastionNode.Running node = BenchmarkMain.startInProcess(
        List.of(ServerConfig.stdio("everything", HttpBarrage.upstreamCommand())), dir.resolve("data"));
    try {
      URI mcp = URI.create(node.mcpUrl());
      HttpClient client = HttpClient.newHttpClient();
      HttpBarrage.awaitTools(client, mcp);
      HttpBarrage.Result r = HttpBarrage.run(mcp, 2_000, 8, 7, 4 * 1024 * 1024);
      String report = HttpBarrage.report(r);
      System.out.println(report);
      assertThat(r.serverErrors()).as(report).isZero();
      assertThat(r.transportErrors()).as(report).isZero();
      assertThat(r.answered()).as(report).isGreaterThan(1_800);
      // every category was generated
      assertThat(r.byCategory().keySet()).as(report).contains("tool-call", "random-method", "malformed-json",
          "content-type", "bad-session", "bad-version", "batch", "random-headers", "other-method", "get-stream",
          "initialize", "raw-http");
      assertThat(HttpBarrage.liveness(client, mcp)).startsWith("ok");
    } finally {
      node.stop();
    }
  }

  @Test
  void onlyRfcPrescribedParserAnswersCountAsHttpLayer() {
    assertThat(HttpBarrage.isHttpLayerAnswer(501, "q~g7zO)So 9\r\n\r\n")).isTrue();
    assertThat(HttpBarrage.isHttpLayerAnswer(505, "POST /mcp HTTP/9.9\r\nHost: x\r\n\r\n")).isTrue();
    assertThat(HttpBarrage.isHttpLayerAnswer(501, "POST /mcp HTTP/1.1\r\n\r\n")).isFalse();
    assertThat(HttpBarrage.isHttpLayerAnswer(500, "q~g7zO)So 9\r\n\r\n")).isFalse();
    assertThat(HttpBarrage.isHttpLayerAnswer(505, "POST /mcp HTTP/1.1\r\n\r\n")).isFalse();
  }
}
