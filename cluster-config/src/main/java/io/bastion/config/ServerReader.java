package io.bastion.config;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads {@code mcp.servers[i]} into {@link ServerConfig}s. */
final class ServerReader {

  static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
  static final String NAME_RULE = "a name of 1 to 64 letters, digits, '_' or '-'";
  private static final Pattern TOOL_PREFIX = Pattern.compile("[a-zA-Z0-9_-]{0,32}");
  private static final String TYPES = "stdio, http, sse";

  private ServerReader() {}

  static List<ServerConfig> read(ConfigNode mcp) {
    List<ServerConfig> servers = new ArrayList<>();
    if (!mcp.expectMap(Keys.MCP)) {
      return servers;
    }
    Map<String, String> firstPathByName = new HashMap<>();
    for (ConfigNode item : mcp.get("servers").items("a list of servers")) {
      ServerConfig server = readOne(item);
      if (server == null) {
        continue;
      }
      String earlier = firstPathByName.putIfAbsent(server.name(), item.path());
      if (earlier != null) {
        item.get("name").error("duplicate server name \"" + server.name() + "\" (also at " + earlier + ")");
        continue;
      }
      servers.add(server);
    }
    warnDuplicatePrefixes(mcp, servers);
    return servers;
  }

  /** One server, or null if it has problems (all of them reported). */
  static ServerConfig readOne(ConfigNode s) {
    if (!s.isSet()) {
      s.error("expected a server (a map with name and type), got nothing");
      return null;
    }
    if (!s.expectMap(Keys.SERVER)) {
      return null;
    }
    int before = s.diagnostics().problems().size();
    String name = s.get("name").name(NAME, NAME_RULE, true);
    TransportType type = readType(s.get("type"));
    if (type != null) {
      rejectKeysOfOtherTypes(s, type);
    }

    List<String> command = type == TransportType.STDIO ? readCommand(s) : List.of();
    Map<String, String> env = s.get("env").stringMap();
    String cwd = s.get("cwd").string();
    URI url = null;
    if (type == TransportType.HTTP || type == TransportType.SSE) {
      if (s.has("url")) {
        url = readUrl(s.get("url"));
      } else {
        s.get("url").error("is required for type " + type.yamlName() + " (an http(s) URL)");
      }
    }
    Map<String, String> headers = s.get("headers").stringMap();
    OAuthConfig oauth = UpstreamOAuthReader.read(s.get("auth"));

    Duration requestTimeout = s.get("request_timeout").duration(ServerConfig.DEFAULT_REQUEST_TIMEOUT);
    Duration healthInterval = s.get("health_interval").duration(ServerConfig.DEFAULT_HEALTH_INTERVAL);
    Duration pingTimeout = s.get("ping_timeout").duration(ServerConfig.DEFAULT_PING_TIMEOUT);
    Duration[] backoff = readBackoff(s.get("backoff"));
    String toolPrefix = readToolPrefix(s.get("tool_prefix"), name);
    PricingConfig pricing = readPricing(s.get("pricing"));
    Failover failover = s.get("failover").oneOf(Failover.values(), Failover::yamlName, null);
    if (failover != null && failover.standby() && oauth != null) {
      s.get("failover").error("must be hold for a server with auth: oauth (its tokens belong to the node running it)");
    }

    if (s.diagnostics().problems().size() > before || name == null || type == null) {
      return null;
    }
    return new ServerConfig(name, type, command, env, cwd, url, headers, requestTimeout,
        healthInterval, pingTimeout, backoff[0], backoff[1], toolPrefix, pricing, oauth, failover);
  }

  private static TransportType readType(ConfigNode node) {
    String text = node.requiredString();
    if (text == null) {
      return null;
    }
    Optional<TransportType> type = TransportType.fromYaml(text);
    if (type.isEmpty()) {
      node.error("expected one of: " + TYPES + "; got " + ConfigNode.quote(text));
    }
    return type.orElse(null);
  }

  private static void rejectKeysOfOtherTypes(ConfigNode s, TransportType type) {
    List<String> foreign = type == TransportType.STDIO ? Keys.SERVER_REMOTE : Keys.SERVER_STDIO;
    String owners = type == TransportType.STDIO ? "http and sse" : "stdio";
    for (String key : foreign) {
      if (s.get(key).isSet()) {
        s.get(key).error("not allowed for type " + type.yamlName() + " (only for " + owners + " servers)");
      }
    }
  }

  /** {@code command: [prog, args...]}, or {@code command: prog} plus {@code args: [...]}. */
  private static List<String> readCommand(ConfigNode s) {
    ConfigNode commandNode = s.get("command");
    List<String> command = new ArrayList<>();
    if (!commandNode.isSet()) {
      commandNode.error("is required for type stdio (a list like [\"npx\", \"-y\", \"pkg\"], or a string plus args)");
      return command;
    }
    if (commandNode.isText()) {
      String program = commandNode.string();
      if (program != null && program.isBlank()) {
        commandNode.error("must not be empty");
      } else if (program != null) {
        command.add(program);
      }
    } else if (commandNode.isList()) {
      if (commandNode.items("a list of strings").isEmpty()) {
        commandNode.error("must not be empty");
      }
      command.addAll(commandNode.stringList());
    } else {
      commandNode.error("expected a list of strings or a string, got " + commandNode.describe());
    }
    if (s.has("args") && !commandNode.isText()) {
      s.get("args").error("only allowed with a string command (command: \"npx\" plus args: [...])");
    }
    command.addAll(s.get("args").stringList());
    return command;
  }

  /** An http or https URL with a host, or null (reported if set to anything else). */
  static URI readUrl(ConfigNode node) {
    String text = node.string();
    if (text == null) {
      return null;
    }
    try {
      URI uri = new URI(text.trim());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
      if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
        return uri;
      }
    } catch (java.net.URISyntaxException e) {
      // reported below
    }
    node.error("expected an http(s) URL, got " + ConfigNode.quote(Urls.redact(text)));
    return null;
  }

  /** {initial, max}; each default when not set. */
  private static Duration[] readBackoff(ConfigNode node) {
    Duration initial = ServerConfig.DEFAULT_BACKOFF_MIN;
    Duration max = ServerConfig.DEFAULT_BACKOFF_MAX;
    if (node.expectMap(Keys.BACKOFF)) {
      initial = node.get("initial").duration(initial);
      max = node.get("max").duration(max);
      if (initial != null && max != null && initial.compareTo(max) > 0) {
        node.get("initial").error("must not be greater than backoff.max (" + Durations.format(initial)
            + " > " + Durations.format(max) + ")");
      }
    }
    return new Duration[] {initial, max};
  }

  /** A string, or {@code false} for bare names; default the server name. */
  private static String readToolPrefix(ConfigNode node, String name) {
    if (!node.isSet()) {
      if (name != null && name.length() > 32) {
        node.error("defaults to the server name, which is longer than 32 characters; set tool_prefix"
            + " explicitly (\"\" or false for bare tool names)");
      }
      return null;
    }
    if (node.isBoolean()) {
      if (Boolean.FALSE.equals(node.bool(null))) {
        return "";
      }
      node.error("expected a prefix of 0 to 32 letters, digits, '_' or '-', or false; got true");
      return null;
    }
    return node.name(TOOL_PREFIX, "a prefix of 0 to 32 letters, digits, '_' or '-' (or false)", false);
  }

  private static PricingConfig readPricing(ConfigNode node) {
    if (!node.expectMap(Keys.PRICING)) {
      return PricingConfig.ZERO;
    }
    Double defaultUsd = price(node.get("default"));
    Map<String, Double> tools = new LinkedHashMap<>();
    node.get("tools").entries("a map of tool name to USD per call").forEach((tool, value) -> {
      Double price = price(value);
      if (price != null) {
        tools.put(tool, price);
      }
    });
    return defaultUsd == null ? PricingConfig.ZERO : new PricingConfig(defaultUsd, tools);
  }

  private static Double price(ConfigNode node) {
    Double value = node.number(0.0);
    if (value != null && value < 0) {
      node.error("expected a price in USD per call (>= 0), got " + value);
      return null;
    }
    return value;
  }

  private static void warnDuplicatePrefixes(ConfigNode mcp, List<ServerConfig> servers) {
    Map<String, String> owner = new HashMap<>();
    for (ServerConfig server : servers) {
      if (server.toolPrefix().isEmpty()) {
        continue;
      }
      String other = owner.putIfAbsent(server.toolPrefix(), server.name());
      if (other != null) {
        mcp.get("servers").warn("servers " + other + " and " + server.name() + " share tool_prefix \""
            + server.toolPrefix() + "\"; their tool names may collide");
      }
    }
  }
}
