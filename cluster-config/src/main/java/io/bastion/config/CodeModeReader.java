package io.bastion.config;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Reads {@code mcp.code_mode} and every {@code mcp.servers[i].code_mode} into a {@link CodeModeConfig}. */
final class CodeModeReader {

  private static final String MODES = "on, off, auto";

  private CodeModeReader() {}

  static CodeModeConfig read(ConfigNode mcp) {
    Map<String, Boolean> flags = serverFlags(mcp);
    ConfigNode c = mcp.get("code_mode");
    if (!c.isSet()) {
      return flags.isEmpty() ? CodeModeConfig.DISABLED : withFlags(CodeModeConfig.DISABLED, flags);
    }
    if (!c.expectMap(Keys.CODE_MODE)) {
      return CodeModeConfig.DISABLED;
    }
    Boolean enabled = c.get("enabled").bool(false);
    String sandbox = c.get("sandbox").string();
    if (sandbox != null && !sandbox.equals("starlark")) {
      c.get("sandbox").error("expected starlark (the only sandbox), got " + ConfigNode.quote(sandbox));
    }
    CodeModeConfig.Mode mode = mode(c.get("mode"), CodeModeConfig.Mode.ON, false);
    Long threshold = c.get("auto_threshold").integer(1, 100_000, (long) CodeModeConfig.DEFAULT_AUTO_THRESHOLD);
    Set<String> servers = servers(c.get("servers"));
    CodeModeConfig.Binding binding = binding(c.get("binding"));
    CodeModeConfig.Limits limits = limits(c.get("limits"));
    Map<String, CodeModeConfig.Mode> keys = modes(c.get("keys"), "a map of virtual key name to on, off or auto");
    Map<String, CodeModeConfig.Mode> groups = modes(c.get("tool_groups"), "a map of tool group name to on, off or auto");
    return new CodeModeConfig(Boolean.TRUE.equals(enabled), "starlark", mode,
        threshold == null ? CodeModeConfig.DEFAULT_AUTO_THRESHOLD : threshold.intValue(), servers, flags,
        binding, limits, keys, groups);
  }

  /** Warns about keys and groups named in {@code code_mode} that the file does not define (the admin API may add them). */
  static void checkReferences(ConfigNode mcp, CodeModeConfig cm, Set<String> servers, Set<String> keyNames,
      Set<String> groupNames) {
    ConfigNode c = mcp.get("code_mode");
    if (cm.servers() != null) {
      cm.servers().stream().filter(s -> !servers.contains(s)).sorted().forEach(s ->
          c.get("servers").warn("names server \"" + s + "\", which is not defined in mcp.servers"));
    }
    cm.keys().keySet().stream().filter(k -> !keyNames.contains(k)).sorted().forEach(k ->
        c.get("keys").get(k).warn("no virtual key \"" + k + "\" is defined in this file"));
    cm.toolGroups().keySet().stream().filter(g -> !groupNames.contains(g)).sorted().forEach(g ->
        c.get("tool_groups").get(g).warn("no tool group \"" + g + "\" is defined in this file"));
  }

  private static CodeModeConfig withFlags(CodeModeConfig c, Map<String, Boolean> flags) {
    return new CodeModeConfig(c.enabled(), c.sandbox(), c.mode(), c.autoThreshold(), c.servers(), flags,
        c.binding(), c.limits(), c.keys(), c.toolGroups());
  }

  private static Map<String, Boolean> serverFlags(ConfigNode mcp) {
    Map<String, Boolean> flags = new HashMap<>();
    if (!mcp.isSet() || !mcp.get("servers").isList()) {
      return flags;
    }
    for (ConfigNode item : mcp.get("servers").elements()) {
      ConfigNode flag = item.get("code_mode");
      if (!flag.isSet()) {
        continue;
      }
      Boolean value = flag.bool(null);
      String name = item.get("name").textOrNull();
      if (value != null && name != null) {
        flags.put(name, value);
      }
    }
    return flags;
  }

  /** {@code "*"} (or absent): null for all; else a list of server names. */
  private static Set<String> servers(ConfigNode node) {
    if (!node.isSet()) {
      return null;
    }
    if (node.isText()) {
      String text = node.string();
      if ("*".equals(text)) {
        return null;
      }
      node.error("expected \"*\" (every server) or a list of server names, got " + ConfigNode.quote(text));
      return null;
    }
    Set<String> names = new LinkedHashSet<>();
    if (!node.isList()) {
      node.error("expected \"*\" (every server) or a list of server names, got " + node.describe());
      return null;
    }
    for (ConfigNode item : node.items("a list of server names")) {
      String name = item.name(ServerReader.NAME, ServerReader.NAME_RULE, true);
      if (name != null && !names.add(name)) {
        item.error("server \"" + name + "\" is listed twice");
      }
    }
    return names;
  }

  private static CodeModeConfig.Binding binding(ConfigNode node) {
    String text = node.string();
    if (text == null) {
      return CodeModeConfig.Binding.SERVER;
    }
    return switch (text) {
      case "server" -> CodeModeConfig.Binding.SERVER;
      case "tool" -> CodeModeConfig.Binding.TOOL;
      default -> {
        node.error("expected server or tool, got " + ConfigNode.quote(text));
        yield CodeModeConfig.Binding.SERVER;
      }
    };
  }

  static CodeModeConfig.Mode mode(ConfigNode node, CodeModeConfig.Mode fallback, boolean allowBoolean) {
    if (!node.isSet()) {
      return fallback;
    }
    if (node.isBoolean()) {
      // YAML 1.1 reads a bare on/off as a boolean.
      return Boolean.TRUE.equals(node.bool(null)) ? CodeModeConfig.Mode.ON : CodeModeConfig.Mode.OFF;
    }
    String text = node.string();
    if (text == null) {
      return fallback;
    }
    try {
      return CodeModeConfig.Mode.valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      node.error("expected one of: " + MODES + "; got " + ConfigNode.quote(text));
      return fallback;
    }
  }

  private static Map<String, CodeModeConfig.Mode> modes(ConfigNode node, String expected) {
    Map<String, CodeModeConfig.Mode> out = new LinkedHashMap<>();
    node.entries(expected).forEach((name, value) -> {
      if (!ServerReader.NAME.matcher(name).matches()) {
        value.error("expected " + ServerReader.NAME_RULE + " as the name, got " + ConfigNode.quote(name));
        return;
      }
      out.put(name, mode(value, CodeModeConfig.Mode.ON, true));
    });
    return out;
  }

  private static CodeModeConfig.Limits limits(ConfigNode node) {
    CodeModeConfig.Limits d = CodeModeConfig.Limits.DEFAULT;
    if (!node.expectMap(Keys.CODE_MODE_LIMITS)) {
      return d;
    }
    Duration wall = node.get("wall_time").duration(d.wallTime());
    if (wall != null && (wall.isNegative() || wall.isZero() || wall.compareTo(Duration.ofHours(1)) > 0)) {
      node.get("wall_time").error("expected a duration from 1ms to 1h, got " + Durations.format(wall));
      wall = d.wallTime();
    }
    Long steps = node.get("max_steps").integer(1_000, 10_000_000_000L, d.maxSteps());
    Long output = Durations.readSize(node.get("max_output"), 1024, 64L << 20, d.maxOutputBytes());
    Long value = Durations.readSize(node.get("max_value_size"), 1024, 1L << 30, d.maxValueBytes());
    Long alloc = Durations.readSize(node.get("max_allocation"), 1L << 20, 16L << 30, d.maxAllocationBytes());
    Long calls = node.get("max_nested_calls").integer(0, 100_000, (long) d.maxNestedCalls());
    Long code = Durations.readSize(node.get("max_code_size"), 1024, 16L << 20, d.maxCodeBytes());
    Long concurrency = node.get("concurrency").integer(1, 1024, (long) d.concurrency());
    Long queue = node.get("queue").integer(0, 100_000, (long) d.queue());
    return new CodeModeConfig.Limits(wall == null ? d.wallTime() : wall, or(steps, d.maxSteps()),
        or(output, d.maxOutputBytes()), or(value, d.maxValueBytes()), or(alloc, d.maxAllocationBytes()),
        (int) or(calls, d.maxNestedCalls()), or(code, d.maxCodeBytes()), (int) or(concurrency, d.concurrency()),
        (int) or(queue, d.queue()));
  }

  private static long or(Long v, long fallback) {
    return v == null ? fallback : v;
  }

}
