package io.bastion.config;

import java.util.List;
import java.util.Objects;

/**
 * One virtual key from {@code virtual_keys[i]}: what an agent presents, and what it may do.
 *
 * @param keyName unique, {@code ^[a-zA-Z0-9_-]{1,64}$}; the id used in logs, audit and the admin API
 * @param key the secret itself (≥ 8 characters, unique); never printed by {@link #toString()}
 * @param mcpClients per-server tool allow-lists; a server not listed offers no tools
 * @param team the team whose budget this key also draws from, or null
 * @param toolGroups names of {@link ToolGroupConfig tool groups} whose tools are allowed too
 * @param budget this key's own cap, or null
 * @param rateLimit this key's rate limits, or null
 */
public record VirtualKeyConfig(
    String keyName,
    String key,
    List<McpClientAccess> mcpClients,
    String team,
    List<String> toolGroups,
    BudgetConfig budget,
    RateLimitConfig rateLimit) {

  /**
   * {@code mcp_clients[j]}: the tools of server {@code name} this key may call.
   *
   * @param name a server name (it may be defined later, so unknown names only warn)
   * @param allowedTools upstream tool names; {@code ["*"]} allows all; empty allows none
   */
  public record McpClientAccess(String name, List<String> allowedTools) {
    public static final String ALL = "*";

    public McpClientAccess {
      Objects.requireNonNull(name, "name");
      allowedTools = List.copyOf(allowedTools == null ? List.of() : allowedTools);
    }

    public boolean allowsAll() {
      return allowedTools.contains(ALL);
    }

    public boolean allows(String tool) {
      return allowsAll() || allowedTools.contains(tool);
    }
  }

  public VirtualKeyConfig {
    Objects.requireNonNull(keyName, "keyName");
    Objects.requireNonNull(key, "key");
    mcpClients = List.copyOf(mcpClients == null ? List.of() : mcpClients);
    toolGroups = List.copyOf(toolGroups == null ? List.of() : toolGroups);
  }

  @Override
  public String toString() {
    return "VirtualKeyConfig[keyName=" + keyName + ", key=***, mcpClients=" + mcpClients + ", team="
        + team + ", toolGroups=" + toolGroups + ", budget=" + budget + ", rateLimit=" + rateLimit + "]";
  }
}
