package io.bastion.config;

import java.util.List;
import java.util.Objects;

/**
 * {@code tool_groups[i]}: a named set of tools that keys can grant with {@code tool_groups: [name]}.
 *
 * @param name unique, {@code ^[a-zA-Z0-9_-]{1,64}$}
 * @param tools which tools of which servers
 */
public record ToolGroupConfig(String name, List<Selection> tools) {

  /**
   * {@code {server: github-mcp, tools: ["a", "b"]}}; {@code ["*"]} selects every tool of the server.
   */
  public record Selection(String server, List<String> tools) {
    public Selection {
      Objects.requireNonNull(server, "server");
      tools = List.copyOf(tools == null ? List.of() : tools);
    }

    public boolean selectsAll() {
      return tools.contains(VirtualKeyConfig.McpClientAccess.ALL);
    }
  }

  public ToolGroupConfig {
    Objects.requireNonNull(name, "name");
    tools = List.copyOf(tools == null ? List.of() : tools);
  }
}
