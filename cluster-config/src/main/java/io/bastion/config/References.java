package io.bastion.config;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks names that point from one block to another, in a second pass over the already-read
 * nodes (so nothing is reported twice). Servers may be added after keys are written, so a key or
 * group naming an unknown server is only a warning; an unknown team, customer or tool group is an
 * error, since those live in this same file.
 */
final class References {

  private References() {}

  static void check(ConfigNode root, List<ServerConfig> servers, List<TeamConfig> teams,
      List<CustomerConfig> customers, List<ToolGroupConfig> groups) {
    Set<String> serverNames = servers.stream().map(ServerConfig::name).collect(Collectors.toSet());
    Set<String> teamNames = teams.stream().map(TeamConfig::name).collect(Collectors.toSet());
    Set<String> customerNames = customers.stream().map(CustomerConfig::name).collect(Collectors.toSet());
    Set<String> groupNames = groups.stream().map(ToolGroupConfig::name).collect(Collectors.toSet());

    for (ConfigNode key : root.get("virtual_keys").elements()) {
      for (ConfigNode client : key.get("mcp_clients").elements()) {
        warnUnknownServer(client.get("name"), serverNames);
      }
      mustExist(key.get("team"), teamNames, "team", "teams");
      for (ConfigNode group : key.get("tool_groups").elements()) {
        mustExist(group, groupNames, "tool group", "tool groups");
      }
    }
    for (ConfigNode team : root.get("teams").elements()) {
      mustExist(team.get("customer"), customerNames, "customer", "customers");
    }
    for (ConfigNode group : root.get("tool_groups").elements()) {
      for (ConfigNode selection : group.get("tools").elements()) {
        warnUnknownServer(selection.get("server"), serverNames);
      }
    }
  }

  private static void warnUnknownServer(ConfigNode node, Set<String> serverNames) {
    String server = node.textOrNull();
    if (server != null && !serverNames.contains(server)) {
      node.warn("server \"" + server + "\" is not defined in mcp.servers (allowed: it may be added later)");
    }
  }

  private static void mustExist(ConfigNode node, Set<String> defined, String what, String plural) {
    String name = node.textOrNull();
    if (name != null && !defined.contains(name)) {
      node.error("unknown " + what + " \"" + name + "\"; defined " + plural + ": "
          + (defined.isEmpty() ? "(none)" : defined.stream().sorted().collect(Collectors.joining(", "))));
    }
  }
}
