package io.bastion.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Loads Bastion's YAML config file into a {@link BastionConfig}.
 *
 * <p>Steps: parse YAML into a tree (syntax errors carry line and column; duplicate keys are
 * errors), interpolate {@code ${VAR}} in string values ({@link Interpolator}), then read each block
 * with a path-tracking reader that records every problem. If there is any problem, one {@link
 * ConfigException} lists them all.
 */
public final class ConfigLoader {

  private static final YAMLMapper YAML = YAMLMapper.builder(YAMLFactory.builder().build())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  private ConfigLoader() {}

  /** Reads {@code file}, interpolating from the process environment. */
  public static BastionConfig load(Path file) {
    String yaml;
    try {
      yaml = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file, new ConfigProblem(ConfigNode.ROOT,
          "cannot read the file: " + e.getClass().getSimpleName() + " " + e.getMessage()));
    }
    return parse(yaml, file, System.getenv());
  }

  /**
   * Parses {@code yaml}.
   *
   * @param sourceForMessages the file name used in error messages and {@link BastionConfig#source()}
   * @param env variables for {@code ${VAR}} interpolation
   * @throws ConfigException listing every problem found
   */
  public static BastionConfig parse(String yaml, Path sourceForMessages, Map<String, String> env) {
    JsonNode tree = parseTree(yaml, sourceForMessages);
    Diagnostics diagnostics = new Diagnostics();
    new Interpolator(env, diagnostics).apply(tree);
    ConfigNode root = new ConfigNode(tree, ConfigNode.ROOT, diagnostics);

    BastionConfig config = read(root, sourceForMessages);
    if (!diagnostics.problems().isEmpty()) {
      throw new ConfigException(sourceForMessages, diagnostics.problems());
    }
    return config;
  }

  // ------------------------------------------------------------------ single definitions (admin API)

  /**
   * One virtual key as the admin API receives it: the same fields and rules as an item of
   * {@code virtual_keys}, with no {@code ${VAR}} interpolation. References to teams and groups
   * are not checked here (the caller knows what exists).
   *
   * @param path where {@code node} is, for messages ({@code null}: paths start at its fields, e.g.
   *     {@code mcp_clients[0].allowed_tools})
   * @throws ConfigException listing every problem, each with its path
   */
  public static VirtualKeyConfig parseVirtualKey(JsonNode node, String path) {
    return single(node, path, n -> {
      if (!GovernanceReader.requireMap(n, GovernanceReader.KEY_EXPECTED, Keys.VIRTUAL_KEY)) {
        return null;
      }
      return GovernanceReader.virtualKey(n, new java.util.HashMap<>(), new java.util.HashMap<>());
    });
  }

  /** One item of {@code teams}; see {@link #parseVirtualKey}. */
  public static TeamConfig parseTeam(JsonNode node, String path) {
    return single(node, path, n -> GovernanceReader.single(n, GovernanceReader.TEAM_EXPECTED, Keys.TEAM,
        GovernanceReader::team));
  }

  /** One item of {@code customers}; see {@link #parseVirtualKey}. */
  public static CustomerConfig parseCustomer(JsonNode node, String path) {
    return single(node, path, n -> GovernanceReader.single(n, GovernanceReader.CUSTOMER_EXPECTED,
        Keys.CUSTOMER, GovernanceReader::customer));
  }

  /** One item of {@code tool_groups}; see {@link #parseVirtualKey}. */
  public static ToolGroupConfig parseToolGroup(JsonNode node, String path) {
    return single(node, path, n -> GovernanceReader.single(n, GovernanceReader.GROUP_EXPECTED,
        Keys.TOOL_GROUP, GovernanceReader::toolGroup));
  }

  /**
   * One item of {@code mcp.servers} as the admin API receives it: the same fields and rules as in
   * the config file, with no {@code ${VAR}} interpolation; see {@link #parseVirtualKey}.
   */
  public static ServerConfig parseServer(JsonNode node, String path) {
    return single(node, path, ServerReader::readOne);
  }

  private static <T> T single(JsonNode node, String path, java.util.function.Function<ConfigNode, T> read) {
    Diagnostics diagnostics = new Diagnostics();
    T value = read.apply(new ConfigNode(node, path == null ? ConfigNode.ROOT : path, diagnostics));
    if (!diagnostics.problems().isEmpty()) {
      throw new ConfigException(null, diagnostics.problems());
    }
    if (value == null) {
      throw new ConfigException(null, new ConfigProblem(path == null ? ConfigNode.ROOT : path, "invalid"));
    }
    return value;
  }

  private static BastionConfig read(ConfigNode root, Path source) {
    if (!root.isSet()) {
      root.warn("the file is empty: no servers, no keys, all defaults");
      return new BastionConfig(source, null, null, null, null, null, null, null, null, null,
          root.diagnostics().warnings());
    }
    if (!root.expectMap(Keys.ROOT)) {
      return null;
    }
    GatewayConfig gateway = SettingsReader.gateway(root.get("gateway"));
    List<ServerConfig> servers = ServerReader.read(root.get("mcp"));
    List<VirtualKeyConfig> keys = GovernanceReader.virtualKeys(root.get("virtual_keys"));
    List<TeamConfig> teams = GovernanceReader.teams(root.get("teams"));
    List<CustomerConfig> customers = GovernanceReader.customers(root.get("customers"));
    List<ToolGroupConfig> groups = GovernanceReader.toolGroups(root.get("tool_groups"));
    AuditConfig audit = SettingsReader.audit(root.get("audit"));
    StoreConfig store = SettingsReader.store(root.get("store"));
    String adminToken = SettingsReader.adminToken(root.get("admin"));
    ClusterConfig cluster = SettingsReader.cluster(root.get("cluster"));
    References.check(root, servers, teams, customers, groups);
    CodeModeConfig codeMode = CodeModeReader.read(root.get("mcp"));
    CodeModeReader.checkReferences(root.get("mcp"), codeMode,
        servers.stream().map(ServerConfig::name).collect(java.util.stream.Collectors.toSet()),
        keys.stream().map(VirtualKeyConfig::keyName).collect(java.util.stream.Collectors.toSet()),
        groups.stream().map(ToolGroupConfig::name).collect(java.util.stream.Collectors.toSet()));
    OAuthReader.checkKeys(root.get("gateway").get("oauth"), gateway.oauth(),
        keys.stream().map(VirtualKeyConfig::keyName).collect(java.util.stream.Collectors.toSet()));
    if (servers.isEmpty() && root.diagnostics().problems().isEmpty()) {
      root.get("mcp").warn("no servers are defined, so no tools will be offered");
    }
    return new BastionConfig(source, gateway, servers, keys, teams, customers, groups, audit, store,
        adminToken, root.diagnostics().warnings(), cluster, codeMode);
  }

  private static JsonNode parseTree(String yaml, Path source) {
    try {
      JsonNode tree = YAML.readTree(yaml);
      return tree == null || tree.isMissingNode() ? null : tree;
    } catch (JsonProcessingException e) {
      String where = where(e);
      throw new ConfigException(source, new ConfigProblem(where, "invalid YAML: " + firstLine(e.getOriginalMessage())));
    }
  }

  /** SnakeYAML's problem mark is where the error is; Jackson's location is where the token began. */
  private static String where(JsonProcessingException e) {
    if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
      Mark mark = marked.getProblemMark();
      return "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }
    JsonLocation at = e.getLocation();
    return at == null || at.getLineNr() < 0 ? ConfigNode.ROOT
        : "line " + at.getLineNr() + ", column " + at.getColumnNr();
  }

  private static String firstLine(String message) {
    String text = message == null ? "syntax error" : message.strip();
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline).strip();
  }
}
