package io.bastion.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code mcp.code_mode}: whether agents reach some servers through four meta-tools (list / read
 * Python stub files, get one tool's docs, execute a Starlark program) instead of their tool
 * definitions, and the limits of every program run.
 *
 * @param enabled {@code enabled} (default false: the block changes nothing until switched on)
 * @param sandbox {@code sandbox}; only {@code starlark} exists
 * @param mode {@code mode}: {@link Mode#ON} always, {@link Mode#AUTO} only when the catalog a key
 *     sees through Code Mode has at least {@code autoThreshold} tools
 * @param autoThreshold {@code auto_threshold}: tools a key must see for {@code auto} to switch on
 * @param servers {@code servers}: the names of the servers reached through Code Mode, or null for
 *     all ({@code "*"}, the default); each server's own {@code code_mode: true|false} overrides it
 *     and is already folded in here as {@code serverFlags}
 * @param serverFlags {@code mcp.servers[i].code_mode}, per server name
 * @param binding {@code binding}: one stub file per server or one per tool
 * @param limits {@code limits}
 * @param keys {@code keys}: per virtual key name, on / off / auto (overrides {@code mode})
 * @param toolGroups {@code tool_groups}: per tool group (at {@code /mcp/<group>}), on / off / auto
 */
public record CodeModeConfig(boolean enabled, String sandbox, Mode mode, int autoThreshold,
    Set<String> servers, Map<String, Boolean> serverFlags, Binding binding, Limits limits,
    Map<String, Mode> keys, Map<String, Mode> toolGroups) {

  /** How Code Mode applies: always, never, or by catalog size. */
  public enum Mode {
    ON, OFF, AUTO;

    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Stub files per server ({@code servers/<server>.pyi}) or per tool ({@code servers/<server>/<tool>.pyi}). */
  public enum Binding { SERVER, TOOL }

  /**
   * What one program run may use.
   *
   * @param wallTime the whole run, nested calls included (default 30 s)
   * @param maxSteps Starlark execution steps (default 1,000,000)
   * @param maxOutputBytes printed text plus the returned value, as UTF-8 (default 64 KiB)
   * @param maxValueBytes the largest single value a program may build: a string's characters, a
   *     list's, tuple's or dict's entries times 8, or a value's printed form (default 4 MiB)
   * @param maxAllocationBytes everything the run's thread allocates, garbage included (default 256 MiB)
   * @param maxNestedCalls tool calls per run (default 100)
   * @param maxCodeBytes the program's size (default 64 KiB)
   * @param concurrency runs executing at once on a node (default 4)
   * @param queue runs waiting for a free runner before new ones are refused (default 16)
   */
  public record Limits(Duration wallTime, long maxSteps, long maxOutputBytes, long maxValueBytes,
      long maxAllocationBytes, int maxNestedCalls, long maxCodeBytes, int concurrency, int queue) {
    public static final Limits DEFAULT = new Limits(Duration.ofSeconds(30), 1_000_000, 64 * 1024,
        4 * 1024 * 1024, 256L * 1024 * 1024, 100, 64 * 1024, 4, 16);

    public Limits {
      Objects.requireNonNull(wallTime, "wallTime");
    }
  }

  /** {@code auto} switches Code Mode on at this many tools (docs/code-mode.md: where it starts to pay off). */
  public static final int DEFAULT_AUTO_THRESHOLD = 10;

  public static final CodeModeConfig DISABLED = new CodeModeConfig(false, "starlark", Mode.ON,
      DEFAULT_AUTO_THRESHOLD, null, Map.of(), Binding.SERVER, Limits.DEFAULT, Map.of(), Map.of());

  public CodeModeConfig {
    sandbox = sandbox == null ? "starlark" : sandbox;
    mode = mode == null ? Mode.ON : mode;
    servers = servers == null ? null : Set.copyOf(servers);
    serverFlags = Map.copyOf(serverFlags == null ? Map.of() : serverFlags);
    binding = binding == null ? Binding.SERVER : binding;
    limits = limits == null ? Limits.DEFAULT : limits;
    keys = Map.copyOf(keys == null ? Map.of() : keys);
    toolGroups = Map.copyOf(toolGroups == null ? Map.of() : toolGroups);
  }

  /** Is {@code server} reached through Code Mode (when Code Mode is on for the caller)? */
  public boolean coversServer(String server) {
    if (!enabled) {
      return false;
    }
    Boolean flag = serverFlags.get(server);
    if (flag != null) {
      return flag;
    }
    return servers == null || servers.contains(server);
  }

  /**
   * Whether Code Mode is on for a caller: its tool group's setting at {@code /mcp/<group>}, else
   * its key's, else {@code mode}; {@code auto} compares {@code coveredTools} (the Code-Mode
   * servers' tools this caller may call) with {@code autoThreshold}.
   */
  public boolean activeFor(String keyName, String group, int coveredTools) {
    if (!enabled || coveredTools == 0) {
      return false;
    }
    Mode m = mode;
    if (keyName != null && keys.containsKey(keyName)) {
      m = keys.get(keyName);
    }
    if (group != null && toolGroups.containsKey(group)) {
      m = toolGroups.get(group);
    }
    return switch (m) {
      case ON -> true;
      case OFF -> false;
      case AUTO -> coveredTools >= autoThreshold;
    };
  }

  /** For messages: which servers, as written. */
  public List<String> serverList() {
    return servers == null ? List.of("*") : servers.stream().sorted().toList();
  }
}
