package io.bastion.node.codemode;

import static org.assertj.core.api.Assertions.assertThat;

import io.bastion.config.CodeModeConfig;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class StubFilesTest {

  private static FederatedCatalog.Entry tool(String server, String name, String description) {
    var d = Json.object().put("name", server + "__" + name).put("description", description);
    d.putObject("inputSchema").put("type", "object").putObject("properties").putObject("q").put("type", "string");
    return new FederatedCatalog.Entry(server + "__" + name, d, new FederatedCatalog.Target(server, name));
  }

  private static final List<FederatedCatalog.Entry> ENTRIES = List.of(tool("git-hub", "search-issues", "Search."),
      tool("git-hub", "get_issue", "Get one."), tool("memory", "read_graph", "Read it."));

  @Test
  void serverBindingGivesOneFilePerServerFoundForgivingly() {
    StubFiles f = new StubFiles(ENTRIES, CodeModeConfig.Binding.SERVER);
    assertThat(f.files().keySet()).containsExactly("servers/git_hub.pyi", "servers/memory.pyi");
    assertThat(f.file("GIT_HUB").orElseThrow().getKey()).isEqualTo("servers/git_hub.pyi");
    assertThat(f.file("/servers/memory.pyi")).isPresent();
    assertThat(f.file("servers/nothing.pyi")).isEmpty();
    assertThat(f.files().get("servers/git_hub.pyi")).contains("def search_issues(q: str = None) -> dict:  # Search.");
    assertThat(f.toolCount()).isEqualTo(3);
  }

  @Test
  void toolBindingGivesOneFilePerTool() {
    StubFiles f = new StubFiles(ENTRIES, CodeModeConfig.Binding.TOOL);
    assertThat(f.files().keySet()).containsExactlyInAnyOrder("servers/git_hub/search_issues.pyi",
        "servers/git_hub/get_issue.pyi", "servers/memory/read_graph.pyi");
  }

  @Test
  void docsAndBindingsUseTheUpstreamAndExposedNames() {
    StubFiles f = new StubFiles(ENTRIES, CodeModeConfig.Binding.SERVER);
    assertThat(f.docs("git-hub", "search-issues")).get().asString().contains("MCP tool name: search-issues");
    assertThat(f.docs("git_hub", "search_issues")).isPresent();
    assertThat(f.docs("git_hub", "delete_repo")).isEmpty();
    assertThat(f.refs()).contains(new Bindings.ToolRef("git-hub", "git_hub", "search_issues", "search-issues",
        "git-hub__search-issues"));
  }
}
