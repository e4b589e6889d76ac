package io.bastion.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class PythonStubsTest {

  private static JsonNode json(String s) {
    try {
      return Json.MAPPER.readTree(s);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static final JsonNode SEARCH = json("""
      {"name": "search-issues", "description": "Search issues in a repository. Results are paged.",
       "inputSchema": {"type": "object", "required": ["repo", "query"], "properties": {
         "state": {"type": "string", "enum": ["open", "closed"], "description": "Issue state"},
         "repo": {"type": "string"},
         "limit": {"type": "integer", "default": 10},
         "query": {"type": "string", "description": "Search   text"},
         "labels": {"type": "array", "items": {"type": "string"}},
         "filters": {"type": "object", "properties": {"x": {"type": "string"}}},
         "score": {"type": "number"},
         "exact": {"type": "boolean"},
         "anything": {}
       }}}
      """);

  @Test
  void signatureHasRequiredParametersFirstThenOptionalOnesAlphabetically() {
    PythonStubs.Tool t = PythonStubs.tools(List.of(SEARCH)).get(0);
    assertThat(t.pythonName()).isEqualTo("search_issues");
    assertThat(PythonStubs.signature(t)).isEqualTo(
        "def search_issues(query: str, repo: str, anything: Any = None, exact: bool = None, filters: dict = None,"
            + " labels: list[str] = None, limit: int = None, score: float = None,"
            + " state: Literal[\"open\", \"closed\"] = None) -> dict:  # Search issues in a repository.");
  }

  @Test
  void typesFollowTheSchema() {
    assertThat(PythonStubs.type(json("{\"const\": 3}"))).isEqualTo("Literal[3]");
    assertThat(PythonStubs.type(json("{\"enum\": [true, null], \"type\": \"string\"}"))).isEqualTo("Literal[True, None]");
    assertThat(PythonStubs.type(json("{\"type\": [\"string\", \"null\"]}"))).isEqualTo("str | None");
    assertThat(PythonStubs.type(json("{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": \"string\"}]}"))).isEqualTo("int | str");
    assertThat(PythonStubs.type(json("{\"type\": \"array\"}"))).isEqualTo("list[Any]");
    assertThat(PythonStubs.type(json("{\"type\": \"array\", \"items\": {\"type\": \"array\", \"items\": {\"type\": \"number\"}}}")))
        .isEqualTo("list[list[float]]");
  }

  @Test
  void summaryIsTheFirstSentenceOrACutLine() {
    assertThat(PythonStubs.summary("Adds two numbers. Then more.")).isEqualTo("Adds two numbers.");
    assertThat(PythonStubs.summary("  multi\n  line  ")).isEqualTo("multi line");
    String longText = "word ".repeat(40);
    assertThat(PythonStubs.summary(longText)).hasSize(80).endsWith("...");
    assertThat(PythonStubs.summary("v1.2 is a version without a sentence end")).isEqualTo("v1.2 is a version without a sentence end");
  }

  @Test
  void identifiersAreValidPythonAndUnique() {
    assertThat(PythonStubs.identifier("get-sum")).isEqualTo("get_sum");
    assertThat(PythonStubs.identifier("3d.render")).isEqualTo("_3d_render");
    assertThat(PythonStubs.identifier("ünï©ode")).isEqualTo("node");
    assertThat(PythonStubs.identifier("pass")).isEqualTo("pass_");
    List<PythonStubs.Tool> tools = PythonStubs.tools(List.of(json("{\"name\": \"a-b\"}"), json("{\"name\": \"a_b\"}")));
    assertThat(tools).extracting(PythonStubs.Tool::pythonName).containsExactly("a_b", "a_b_2");
    assertThat(tools).extracting(PythonStubs.Tool::original).containsExactly("a-b", "a_b");
  }

  @Test
  void serverFileHasAHeaderAndOneLinePerTool() {
    String file = PythonStubs.serverFile("github", PythonStubs.tools(List.of(SEARCH, json("{\"name\": \"ping\"}"))));
    List<String> lines = file.lines().toList();
    assertThat(lines).hasSize(6);
    assertThat(lines.get(0)).isEqualTo("# github: 2 tools");
    assertThat(lines.get(1)).contains("github.tool_name(param=value)");
    assertThat(lines.get(4)).startsWith("def search_issues(query: str, repo: str");
    assertThat(lines.get(5)).isEqualTo("def ping() -> dict:");
  }

  @Test
  void docsListEveryArgumentWithTypeAndWhetherItIsRequired() {
    String docs = PythonStubs.docs("github", PythonStubs.tools(List.of(SEARCH)).get(0));
    assertThat(docs).contains("Search issues in a repository. Results are paged.")
        .contains("MCP tool name: search-issues")
        .contains("query (str, required): Search text")
        .contains("limit (int, optional) (default 10)")
        .contains("state (Literal[\"open\", \"closed\"], optional): Issue state")
        .contains("result = github.search_issues(query=\"...\", repo=\"...\")");
  }
}
