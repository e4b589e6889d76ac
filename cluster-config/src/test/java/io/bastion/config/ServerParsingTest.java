package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServerParsingTest {

  @Test
  void defaultsApplyWhenTuningKeysAreAbsent() {
    ServerConfig s = Yaml.parse(Yaml.stdioServer()).server("s1").orElseThrow();

    assertThat(s.requestTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.healthInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.pingTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.backoffMin()).isEqualTo(Duration.ofSeconds(1));
    assertThat(s.backoffMax()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.toolPrefix()).isEqualTo("s1");
    assertThat(s.pricing()).isEqualTo(PricingConfig.ZERO);
  }

  @Test
  void tuningKeysAreRead() {
    ServerConfig s = Yaml.parse(Yaml.stdioServer("request_timeout: 1m", "health_interval: 2h",
        "ping_timeout: 500ms", "backoff: {initial: 2, max: 1d}", "tool_prefix: x",
        "pricing: {default: 0.5, tools: {search: 0.01, free: 0}}")).server("s1").orElseThrow();

    assertThat(s.requestTimeout()).isEqualTo(Duration.ofMinutes(1));
    assertThat(s.healthInterval()).isEqualTo(Duration.ofHours(2));
    assertThat(s.pingTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.backoffMin()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.backoffMax()).isEqualTo(Duration.ofDays(1));
    assertThat(s.toolPrefix()).isEqualTo("x");
    assertThat(s.pricing().priceOf("search")).isEqualTo(0.01);
    assertThat(s.pricing().priceOf("free")).isEqualTo(0.0);
    assertThat(s.pricing().priceOf("other")).isEqualTo(0.5);
  }

  @Test
  void commandStringWithArgsIsMergedIntoOneList() {
    ServerConfig s = Yaml.parse("""
        mcp:
          servers:
            - name: fs
              type: stdio
              command: npx
              args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]
              cwd: /srv
        """).server("fs").orElseThrow();

    assertThat(s.command()).containsExactly("npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp");
    assertThat(s.cwd()).isEqualTo("/srv");
  }

  @Test
  void emptyOrFalseToolPrefixMeansBareNames() {
    assertThat(Yaml.parse(Yaml.stdioServer("tool_prefix: \"\"")).servers().get(0).toolPrefix()).isEmpty();
    assertThat(Yaml.parse(Yaml.stdioServer("tool_prefix: false")).servers().get(0).toolPrefix()).isEmpty();
  }

  @Test
  void invalidToolPrefixIsRejected() {
    assertThat(Yaml.problems(Yaml.stdioServer("tool_prefix: \"a.b\""))).singleElement().asString()
        .startsWith("mcp.servers[0].tool_prefix: expected a prefix of 0 to 32");
    assertThat(Yaml.problems(Yaml.stdioServer("tool_prefix: true"))).singleElement().asString()
        .startsWith("mcp.servers[0].tool_prefix: ");
  }

  @Test
  void longServerNameNeedsAnExplicitPrefix() {
    String name = "n".repeat(40);
    String yaml = "mcp:\n  servers:\n    - name: " + name + "\n      type: sse\n      url: http://h/sse\n";

    assertThat(Yaml.problems(yaml)).singleElement().asString().startsWith("mcp.servers[0].tool_prefix: defaults");
    assertThat(Yaml.parse(yaml + "      tool_prefix: short\n").servers().get(0).toolPrefix()).isEqualTo("short");
  }

  @Test
  void unknownKeyNamesThePathAndListsAllowedKeys() {
    assertThat(Yaml.problems(Yaml.stdioServer("comand: [\"x\"]"))).containsExactly(
        "mcp.servers[0].comand: unknown key; expected one of: name, type, command, args, env, cwd,"
            + " url, headers, auth, request_timeout, health_interval, ping_timeout, backoff, tool_prefix, pricing, code_mode, failover");
  }

  @Test
  void wrongTypeNamesWhatWasExpected() {
    assertThat(Yaml.problems("mcp:\n  servers:\n    - name: a\n      type: stdio\n      command: [\"x\", 3]\n"))
        .containsExactly("mcp.servers[0].command[1]: expected a string, got a number");
    assertThat(Yaml.problems(Yaml.stdioServer("env: [\"A=1\"]")))
        .containsExactly("mcp.servers[0].env: expected a map of string to string, got a list");
    assertThat(Yaml.problems("mcp:\n  servers:\n    - name: a\n      type: stdio\n      command: npx\n      args: 5\n"))
        .containsExactly("mcp.servers[0].args: expected a list of strings, got a number");
  }

  @Test
  void duplicateServerNameIsRejected() {
    assertThat(Yaml.problems("""
        mcp:
          servers:
            - {name: dup, type: stdio, command: [a]}
            - {name: dup, type: stdio, command: [b]}
        """)).containsExactly("mcp.servers[1].name: duplicate server name \"dup\" (also at mcp.servers[0])");
  }

  @Test
  void invalidServerNameIsRejected() {
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {name: \"has space\", type: stdio, command: [a]}\n"))
        .containsExactly("mcp.servers[0].name: expected a name of 1 to 64 letters, digits, '_' or '-',"
            + " got \"has space\"");
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {type: stdio, command: [a]}\n"))
        .containsExactly("mcp.servers[0].name: is required");
  }

  @Test
  void unknownTransportTypeListsTheKnownOnes() {
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {name: a, type: websocket}\n"))
        .containsExactly("mcp.servers[0].type: expected one of: stdio, http, sse; got \"websocket\"");
  }

  @Test
  void urlIsRequiredForHttp() {
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {name: a, type: http}\n"))
        .containsExactly("mcp.servers[0].url: is required for type http (an http(s) URL)");
  }

  @Test
  void urlWithWrongSchemeIsRejected() {
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {name: a, type: sse, url: \"ftp://x\"}\n"))
        .containsExactly("mcp.servers[0].url: expected an http(s) URL, got \"ftp://x\"");
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {name: a, type: http, url: \"not a url\"}\n"))
        .containsExactly("mcp.servers[0].url: expected an http(s) URL, got \"not a url\"");
  }

  @Test
  void commandIsRequiredAndNonEmptyForStdio() {
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {name: a, type: stdio}\n")).singleElement().asString()
        .startsWith("mcp.servers[0].command: is required for type stdio");
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {name: a, type: stdio, command: []}\n"))
        .containsExactly("mcp.servers[0].command: must not be empty");
  }

  @Test
  void keysOfAnotherTransportAreRejected() {
    assertThat(Yaml.problems(Yaml.stdioServer("url: http://x", "headers: {A: b}"))).containsExactly(
        "mcp.servers[0].url: not allowed for type stdio (only for http and sse servers)",
        "mcp.servers[0].headers: not allowed for type stdio (only for http and sse servers)");
    assertThat(Yaml.problems("mcp:\n  servers:\n    - {name: a, type: http, url: \"http://x\", command: [a]}\n"))
        .containsExactly("mcp.servers[0].command: not allowed for type http (only for stdio servers)");
  }

  @Test
  void badDurationNamesThePathAndTheAcceptedForms() {
    assertThat(Yaml.problems(Yaml.stdioServer("request_timeout: 5x"))).containsExactly(
        "mcp.servers[0].request_timeout: expected " + Durations.EXPECTED + ", got \"5x\"");
    assertThat(Yaml.problems(Yaml.stdioServer("ping_timeout: 0"))).containsExactly(
        "mcp.servers[0].ping_timeout: must be greater than zero, got \"0\"");
  }

  @Test
  void backoffInitialGreaterThanMaxIsRejected() {
    assertThat(Yaml.problems(Yaml.stdioServer("backoff: {initial: 1m, max: 10s}"))).containsExactly(
        "mcp.servers[0].backoff.initial: must not be greater than backoff.max (1m > 10s)");
  }

  @Test
  void negativeOrNonFinitePriceIsRejected() {
    assertThat(Yaml.problems(Yaml.stdioServer("pricing: {tools: {a: -1}}"))).containsExactly(
        "mcp.servers[0].pricing.tools.a: expected a price in USD per call (>= 0), got -1.0");
    assertThat(Yaml.failure(Yaml.stdioServer("pricing: {default: \"${P}\"}"), Map.of("P", "Infinity"))
        .getMessage()).endsWith("mcp.servers[0].pricing.default: expected a finite number, got Infinity");
  }

  @Test
  void envValuesThatAreNumbersOrBooleansBecomeText() {
    ServerConfig s = Yaml.parse(Yaml.stdioServer("env: {DEBUG: 1, VERBOSE: true, EMPTY: }"))
        .servers().get(0);

    assertThat(s.env()).isEqualTo(Map.of("DEBUG", "1", "VERBOSE", "true", "EMPTY", ""));
  }

  @Test
  void oddMapKeysAreQuotedInPaths() {
    assertThat(Yaml.problems(Yaml.stdioServer("pricing: {tools: {\"a.b\": x}}"))).singleElement().asString()
        .startsWith("mcp.servers[0].pricing.tools[\"a.b\"]: expected a number");
  }

  @Test
  void failoverDefaultsByTransportAndIsChecked() {
    assertThat(Yaml.parse(Yaml.stdioServer()).server("s1").orElseThrow().failover()).isEqualTo(Failover.HOLD);
    assertThat(Yaml.parse(Yaml.stdioServer("failover: warm_standby")).server("s1").orElseThrow().failover())
        .isEqualTo(Failover.WARM_STANDBY);
    String http = """
        mcp:
          servers:
            - name: web
              type: http
              url: https://mcp.example.com/mcp
        """;
    assertThat(Yaml.parse(http).server("web").orElseThrow().failover()).isEqualTo(Failover.STANDBY);
    assertThat(Yaml.parse(http + "      failover: hold\n").server("web").orElseThrow().failover())
        .isEqualTo(Failover.HOLD);
    Failover active = Yaml.parse(http + "      failover: active_active\n").server("web").orElseThrow().failover();
    assertThat(active).isEqualTo(Failover.ACTIVE_ACTIVE);
    assertThat(active.standby()).as("serves calls while the owner is lost too").isTrue();
    assertThat(active.warm()).isTrue();
    assertThat(active.servesLocally()).isTrue();
    assertThat(Failover.WARM_STANDBY.servesLocally()).isFalse();
    assertThat(Yaml.problems(Yaml.stdioServer("failover: sometimes"))).containsExactly(
        "mcp.servers[0].failover: expected one of: hold, standby, warm_standby, active_active; got \"sometimes\"");
    // An OAuth upstream's tokens live in the owner's entity: a standby could not use them.
    String oauth = http + "      auth: {type: oauth, client_id: bastion}\n";
    assertThat(Yaml.parse(oauth).server("web").orElseThrow().failover()).isEqualTo(Failover.HOLD);
    assertThat(Yaml.problems(oauth + "      failover: standby\n")).containsExactly(
        "mcp.servers[0].failover: must be hold for a server with auth: oauth (its tokens belong to the node running it)");
    assertThat(Yaml.problems(oauth + "      failover: active_active\n")).containsExactly(
        "mcp.servers[0].failover: must be hold for a server with auth: oauth (its tokens belong to the node running it)");
  }
}
