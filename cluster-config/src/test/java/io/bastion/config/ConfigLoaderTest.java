package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  static final String SEED = """
      mcp:
        servers:
          - name: github-mcp
            type: stdio
            command: ["npx", "-y", "@modelcontextprotocol/server-github"]
            env:
              GITHUB_TOKEN: ${GITHUB_TOKEN}
          - name: linear-mcp
            type: http
            url: ${LINEAR_MCP_URL}
            headers:
              Authorization: "Bearer ${LINEAR_TOKEN}"
      virtual_keys:
        - key_name: claude-code-eng
          key: vk-cc-eng
          mcp_clients:
            - name: github-mcp
              allowed_tools: ["search_code", "get_pull_request", "get_issue"]
            - name: filesystem
              allowed_tools: ["read_text_file", "list_directory", "search_files"]
        - key_name: claude-code-write
          key: vk-cc-write
          mcp_clients:
            - name: github-mcp
              allowed_tools: ["*"]
      """;

  @Test
  void seedConfigLoadsWithEnvironmentProvided() {
    BastionConfig config = Yaml.parse(SEED);

    assertThat(config.source()).isEqualTo(Yaml.FILE);
    assertThat(config.servers()).extracting(ServerConfig::name).containsExactly("github-mcp", "linear-mcp");
    ServerConfig github = config.server("github-mcp").orElseThrow();
    assertThat(github.type()).isEqualTo(TransportType.STDIO);
    assertThat(github.command()).containsExactly("npx", "-y", "@modelcontextprotocol/server-github");
    assertThat(github.env()).containsExactly(Map.entry("GITHUB_TOKEN", "ghp_test"));
    assertThat(github.toolPrefix()).isEqualTo("github-mcp");
    assertThat(github.pricing()).isEqualTo(PricingConfig.ZERO);
    ServerConfig linear = config.server("linear-mcp").orElseThrow();
    assertThat(linear.type()).isEqualTo(TransportType.HTTP);
    assertThat(linear.url()).isEqualTo(URI.create("https://mcp.linear.app/mcp"));
    assertThat(linear.headers()).containsExactly(Map.entry("Authorization", "Bearer lin_test"));

    assertThat(config.virtualKeys()).extracting(VirtualKeyConfig::keyName)
        .containsExactly("claude-code-eng", "claude-code-write");
    VirtualKeyConfig eng = config.virtualKey("claude-code-eng").orElseThrow();
    assertThat(eng.key()).isEqualTo("vk-cc-eng");
    assertThat(eng.mcpClients()).hasSize(2);
    assertThat(eng.mcpClients().get(1).allowedTools())
        .containsExactly("read_text_file", "list_directory", "search_files");
    assertThat(eng.mcpClients().get(0).allows("get_issue")).isTrue();
    assertThat(eng.mcpClients().get(0).allows("create_issue")).isFalse();
    assertThat(config.virtualKey("claude-code-write").orElseThrow().mcpClients().get(0).allowsAll()).isTrue();

    assertThat(config.gateway()).isEqualTo(GatewayConfig.DEFAULT);
    assertThat(config.store()).isEqualTo(StoreConfig.DEFAULT);
    assertThat(config.audit()).isEqualTo(AuditConfig.DEFAULT);
    assertThat(config.adminToken()).isNull();
    assertThat(config.server("filesystem")).isEmpty();
  }

  @Test
  void keyNamingAnUndefinedServerIsAcceptedWithAWarning() {
    BastionConfig config = Yaml.parse(SEED);

    assertThat(config.warnings()).singleElement().asString()
        .startsWith("virtual_keys[0].mcp_clients[1].name:")
        .contains("\"filesystem\" is not defined");
  }

  @Test
  void missingVariableNamesThePathAndTheVariable() {
    ConfigException e = Yaml.failure(SEED, Map.of("LINEAR_MCP_URL", "https://x.example", "LINEAR_TOKEN", "t"));

    assertThat(e.problems()).hasSize(1);
    assertThat(e.file()).isEqualTo(Yaml.FILE);
    assertThat(e.path()).isEqualTo("mcp.servers[0].env.GITHUB_TOKEN");
    assertThat(e.problem()).contains("GITHUB_TOKEN").contains("not set");
    assertThat(e.getMessage()).startsWith("config/bastion.yaml: mcp.servers[0].env.GITHUB_TOKEN: ");
  }

  @Test
  void everyProblemInTheFileIsReportedTogether() {
    ConfigException e = Yaml.failure("""
        mcp:
          servers:
            - name: a
              type: stdio
              comand: ["x"]
            - name: b
              type: http
              url: ftp://x
        """);

    assertThat(e.problems()).extracting(ConfigProblem::path)
        .containsExactly("mcp.servers[0].comand", "mcp.servers[0].command", "mcp.servers[1].url");
    assertThat(e.getMessage().lines()).hasSize(3)
        .allMatch(line -> line.startsWith("config/bastion.yaml: mcp.servers["));
    assertThat(e.getMessage().lines().toList().get(2))
        .isEqualTo("config/bastion.yaml: mcp.servers[1].url: expected an http(s) URL, got \"ftp://x\"");
  }

  @Test
  void yamlSyntaxErrorGivesLineAndColumn() {
    ConfigException e = Yaml.failure("""
        mcp:
          servers:
            - name: a
              type: [stdio
        """);

    assertThat(e.path()).matches("line \\d+, column \\d+");
    assertThat(e.problem()).startsWith("invalid YAML: ");
  }

  @Test
  void tabIndentationIsASyntaxErrorOnItsLine() {
    ConfigException e = Yaml.failure("mcp:\n  servers:\n\t- name: a\n");

    assertThat(e.path()).startsWith("line 3, column ");
  }

  @Test
  void duplicateYamlKeyIsASyntaxError() {
    ConfigException e = Yaml.failure("gateway:\n  port: 1\n  port: 2\n");

    assertThat(e.path()).startsWith("line 3");
    assertThat(e.problem()).contains("port");
  }

  @Test
  void unknownTopLevelKeyListsTheAllowedOnes() {
    assertThat(Yaml.problems("mcpp: {}\n")).containsExactly(
        "mcpp: unknown key; expected one of: " + String.join(", ", Keys.ROOT));
  }

  @Test
  void documentThatIsNotAMapIsRejected() {
    assertThat(Yaml.problems("- a\n- b\n")).singleElement().asString()
        .startsWith("(root): expected a map with keys gateway, mcp");
  }

  @Test
  void emptyFileGivesDefaultsAndAWarning() {
    BastionConfig config = Yaml.parse("# nothing yet\n");

    assertThat(config.servers()).isEmpty();
    assertThat(config.gateway().port()).isEqualTo(8080);
    assertThat(config.warnings()).hasSize(1);
  }

  @Test
  void loadReadsAFileAndNamesItInErrors(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("bastion.yaml");
    Files.writeString(file, "gateway:\n  port: 99999\n");

    assertThatThrownBy(() -> ConfigLoader.load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage(file + ": gateway.port: expected a whole number from 0 to 65535, got 99999");
  }

  @Test
  void loadOfAMissingFileIsAConfigException(@TempDir Path dir) {
    Path file = dir.resolve("absent.yaml");

    assertThatThrownBy(() -> ConfigLoader.load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(file + ": (root): cannot read the file");
  }

  @Test
  void secretsAreNotPrintedByToString() {
    BastionConfig config = Yaml.parse(SEED + "admin:\n  token: ${BASTION_ADMIN_TOKEN}\n");

    assertThat(config.adminToken()).isEqualTo("admin-token-0123456789");
    assertThat(config.toString()).doesNotContain("vk-cc-eng", "ghp_test", "lin_test", "admin-token-0123456789");
  }

  @Test
  void exceptionNeedsAtLeastOneProblem() {
    assertThatThrownBy(() -> new ConfigException(Yaml.FILE, List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
