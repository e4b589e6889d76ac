package io.bastion.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole config file, validated. Built by {@link ConfigLoader}.
 *
 * @param source the file it came from (as given to the loader)
 * @param gateway the client-facing endpoint
 * @param servers upstream MCP servers from {@code mcp.servers}, in file order
 * @param virtualKeys {@code virtual_keys}
 * @param teams {@code teams}
 * @param customers {@code customers}
 * @param toolGroups {@code tool_groups}
 * @param audit {@code audit}
 * @param store {@code store}
 * @param adminToken {@code admin.token}, or null if the admin API is disabled; never printed by
 *     {@link #toString()}
 * @param warnings things that are allowed but probably not meant, each {@code <path>: <message>}
 *     (e.g. a key naming a server that is not defined)
 * @param cluster {@code cluster}: Artery address, seed nodes, management HTTP
 * @param codeMode {@code mcp.code_mode} (and each server's {@code code_mode} flag)
 */
public record BastionConfig(
    Path source,
    GatewayConfig gateway,
    List<ServerConfig> servers,
    List<VirtualKeyConfig> virtualKeys,
    List<TeamConfig> teams,
    List<CustomerConfig> customers,
    List<ToolGroupConfig> toolGroups,
    AuditConfig audit,
    StoreConfig store,
    String adminToken,
    List<String> warnings,
    ClusterConfig cluster,
    CodeModeConfig codeMode) {

  public BastionConfig {
    gateway = Objects.requireNonNullElse(gateway, GatewayConfig.DEFAULT);
    servers = List.copyOf(servers == null ? List.of() : servers);
    virtualKeys = List.copyOf(virtualKeys == null ? List.of() : virtualKeys);
    teams = List.copyOf(teams == null ? List.of() : teams);
    customers = List.copyOf(customers == null ? List.of() : customers);
    toolGroups = List.copyOf(toolGroups == null ? List.of() : toolGroups);
    audit = Objects.requireNonNullElse(audit, AuditConfig.DEFAULT);
    store = Objects.requireNonNullElse(store, StoreConfig.DEFAULT);
    warnings = List.copyOf(warnings == null ? List.of() : warnings);
    cluster = Objects.requireNonNullElse(cluster, ClusterConfig.DEFAULT);
    codeMode = Objects.requireNonNullElse(codeMode, CodeModeConfig.DISABLED);
  }

  /** The config without Code Mode (the constructor from before {@code codeMode} existed). */
  public BastionConfig(Path source, GatewayConfig gateway, List<ServerConfig> servers,
      List<VirtualKeyConfig> virtualKeys, List<TeamConfig> teams, List<CustomerConfig> customers,
      List<ToolGroupConfig> toolGroups, AuditConfig audit, StoreConfig store, String adminToken,
      List<String> warnings, ClusterConfig cluster) {
    this(source, gateway, servers, virtualKeys, teams, customers, toolGroups, audit, store,
        adminToken, warnings, cluster, null);
  }

  /** The config without a {@code cluster} block (its defaults: a cluster of one on 127.0.0.1:25520). */
  public BastionConfig(Path source, GatewayConfig gateway, List<ServerConfig> servers,
      List<VirtualKeyConfig> virtualKeys, List<TeamConfig> teams, List<CustomerConfig> customers,
      List<ToolGroupConfig> toolGroups, AuditConfig audit, StoreConfig store, String adminToken,
      List<String> warnings) {
    this(source, gateway, servers, virtualKeys, teams, customers, toolGroups, audit, store,
        adminToken, warnings, null, null);
  }

  /** The same config with another {@code cluster} block. */
  public BastionConfig withCluster(ClusterConfig c) {
    return new BastionConfig(source, gateway, servers, virtualKeys, teams, customers, toolGroups,
        audit, store, adminToken, warnings, c, codeMode);
  }

  /** The same config with another {@code mcp.code_mode}. */
  public BastionConfig withCodeMode(CodeModeConfig c) {
    return new BastionConfig(source, gateway, servers, virtualKeys, teams, customers, toolGroups,
        audit, store, adminToken, warnings, cluster, c);
  }

  public Optional<ServerConfig> server(String name) {
    return servers.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  public Optional<VirtualKeyConfig> virtualKey(String keyName) {
    return virtualKeys.stream().filter(k -> k.keyName().equals(keyName)).findFirst();
  }

  public Optional<TeamConfig> team(String name) {
    return teams.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  public Optional<CustomerConfig> customer(String name) {
    return customers.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  public Optional<ToolGroupConfig> toolGroup(String name) {
    return toolGroups.stream().filter(g -> g.name().equals(name)).findFirst();
  }

  @Override
  public String toString() {
    return "BastionConfig[source=" + source + ", gateway=" + gateway + ", servers=" + servers
        + ", virtualKeys=" + virtualKeys + ", teams=" + teams + ", customers=" + customers
        + ", toolGroups=" + toolGroups + ", audit=" + audit + ", store=" + store + ", adminToken="
        + (adminToken == null ? null : "***") + ", warnings=" + warnings + ", cluster=" + cluster
        + ", codeMode=" + codeMode + "]";
  }
}
