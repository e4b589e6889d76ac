package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.ConfigLoader;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.OAuthUpstreamFixture;
import io.bastion.node.upstream.oauth.TokenCipher;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The operator console end to end, in Debian's headless Chromium driven by playwright-core
 * ({@code node/src/test/node/console-e2e.mjs}), against a real node with real upstreams
 * (server-everything over stdio from the config, and over streamable HTTP added through the
 * form), an MCP server behind a real authorization server ({@link OAuthUpstreamFixture}), and the
 * real TypeScript SDK client: sign in, upstreams ready, a wrong token refused, a bad server URL
 * showing the config reader's error, a server added and connected, the OAuth server authorized with
 * the Authorize button (the sign-in tab runs the flow at the authorization server), a key limited
 * to two tools created, used by the TS client, its spend and rate-limit usage updated, the cluster's
 * figures, the Code Mode stubs of a key, its calls in the audit page. Any request to another
 * origin fails the test, except the sign-in tab's requests to the authorization server. Writes the 1280x800 screenshots under target/console-screenshots
 * (under docs/console/ with {@code -Dbastion.console.screenshots=docs}).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ConsoleE2ETest {
  static final String ADMIN = "console-admin-token-0123456789";
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  static String yaml(java.net.URI guarded) {
    return """
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["%s", "%s", "stdio"]
              pricing: {default: 0.01}
            - name: guarded
              type: http
              url: %s
              auth: {type: oauth}
              backoff: {initial: 200ms, max: 1s}
          code_mode:
            enabled: true
            mode: off
            keys: {ops: on}
        virtual_keys:
          - key_name: ops
            key: vk-ops-config-key-1
            mcp_clients: [{name: everything, allowed_tools: ["*"]}]
        audit:
          arguments: full
          flush_interval: 200ms
        admin:
          token: %s
        """.formatted(EverythingServer.nodeBinary(), EverythingServer.script(), guarded, ADMIN);
  }

  @Test
  void anOperatorManagesServersKeysAndReadsTheAuditLogInTheBrowser() throws Exception {
    assertThat(CHROMIUM).as("Debian's chromium (.ci/run installs it: apt-get install -y chromium)").exists();
    // The committed screenshots are refreshed on demand (-Dbastion.console.screenshots=docs, the
    // README says how); an ordinary run writes them under target/ and leaves the tree clean.
    Path screenshots = "docs".equals(System.getProperty("bastion.console.screenshots"))
        ? TsClient.toolsDir().resolve("../../../../docs/console").normalize()
        : Path.of("target", "console-screenshots").toAbsolutePath();
    try (EverythingServer http = EverythingServer.startHttp();
        OAuthUpstreamFixture as = OAuthUpstreamFixture.start();
        BastionTestNode node = BastionTestNode.startWithData(
            ConfigLoader.parse(yaml(as.mcpUrl()), Path.of("console-e2e.yaml"), Map.of()),
            ConfigFactory.parseMap(Map.of("bastion.upstream-oauth.key", TokenCipher.newKey())),
            Files.createTempDirectory("console-e2e-"))) {
      node.awaitReady("everything");
      String options = TsClient.json(Map.of("base", node.baseUrl(), "token", ADMIN,
          "httpUpstream", http.url().toString(), "screenshots", screenshots.toString(),
          "chromium", CHROMIUM.toString(), "authorizationServer", as.issuer()));
      JsonNode r = run(options);

      assertThat(r.path("error").isMissingNode()).as("console-e2e error: %s\nsteps: %s", r.path("error"), r.path("steps"))
          .isTrue();
      assertThat(r.path("foreignRequests")).as("requests to another origin").isEmpty();
      assertThat(r.path("consoleErrors").toString()).doesNotContain("Content Security Policy");
      assertThat(r.path("wrongTokenMessage").asText()).contains("refused");
      assertThat(r.path("badUrlError").asText()).contains("url: expected an http(s) URL");
      assertThat(r.path("addServerStatus").asText()).contains("remote is connected");
      assertThat(r.path("steps").findValues("name").stream().map(JsonNode::asText).toList())
          .contains("reconnect from the servers page", "overview figures", "logged out");
      assertThat(r.path("overviewFigures").toString()).contains("p50 tools/call", "calls / s");
      assertThat(node.directory().statuses().get("remote").state()).isEqualTo("ready");
      // OAuth: needs authorization until the operator clicked Authorize; the sign-in tab ran the
      // flow at the real authorization server; the server is ready, and only that tab left the origin.
      assertThat(r.path("guardedBefore").asText()).isEqualTo("needs authorization");
      assertThat(r.path("callbackText").asText()).containsIgnoringCase("guarded");
      assertThat(r.path("guardedAfter").asText()).isEqualTo("ready");
      assertThat(r.path("guardedAuthorizeLinks").asInt()).isZero();
      assertThat(node.directory().statuses().get("guarded").state()).isEqualTo("ready");
      assertThat(r.path("authorizationServerRequests").toString()).contains(as.issuer() + "/authorize");
      assertThat(as.registeredClients()).hasSize(1);
      // Rate limit: the two calls against the key's 10 per hour.
      assertThat(r.path("rateText").asText()).startsWith("2 of 10 calls / 1h");
      // Every member's figures (one node here) count the calls.
      assertThat(r.path("nodeFigures")).hasSize(1);
      assertThat(r.path("nodeFigures").get(0).path("node").asText()).startsWith("pekko://");
      assertThat(r.path("nodeFigures").get(0).path("calls").asInt()).isGreaterThanOrEqualTo(2);
      // Code Mode: every server is reached through it; ops (on) sees the stubs, console-key (off) does not get it.
      assertThat(r.path("codeModeServers").toString()).contains("everything", "remote", "guarded");
      assertThat(r.path("codeModeActive").asText()).isEqualTo("true");
      assertThat(r.path("codeModeFiles").toString()).contains("servers/everything.pyi");
      assertThat(r.path("codeModeStub").asText()).contains("def echo(", "def get_sum(");
      assertThat(r.path("codeModeConsoleKey").asText()).startsWith("Code Mode is off for this key");
      // The key sees exactly its two tools.
      assertThat(r.path("keyTools").toString()).contains("everything__echo", "everything__get-sum");
      assertThat(r.path("keyTools")).hasSize(2);
      // Edited in the form, the same key value sees a third tool.
      assertThat(r.path("keyToolsAfterEdit").toString())
          .contains("everything__echo", "everything__get-sum", "everything__get-env");
      assertThat(r.path("keyToolsAfterEdit")).hasSize(3);
      assertThat(r.path("keyValueSeenAfterHide").asBoolean()).isFalse();
      assertThat(r.path("keyValueOnKeysPage").asBoolean()).isFalse();
      assertThat(r.path("keyValueOnAuditPage").asBoolean()).isFalse();
      assertThat(r.path("spendText").asText()).startsWith("$0.02 of $1.00");
      assertThat(r.path("auditRows").findValues("tool").stream().map(JsonNode::asText).toList())
          .contains("echo", "get-sum");
      assertThat(r.path("auditRows").findValues("key").stream().map(JsonNode::asText).distinct().toList())
          .containsExactly("console-key");
      assertThat(r.path("chartPaths").asInt()).isEqualTo(1);
      assertThat(r.path("chartLegend").asText()).contains("console-key");
      for (String page : List.of("login", "overview", "overview-narrow", "servers", "servers-config-error",
          "servers-oauth", "keys", "audit", "code-mode")) {
        assertThat(screenshots.resolve(page + ".png")).isNotEmptyFile();
      }
    }
  }

  /** Runs the browser script with Node (as TsClient runs the TS client) and returns its one JSON report. */
  private static JsonNode run(String options) throws IOException, InterruptedException {
    Path out = Files.createTempFile("console-e2e-", ".out");
    Path err = Files.createTempFile("console-e2e-", ".err");
    try {
      Process p = new ProcessBuilder(EverythingServer.nodeBinary(),
          TsClient.toolsDir().resolve("console-e2e.mjs").toString(), options)
          .directory(TsClient.toolsDir().toFile())
          .redirectOutput(out.toFile()).redirectError(err.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
      if (!p.waitFor(4, TimeUnit.MINUTES)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError("console-e2e.mjs did not finish; stderr:\n" + Files.readString(err));
      }
      // The script's step log, kept for whoever reads a failure.
      Files.copy(err, Path.of("target", "console-e2e.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      String text = Files.readString(out, StandardCharsets.UTF_8).trim();
      if (text.isEmpty()) {
        throw new AssertionError("console-e2e.mjs printed nothing (exit " + p.exitValue() + "); stderr:\n"
            + Files.readString(err));
      }
      return TsClient.JSON.readTree(text.substring(text.lastIndexOf('\n') + 1));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
