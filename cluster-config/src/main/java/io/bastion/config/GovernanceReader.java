package io.bastion.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reads the governance blocks: {@code virtual_keys}, {@code teams}, {@code customers},
 * {@code tool_groups}, and the {@code budget} / {@code rate_limit} maps inside them. References
 * between them are checked by {@link References}.
 */
final class GovernanceReader {

  static final int MIN_KEY_LENGTH = 8;
  static final String KEY_EXPECTED = "a virtual key (a map with key_name and key)";
  static final String TEAM_EXPECTED = "a team (a map with name)";
  static final String CUSTOMER_EXPECTED = "a customer (a map with name)";
  static final String GROUP_EXPECTED = "a tool group (a map with name and tools)";

  private GovernanceReader() {}

  static List<VirtualKeyConfig> virtualKeys(ConfigNode list) {
    List<VirtualKeyConfig> keys = new ArrayList<>();
    Map<String, String> pathByKeyName = new HashMap<>();
    Map<String, String> pathByKey = new HashMap<>();
    for (ConfigNode k : list.items("a list of virtual keys")) {
      if (!requireMap(k, KEY_EXPECTED, Keys.VIRTUAL_KEY)) {
        continue;
      }
      VirtualKeyConfig vk = virtualKey(k, pathByKeyName, pathByKey);
      if (vk != null) {
        keys.add(vk);
      }
    }
    return keys;
  }

  /** One virtual key (already known to be a map), or null if it has problems (reported). */
  static VirtualKeyConfig virtualKey(ConfigNode k, Map<String, String> pathByKeyName, Map<String, String> pathByKey) {
    int before = k.diagnostics().problems().size();
    String keyName = k.get("key_name").name(ServerReader.NAME, ServerReader.NAME_RULE, true);
    String key = readSecretKey(k.get("key"));
    List<VirtualKeyConfig.McpClientAccess> clients = mcpClients(k.get("mcp_clients"));
    String team = k.get("team").name(ServerReader.NAME, ServerReader.NAME_RULE, false);
    List<String> groups = k.get("tool_groups").stringList();
    BudgetConfig budget = budget(k.get("budget"));
    RateLimitConfig rateLimit = rateLimit(k.get("rate_limit"));

    if (keyName != null) {
      unique(k.get("key_name"), pathByKeyName, keyName, "duplicate key_name \"" + keyName + "\"");
    }
    if (key != null) {
      // Never echo the secret: name the other key instead.
      unique(k.get("key"), pathByKey, key, "the same key value as another virtual key");
    }
    return k.diagnostics().problems().size() == before
        ? new VirtualKeyConfig(keyName, key, clients, team, groups, budget, rateLimit) : null;
  }

  /** One item of {@code teams}, {@code customers} or {@code tool_groups}, or null if it has problems. */
  static <T> T single(ConfigNode item, String expected, List<String> keys, Function<ConfigNode, T> build) {
    if (!requireMap(item, expected, keys)) {
      return null;
    }
    int before = item.diagnostics().problems().size();
    String name = item.get("name").name(ServerReader.NAME, ServerReader.NAME_RULE, true);
    T value = name == null ? null : build.apply(item);
    return value != null && item.diagnostics().problems().size() == before ? value : null;
  }

  static TeamConfig team(ConfigNode t) {
    return new TeamConfig(t.get("name").string(), t.get("customer").name(ServerReader.NAME,
        ServerReader.NAME_RULE, false), budget(t.get("budget")));
  }

  static CustomerConfig customer(ConfigNode c) {
    return new CustomerConfig(c.get("name").string(), budget(c.get("budget")));
  }

  static ToolGroupConfig toolGroup(ConfigNode g) {
    return new ToolGroupConfig(g.get("name").string(), selections(g.get("tools")));
  }

  /** Reports {@code message (also at <path>)} if {@code value} was seen before. */
  private static void unique(ConfigNode node, Map<String, String> seen, String value, String message) {
    String earlier = seen.putIfAbsent(value, node.path());
    if (earlier != null) {
      node.error(message + " (also at " + earlier + ")");
    }
  }

  private static String readSecretKey(ConfigNode node) {
    String key = node.requiredString();
    if (key == null) {
      return null;
    }
    if (key.isBlank()) {
      node.error("must not be blank");
      return null;
    }
    if (key.length() < MIN_KEY_LENGTH) {
      node.error("too short: a key needs at least " + MIN_KEY_LENGTH + " characters, this one has "
          + key.length());
      return null;
    }
    if (key.chars().anyMatch(Character::isWhitespace)) {
      node.error("must not contain whitespace");
      return null;
    }
    return key;
  }

  private static List<VirtualKeyConfig.McpClientAccess> mcpClients(ConfigNode list) {
    List<VirtualKeyConfig.McpClientAccess> clients = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
    for (ConfigNode c : list.items("a list of {name, allowed_tools}")) {
      if (!requireMap(c, "a map with name and allowed_tools", Keys.MCP_CLIENT)) {
        continue;
      }
      String name = c.get("name").name(ServerReader.NAME, ServerReader.NAME_RULE, true);
      List<String> tools = toolNames(c.get("allowed_tools"));
      if (name != null) {
        unique(c.get("name"), seen, name, "server \"" + name + "\" is listed twice in this key");
        clients.add(new VirtualKeyConfig.McpClientAccess(name, tools));
      }
    }
    return clients;
  }

  /** Tool names; {@code "*"} together with other names is allowed but warned about. */
  private static List<String> toolNames(ConfigNode node) {
    List<String> tools = node.stringList();
    if (tools.contains(VirtualKeyConfig.McpClientAccess.ALL) && tools.size() > 1) {
      node.warn("\"*\" already allows every tool; the other names are redundant");
    }
    return tools;
  }

  static List<TeamConfig> teams(ConfigNode list) {
    return named(list, TEAM_EXPECTED, Keys.TEAM, "team", GovernanceReader::team);
  }

  static List<CustomerConfig> customers(ConfigNode list) {
    return named(list, CUSTOMER_EXPECTED, Keys.CUSTOMER, "customer", GovernanceReader::customer);
  }

  static List<ToolGroupConfig> toolGroups(ConfigNode list) {
    return named(list, GROUP_EXPECTED, Keys.TOOL_GROUP, "tool group", GovernanceReader::toolGroup);
  }

  private static List<ToolGroupConfig.Selection> selections(ConfigNode list) {
    if (!list.isSet()) {
      list.error("is required (a list of {server, tools})");
    }
    List<ToolGroupConfig.Selection> result = new ArrayList<>();
    for (ConfigNode sel : list.items("a list of {server, tools}")) {
      if (!requireMap(sel, "a map with server and tools", Keys.TOOL_SELECTION)) {
        continue;
      }
      String server = sel.get("server").name(ServerReader.NAME, ServerReader.NAME_RULE, true);
      ConfigNode toolsNode = sel.get("tools");
      if (!toolsNode.isSet()) {
        toolsNode.error("is required (tool names, or [\"*\"] for all)");
      }
      List<String> tools = toolNames(toolsNode);
      if (toolsNode.isList() && toolsNode.items("a list of strings").isEmpty()) {
        toolsNode.error("must not be empty (tool names, or [\"*\"] for all)");
      }
      if (server != null) {
        result.add(new ToolGroupConfig.Selection(server, tools));
      }
    }
    return result;
  }

  /**
   * Reads a list of maps each with a unique {@code name}; {@code build} runs only after the name
   * checked out, and the item is kept only if it added no problems.
   */
  private static <T> List<T> named(ConfigNode list, String expected, List<String> keys, String what,
      Function<ConfigNode, T> build) {
    List<T> result = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
    for (ConfigNode item : list.items("a list")) {
      if (!requireMap(item, expected, keys)) {
        continue;
      }
      int before = item.diagnostics().problems().size();
      String name = item.get("name").name(ServerReader.NAME, ServerReader.NAME_RULE, true);
      if (name != null) {
        unique(item.get("name"), seen, name, "duplicate " + what + " name \"" + name + "\"");
      }
      T value = name == null ? null : build.apply(item);
      if (value != null && item.diagnostics().problems().size() == before) {
        result.add(value);
      }
    }
    return result;
  }

  static boolean requireMap(ConfigNode node, String expected, List<String> keys) {
    if (!node.isSet()) {
      node.error("expected " + expected + ", got nothing");
      return false;
    }
    return node.expectMap(keys);
  }

  /** {@code {max_usd, reset}}, or null if not set or invalid (reported). */
  static BudgetConfig budget(ConfigNode node) {
    if (!node.expectMap(Keys.BUDGET)) {
      return null;
    }
    ConfigNode maxNode = node.get("max_usd");
    if (!maxNode.isSet()) {
      maxNode.error("is required (USD per reset period, e.g. 10.0)");
    }
    Double max = maxNode.number(null);
    if (max != null && max <= 0) {
      maxNode.error("expected a positive amount of USD, got " + max);
      max = null;
    } else if (max != null && max > BudgetConfig.MAX_USD) {
      maxNode.error("absurd budget " + max + " USD; the largest accepted is 1e9");
      max = null;
    }
    ConfigNode resetNode = node.get("reset");
    String resetText = resetNode.isSet() && !resetNode.isText()
        ? resetNode.scalarAsText("a reset period") : resetNode.requiredString();
    ResetPeriod reset = null;
    if (resetText != null) {
      Optional<ResetPeriod> period = ResetPeriod.fromYaml(resetText);
      if (period.isEmpty()) {
        resetNode.error("unknown reset period " + ConfigNode.quote(resetText) + "; expected one of: "
            + ResetPeriod.allowedNames());
      }
      reset = period.orElse(null);
    }
    return max == null || reset == null ? null : new BudgetConfig(max, reset);
  }

  /** {@code {requests, per, tools: {name: {requests, per}}}}, or null if not set or invalid. */
  static RateLimitConfig rateLimit(ConfigNode node) {
    if (!node.expectMap(Keys.RATE_LIMIT)) {
      return null;
    }
    int before = node.diagnostics().problems().size();
    RateLimitConfig.Limit overall = null;
    if (node.has("requests") || node.has("per")) {
      overall = limit(node);
    } else if (!node.has("tools")) {
      node.error("expected requests and per, or tools, or both");
    }
    Map<String, RateLimitConfig.Limit> tools = new LinkedHashMap<>();
    node.get("tools").entries("a map of tool name to {requests, per}").forEach((tool, value) -> {
      if (!value.isSet()) {
        value.error("expected a map with requests and per, got nothing");
      } else if (value.expectMap(Keys.TOOL_RATE_LIMIT)) {
        RateLimitConfig.Limit limit = limit(value);
        if (limit != null) {
          tools.put(tool, limit);
        }
      }
    });
    return node.diagnostics().problems().size() > before ? null : new RateLimitConfig(overall, tools);
  }

  private static RateLimitConfig.Limit limit(ConfigNode node) {
    ConfigNode requestsNode = node.get("requests");
    ConfigNode perNode = node.get("per");
    if (!requestsNode.isSet()) {
      requestsNode.error("is required (a whole number >= 1)");
    }
    if (!perNode.isSet()) {
      perNode.error("is required (" + Durations.EXPECTED + ")");
    }
    Long requests = requestsNode.integer(1, Integer.MAX_VALUE, null);
    Duration per = perNode.duration(null);
    return requests == null || per == null ? null : new RateLimitConfig.Limit(requests.intValue(), per);
  }
}
