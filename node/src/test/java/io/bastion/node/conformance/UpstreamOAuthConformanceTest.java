package io.bastion.node.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.McpHttp;
import io.bastion.node.upstream.UpstreamStatus;
import io.bastion.node.upstream.oauth.TokenCipher;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The official conformance suite's {@code auth/*} client scenarios with Bastion as the OAuth
 * client. For each scenario the suite starts its authorization server and MCP server and runs
 * {@code conformance-oauth-client.sh <url>}, which hands the URL (and the scenario's context:
 * pre-registered client, client credentials) to this JVM. Here a Bastion node is started with that
 * URL as an {@code auth: {type: oauth}} upstream; when it asks for authorization, the
 * authorization URL is opened like a browser would (the suite's server approves at once and
 * redirects to Bastion's callback); once the upstream is ready, a client lists and calls its tools
 * through Bastion. The score goes to docs/conformance.md.
 */
@Timeout(1200)
class UpstreamOAuthConformanceTest {

  static final List<String> SCENARIOS = List.of(
      "auth/metadata-default", "auth/metadata-var1", "auth/metadata-var2", "auth/metadata-var3",
      "auth/basic-cimd", "auth/scope-from-www-authenticate", "auth/scope-from-scopes-supported",
      "auth/scope-omitted-when-undefined", "auth/scope-step-up", "auth/scope-retry-limit",
      "auth/token-endpoint-auth-basic", "auth/token-endpoint-auth-post", "auth/token-endpoint-auth-none",
      "auth/pre-registration", "auth/2025-03-26-oauth-metadata-backcompat",
      "auth/2025-03-26-oauth-endpoint-fallback", "auth/client-credentials-basic", "auth/client-credentials-jwt");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The client id the suite's {@code auth/basic-cimd} expects (its authorization server does not fetch it). */
  static final String CIMD_URL = "https://conformance-test.local/client-metadata.json";
  private final String key = TokenCipher.newKey();
  private final McpHttp mcp = new McpHttp();

  @Test
  void authClientScenarios() throws Exception {
    HttpServer shim = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    shim.createContext("/run", this::run);
    shim.start();
    Path work = Files.createTempDirectory("bastion-oauth-conformance");
    Map<String, int[]> results = new LinkedHashMap<>();
    try {
      // -Dbastion.conformance.scenarios=auth/basic-cimd,... runs only those (a quick rerun of one).
      String only = System.getProperty("bastion.conformance.scenarios", "");
      List<String> chosen = only.isBlank() ? SCENARIOS : List.of(only.split(","));
      for (String scenario : chosen) {
        results.put(scenario, runScenario(scenario, shim.getAddress().getPort(), work));
      }
    } finally {
      shim.stop(0);
    }
    StringBuilder summary = new StringBuilder("\n=== MCP conformance 0.1.16 auth/* client scenarios, Bastion as client ===\n");
    int passedScenarios = 0;
    for (var e : results.entrySet()) {
      int[] c = e.getValue();
      boolean passed = c[1] == 0 && c[0] > 0;
      passedScenarios += passed ? 1 : 0;
      summary.append(String.format("%-45s %s  %2d passed, %d failed, %d warnings%n", e.getKey(),
          passed ? "PASS" : "FAIL", c[0], c[1], c[2]));
    }
    summary.append(passedScenarios).append(" of ").append(results.size()).append(" scenarios pass; results in ")
        .append(work).append('\n');
    System.out.println(summary);
    Files.writeString(work.resolve("summary.txt"), summary);
    assertThat(passedScenarios).as(summary.toString()).isEqualTo(results.size());
    if (results.containsKey("auth/basic-cimd")) {
      // Bastion offers its Client ID Metadata Document there: no "SHOULD use a URL client id" warning.
      assertThat(results.get("auth/basic-cimd")[2]).as(summary.toString()).isZero();
    }
  }

  /** {success, failure, warning} checks of one scenario. */
  private int[] runScenario(String scenario, int shimPort, Path work) throws Exception {
    Path cli = EverythingServer.nodeModules().resolve("@modelcontextprotocol/conformance/dist/index.js");
    Path shim = Path.of("src", "test", "node", "conformance-oauth-client.sh").toAbsolutePath();
    Path out = work.resolve(scenario.replace('/', '_'));
    Files.createDirectories(out);
    ProcessBuilder pb = new ProcessBuilder(ConformanceSuite.node22().toString(), cli.toString(), "client",
        "--command", "sh " + shim, "--scenario", scenario, "--timeout", "100000", "-o", out.toString())
        .redirectErrorStream(true).redirectOutput(out.resolve("suite.log").toFile());
    Map<String, String> env = pb.environment();
    env.put("PATH", ConformanceSuite.node22().getParent() + java.io.File.pathSeparator + env.getOrDefault("PATH", ""));
    env.put("BASTION_CONFORMANCE_SHIM_PORT", String.valueOf(shimPort));
    Process p = pb.start();
    if (!p.waitFor(150, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    int[] counts = new int[3];
    try (Stream<Path> files = Files.walk(out)) {
      for (Path f : files.filter(x -> x.getFileName().toString().equals("checks.json")).toList()) {
        for (JsonNode check : JSON.readTree(f.toFile())) {
          switch (check.path("status").asText()) {
            case "SUCCESS" -> counts[0]++;
            case "FAILURE" -> counts[1]++;
            case "WARNING" -> counts[2]++;
            default -> { }
          }
        }
      }
    }
    return counts;
  }

  /** One scenario's client run: a Bastion node fronting the suite's server as an OAuth upstream. */
  private void run(HttpExchange ex) throws IOException {
    try (ex) {
      Map<String, String> form = form(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      String verdict;
      int status;
      try {
        verdict = drive(form.get("url"), form.getOrDefault("scenario", ""), form.getOrDefault("context", ""));
        status = 200;
      } catch (Exception | AssertionError e) {
        verdict = "Bastion as client failed: " + e;
        status = 500;
      }
      byte[] body = (verdict + "\n").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, body.length);
      ex.getResponseBody().write(body);
    }
  }

  private String drive(String url, String scenario, String context) throws Exception {
    StringBuilder auth = new StringBuilder("{type: oauth");
    Map<String, String> env = new HashMap<>();
    if (!context.isBlank()) {
      JsonNode ctx = JSON.readTree(context);
      if (ctx.hasNonNull("client_id")) {
        auth.append(", client_id: \"").append(ctx.get("client_id").asText()).append('"');
      }
      if (ctx.hasNonNull("client_secret")) {
        auth.append(", client_secret: \"").append(ctx.get("client_secret").asText()).append('"');
      }
      if (ctx.hasNonNull("private_key_pem")) {
        // As an operator would: the key from the environment, never written into the file.
        env.put("CONFORMANCE_PRIVATE_KEY", ctx.get("private_key_pem").asText());
        auth.append(", token_endpoint_auth: private_key_jwt, private_key: \"${CONFORMANCE_PRIVATE_KEY}\"");
        if (ctx.hasNonNull("signing_algorithm")) {
          auth.append(", signing_algorithm: ").append(ctx.get("signing_algorithm").asText());
        }
      }
    }
    if (scenario.contains("client-credentials")) {
      auth.append(", grant: client_credentials");
    }
    auth.append('}');
    String yaml = """
        mcp:
          servers:
            - name: up
              type: http
              url: %s
              auth: %s
              backoff: {initial: 200ms, max: 1s}
        """.formatted(url, auth);
    Map<String, Object> settings = new HashMap<>(Map.of("bastion.upstream-oauth.key", key));
    if (scenario.contains("cimd")) {
      // The operator's https URL of Bastion's Client ID Metadata Document; the suite expects this one.
      settings.put("bastion.upstream-oauth.client-metadata-url", CIMD_URL);
    }
    try (BastionTestNode node = BastionTestNode.startYaml(yaml, env, ConfigFactory.parseMap(settings))) {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      String opened = null;
      UpstreamStatus s = null;
      HttpClient browser = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();
      while (System.nanoTime() < deadline) {
        s = node.directory().statuses().get("up");
        if (s != null && s.ready()) {
          break;
        }
        if (s != null && UpstreamStatus.NEEDS_AUTHORIZATION.equals(s.state()) && s.authorizationUrl() != null
            && !s.authorizationUrl().equals(opened)) {
          opened = s.authorizationUrl();
          browser.send(HttpRequest.newBuilder(URI.create(opened)).GET().build(), HttpResponse.BodyHandlers.ofString());
        }
        Thread.sleep(100);
      }
      if (s == null || !s.ready()) {
        throw new AssertionError("upstream not ready: " + (s == null ? "no status" : s.state() + " " + s.lastError()));
      }
      String session = mcp.initialize(node.mcpUrl(), false);
      JsonNode tools;
      try (McpHttp.Exchange list = mcp.post(node.mcpUrl(), session, McpHttp.request(1, "tools/list", null))) {
        tools = list.response().path("result").path("tools");
      }
      if (tools.size() == 0) {
        return "listed no tools";
      }
      String name = tools.get(0).path("name").asText();
      JsonNode answer = call(node, session, name, 2);
      if (answer.has("error") || answer.path("result").path("isError").asBoolean()) {
        // A step-up (403 insufficient_scope): the operator approves the new authorization URL.
        UpstreamStatus asked = awaitAuthorization(node, opened);
        if (asked != null) {
          browser.send(HttpRequest.newBuilder(URI.create(asked.authorizationUrl())).GET().build(),
              HttpResponse.BodyHandlers.ofString());
          node.awaitReady("up");
          answer = call(node, mcp.initialize(node.mcpUrl(), false), name, 3);
        }
      }
      return "called " + name + ": " + answer;
    }
  }

  private JsonNode call(BastionTestNode node, String session, String name, long id) {
    try (McpHttp.Exchange call = mcp.post(node.mcpUrl(), session, McpHttp.request(id, "tools/call",
        McpHttp.json("{\"name\":\"" + name + "\",\"arguments\":{}}")))) {
      return call.response();
    }
  }

  /** The status once the upstream asks for an authorization other than {@code opened}, or null within 10 s. */
  private static UpstreamStatus awaitAuthorization(BastionTestNode node, String opened) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      UpstreamStatus s = node.directory().statuses().get("up");
      if (s != null && UpstreamStatus.NEEDS_AUTHORIZATION.equals(s.state()) && s.authorizationUrl() != null
          && !s.authorizationUrl().equals(opened)) {
        return s;
      }
      Thread.sleep(100);
    }
    return null;
  }

  private static Map<String, String> form(String body) {
    Map<String, String> out = new HashMap<>();
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }
}
