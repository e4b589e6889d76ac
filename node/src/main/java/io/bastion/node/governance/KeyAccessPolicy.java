package io.bastion.node.governance;

import io.bastion.config.BastionConfig;
import io.bastion.config.ToolGroupConfig;
import io.bastion.config.VirtualKeyConfig;
import io.bastion.node.call.AccessPolicy;
import io.bastion.node.call.SessionInfo;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Deny-by-default access from virtual keys and tool groups; the dispatcher uses the same answer
 * for lists and calls, so a hidden tool is indistinguishable from a missing one.
 *
 * <ul>
 *   <li>On {@code /mcp}: a key sees the tools its {@code mcp_clients} allow plus the tools of every
 *       tool group attached to it. {@code "*"} allows every current and future tool of a server.
 *   <li>On {@code /mcp/<group>}: only the group's tools (the authenticator already refused keys
 *       not attached to the group).
 *   <li>Prompts and resources of a server are visible when at least one of its tools is.
 *   <li>With no virtual keys configured (loopback only), everything is visible, still narrowed by
 *       the group.
 * </ul>
 */
public final class KeyAccessPolicy implements AccessPolicy {

  /** Per server: the allowed upstream tool names, or null for all. */
  private record Grant(Map<String, Set<String>> servers) {
    static final Set<String> ALL = null;

    boolean allowsTool(String server, String tool) {
      if (!servers.containsKey(server)) {
        return false;
      }
      Set<String> tools = servers.get(server);
      return tools == ALL || tools.contains(tool);
    }

    boolean allowsServer(String server) {
      if (!servers.containsKey(server)) {
        return false;
      }
      Set<String> tools = servers.get(server);
      return tools == ALL || !tools.isEmpty();
    }

    void add(String server, java.util.List<String> tools, boolean all) {
      if (all) {
        servers.put(server, ALL);
      } else if (!servers.containsKey(server) || servers.get(server) != ALL) {
        servers.computeIfAbsent(server, s -> new HashSet<>()).addAll(tools);
      }
    }
  }

  /** One consistent set of grants, swapped whole on every change. */
  private record View(boolean open, Map<String, Grant> byKey, Map<String, Grant> byGroup,
      Map<String, Set<String>> groupsOfKey) {}

  private volatile View view;
  /** The config has no keys and the bind is loopback: open while no key exists through the API either. */
  private final boolean loopback;

  public KeyAccessPolicy(BastionConfig config) {
    // Open access only on loopback, and only if the config itself has no keys.
    this.loopback = KeyDirectory.isLoopback(config.gateway().host()) && config.virtualKeys().isEmpty();
    update(config);
  }

  /** Replaces the grants (the config overlaid with the admin API's changes). */
  public void update(BastionConfig config) {
    Map<String, Grant> byKey = new HashMap<>();
    Map<String, Grant> byGroup = new HashMap<>();
    Map<String, Set<String>> groupsOfKey = new HashMap<>();
    for (ToolGroupConfig g : config.toolGroups()) {
      Grant grant = new Grant(new HashMap<>());
      for (ToolGroupConfig.Selection s : g.tools()) {
        grant.add(s.server(), s.tools(), s.selectsAll());
      }
      byGroup.put(g.name(), grant);
    }
    for (VirtualKeyConfig k : config.virtualKeys()) {
      Grant grant = new Grant(new HashMap<>());
      for (VirtualKeyConfig.McpClientAccess a : k.mcpClients()) {
        grant.add(a.name(), a.allowedTools(), a.allowsAll());
      }
      for (String group : k.toolGroups()) {
        Grant g = byGroup.get(group);
        if (g != null) {
          g.servers().forEach((server, tools) -> grant.add(server,
              tools == Grant.ALL ? java.util.List.of() : java.util.List.copyOf(tools), tools == Grant.ALL));
        }
      }
      byKey.put(k.keyName(), grant);
      groupsOfKey.put(k.keyName(), Set.copyOf(k.toolGroups()));
    }
    this.view = new View(config.virtualKeys().isEmpty() && loopback, byKey, byGroup, groupsOfKey);
  }

  @Override
  public boolean allowsTool(SessionInfo session, String group, String server, String tool) {
    View v = view;
    if (group != null) {
      Grant g = v.byGroup().get(group);
      return g != null && g.allowsTool(server, tool) && keyMayUseGroup(v, session, group);
    }
    if (v.open()) {
      return true;
    }
    Grant k = session == null ? null : v.byKey().get(session.keyName());
    return k != null && k.allowsTool(server, tool);
  }

  @Override
  public boolean allowsServer(SessionInfo session, String group, String server) {
    View v = view;
    if (group != null) {
      Grant g = v.byGroup().get(group);
      return g != null && g.allowsServer(server) && keyMayUseGroup(v, session, group);
    }
    if (v.open()) {
      return true;
    }
    Grant k = session == null ? null : v.byKey().get(session.keyName());
    return k != null && k.allowsServer(server);
  }

  /** Defence in depth: the session's key (not only the request's) must be attached to the group. */
  private static boolean keyMayUseGroup(View v, SessionInfo session, String group) {
    if (v.open()) {
      return true;
    }
    return session != null && session.keyName() != null
        && v.groupsOfKey().getOrDefault(session.keyName(), Set.of()).contains(group);
  }

  public static KeyAccessPolicy of(BastionConfig config) {
    return new KeyAccessPolicy(config);
  }
}
