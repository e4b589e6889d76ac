package io.bastion.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.protocol.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real node fronting server-everything: a few tools/call (ok and an unknown tool), then {@code
 * GET /metrics} carries Bastion's metric names and labels in valid Prometheus text, counters grow
 * between scrapes, and each tools/call's request id is in the {@code X-Request-Id} header and in
 * its audit row. Kamon runs without Kanela here (the in-process path).
 */
@org.junit.jupiter.api.Timeout(value = 3, unit = java.util.concurrent.TimeUnit.MINUTES)
class MetricsEndpointTest {
  private static final String ADMIN = "adm-metrics-test-token";
  private static final String KEY = "vk-metrics-1";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static BastionTestNode node;
  private static String session;
  private static final AtomicInteger ids = new AtomicInteger();

  /** One sample line: {@code name{labels} value}. */
  record Sample(String name, Map<String, String> labels, double value) {
    boolean has(Map<String, String> want) {
      return want.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }
  }

  @BeforeAll
  static void start() {
    String yaml = """
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["%s", "%s", "stdio"]
        virtual_keys:
          - key_name: metrics-key
            key: %s
            mcp_clients: [{name: everything, allowed_tools: ["*"]}]
        audit:
          flush_interval: 100ms
        admin:
          token: %s
        """.formatted(EverythingServer.nodeBinary(), EverythingServer.script(), KEY, ADMIN);
    node = BastionTestNode.startYaml(yaml, Map.of(), ConfigFactory.parseString(
        "bastion.metrics.tick-interval = 200ms\nbastion.metrics.sample-interval = 100ms"));
    node.awaitReady("everything");
    HttpResponse<String> init = post(request("initialize", Json.object().put("protocolVersion", "2025-06-18")
        .<ObjectNode>set("capabilities", Json.object())
        .set("clientInfo", Json.object().put("name", "metrics-test").put("version", "1"))), Map.of());
    assertThat(init.statusCode()).isEqualTo(200);
    session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
    post(Json.object().put("jsonrpc", "2.0").put("method", "notifications/initialized"), Map.of());
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void metricsEndpointServesBastionMetricsInPrometheusText() throws Exception {
    // Kamon is one registry per JVM: other test classes' nodes may have recorded calls of the same
    // server and tool, so key-less series are compared as deltas.
    Map<String, String> echoDuration = Map.of("server", "everything", "tool", "echo", "outcome", "ok");
    double durationBefore = value(scrapeUntil(s -> true), "bastion_tool_call_duration_seconds_count", echoDuration);
    for (int i = 0; i < 3; i++) {
      assertThat(echo("hi " + i, Map.of()).statusCode()).isEqualTo(200);
    }
    HttpResponse<String> unknown = post(request("tools/call", Json.object().put("name", "no-such-tool")
        .set("arguments", Json.object())), Map.of());
    assertThat(unknown.body()).contains("Unknown tool");
    assertThat(post(request("tools/list", Json.object()), Map.of()).statusCode()).isEqualTo(200);

    Map<String, String> echoOk = Map.of("server", "everything", "tool", "echo", "key", "metrics-key",
        "outcome", "ok");
    Map<String, String> deniedOfThisKey = Map.of("server", "none", "tool", "none", "key", "metrics-key",
        "outcome", "denied");
    // Wait on the series of this class's own key: the refusals counter is JVM-wide (Kamon), and
    // denied calls of earlier test classes could satisfy it before this call's tick.
    List<Sample> first = scrapeUntil(s -> value(s, "bastion_tool_calls_total", echoOk) >= 3
        && value(s, "bastion_tool_calls_total", deniedOfThisKey) >= 1
        && value(s, "bastion_governance_refusals_total", Map.of("kind", "denied")) >= 1
        && value(s, "bastion_upstream_state", Map.of("server", "everything", "state", "ready")) == 1
        // Sampled gauges are JVM-wide too (one Kamon registry, written by every node's sampler in
        // this JVM): read once this node's own sample is in the tick, as for the upstream state.
        && value(s, "bastion_sessions_open", Map.of()) >= 1
        && value(s, "bastion_mcp_request_duration_seconds_count", Map.of("method", "tools/list")) >= 1);

    assertThat(value(first, "bastion_tool_calls_total", echoOk)).isEqualTo(3);
    assertThat(value(first, "bastion_tool_calls_total", deniedOfThisKey)).isEqualTo(1);
    // At least our 3 (a call of an earlier test class may land in the same Kamon tick); the exact
    // count is asserted on the key-labelled counter above.
    assertThat(value(first, "bastion_tool_call_duration_seconds_count", echoDuration) - durationBefore)
        .isGreaterThanOrEqualTo(3);
    assertThat(find(first, "bastion_tool_call_duration_seconds_bucket",
        Map.of("server", "everything", "tool", "echo", "outcome", "ok", "le", "+Inf"))).isNotEmpty();
    assertThat(find(first, "bastion_tool_call_duration_seconds_bucket", Map.of("tool", "echo")))
        .allSatisfy(s -> assertThat(s.labels()).doesNotContainKey("key"));
    assertThat(value(first, "bastion_mcp_request_duration_seconds_count", Map.of("method", "tools/call")))
        .isGreaterThanOrEqualTo(4);
    assertThat(value(first, "bastion_mcp_request_duration_seconds_count", Map.of("method", "initialize")))
        .isGreaterThanOrEqualTo(1);
    assertThat(value(first, "bastion_upstream_state", Map.of("server", "everything", "state", "failed")))
        .isZero();
    assertThat(find(first, "bastion_upstream_in_flight", Map.of("server", "everything"))).isNotEmpty();
    assertThat(value(first, "bastion_sessions_open", Map.of())).isGreaterThanOrEqualTo(1);
    assertThat(find(first, "bastion_streams_open", Map.of())).isNotEmpty();
    assertThat(find(first, "bastion_audit_queue_depth", Map.of())).isNotEmpty();
    assertThat(value(first, "bastion_audit_dropped_total", Map.of())).isZero();
    assertThat(value(first, "bastion_cluster_members", Map.of("status", "up"))).isGreaterThanOrEqualTo(1);

    // Counters grow between scrapes.
    echo("again", Map.of());
    echo("and again", Map.of());
    List<Sample> second = scrapeUntil(s -> value(s, "bastion_tool_calls_total", echoOk) >= 5);
    assertThat(value(second, "bastion_tool_calls_total", echoOk)).isEqualTo(5);
    // Key-less series are JVM-wide (one Kamon registry; other test classes call the same tool):
    // deltas, as above; the exact 5 is the key-labelled counter's.
    assertThat(value(second, "bastion_tool_call_duration_seconds_count", echoDuration) - durationBefore)
        .isGreaterThanOrEqualTo(5);
    assertThat(value(second, "bastion_tool_call_duration_seconds_count", echoDuration)
        - value(first, "bastion_tool_call_duration_seconds_count", echoDuration)).isGreaterThanOrEqualTo(2);
    assertThat(value(second, "bastion_mcp_request_duration_seconds_count", Map.of("method", "tools/call")))
        .isGreaterThan(value(first, "bastion_mcp_request_duration_seconds_count", Map.of("method", "tools/call")));
  }

  @Test
  void requestIdIsReturnedAndAudited() throws Exception {
    HttpResponse<String> given = echo("with id", Map.of("X-Request-Id", "test-req-42"));
    assertThat(given.headers().firstValue("X-Request-Id")).contains("test-req-42");
    HttpResponse<String> traced = echo("traced",
        Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assertThat(traced.headers().firstValue("X-Request-Id")).contains("4bf92f3577b34da6a3ce929d0e0e4736");
    HttpResponse<String> generated = echo("plain", Map.of());
    String genId = generated.headers().firstValue("X-Request-Id").orElseThrow();
    assertThat(genId).matches("[0-9a-f]{32}");
    HttpResponse<String> bad = echo("bad id", Map.of("X-Request-Id", "has spaces and {braces}"));
    assertThat(bad.headers().firstValue("X-Request-Id").orElseThrow()).matches("[0-9a-f]{32}");

    long deadline = System.currentTimeMillis() + 15_000;
    List<String> ids = List.of();
    while (System.currentTimeMillis() < deadline) {
      HttpResponse<String> audit = HTTP.send(HttpRequest.newBuilder(URI.create(node.baseUrl()
              + "/api/v1/audit?limit=100")).header("Authorization", "Bearer " + ADMIN).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(audit.statusCode()).isEqualTo(200);
      ids = new ArrayList<>();
      for (JsonNode r : Json.MAPPER.readTree(audit.body()).path("records")) {
        ids.add(r.path("requestId").asText(null));
      }
      if (ids.containsAll(List.of("test-req-42", "4bf92f3577b34da6a3ce929d0e0e4736", genId))) {
        break;
      }
      Thread.sleep(100);
    }
    assertThat(ids).contains("test-req-42", "4bf92f3577b34da6a3ce929d0e0e4736", genId);
  }

  // ------------------------------------------------------------------ helpers

  private static HttpResponse<String> echo(String message, Map<String, String> headers) {
    return post(request("tools/call", Json.object().put("name", "everything__echo")
        .set("arguments", Json.object().put("message", message))), headers);
  }

  private static ObjectNode request(String method, ObjectNode params) {
    ObjectNode o = Json.object().put("jsonrpc", "2.0").put("id", ids.incrementAndGet()).put("method", method);
    o.set("params", params);
    return o;
  }

  private static HttpResponse<String> post(ObjectNode body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.mcpUrl())).timeout(Duration.ofSeconds(30))
        .header("Accept", "application/json, text/event-stream").header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + KEY)
        .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)));
    if (session != null) {
      b.header("Mcp-Session-Id", session);
    }
    headers.forEach(b::header);
    try {
      return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  /** Scrapes until {@code done} holds (15 s at most); every scrape must parse. */
  private static List<Sample> scrapeUntil(Predicate<List<Sample>> done) throws Exception {
    long deadline = System.currentTimeMillis() + 15_000;
    List<Sample> samples = List.of();
    String text = "";
    while (System.currentTimeMillis() < deadline) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/metrics"))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
      text = r.body();
      samples = parse(text);
      if (done.test(samples)) {
        return samples;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("metrics never reached the expected values; last scrape:\n" + text);
  }

  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern SAMPLE = Pattern.compile(
      "(" + NAME.pattern() + ")(\\{(.*)\\})? ([^ ]+)( -?[0-9]+)?");
  private static final Pattern LABEL = Pattern.compile(
      "([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"(,|$)");

  /** Parses Prometheus text format 0.0.4 strictly enough to catch a malformed line. */
  static List<Sample> parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("#")) {
        assertThat(line).matches("# (HELP|TYPE) " + NAME.pattern() + " .*");
        if (line.startsWith("# TYPE")) {
          assertThat(line).matches("# TYPE \\S+ (counter|gauge|histogram|summary|untyped)");
        }
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("sample line: %s", line).isTrue();
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null && !m.group(3).isEmpty()) {
        Matcher l = LABEL.matcher(m.group(3));
        int end = 0;
        while (l.find() && l.start() == end) {
          labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\"));
          end = l.end();
        }
        assertThat(end).as("labels of: %s", line).isEqualTo(m.group(3).length());
      }
      String v = m.group(4);
      double value = switch (v) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        case "NaN" -> Double.NaN;
        default -> Double.parseDouble(v);
      };
      out.add(new Sample(m.group(1), labels, value));
    }
    return out;
  }

  private static List<Sample> find(List<Sample> samples, String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name) && s.has(labels)).toList();
  }

  /** The sum over the samples of {@code name} carrying {@code labels} (-1 when there are none). */
  private static double value(List<Sample> samples, String name, Map<String, String> labels) {
    List<Sample> f = find(samples, name, labels);
    return f.isEmpty() ? -1 : f.stream().mapToDouble(Sample::value).sum();
  }
}
