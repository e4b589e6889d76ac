package io.bastion.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.bastion.protocol.Json;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CodeModeTokensTest {

  @Test
  void fixturesAreRealToolListsWithTheirPackageAndVersion() throws Exception {
    for (String s : List.of("server-everything", "server-memory", "server-filesystem")) {
      try (InputStream in = CodeModeTokens.class.getResourceAsStream("/codemode/" + s + ".json")) {
        JsonNode f = Json.MAPPER.readTree(in);
        assertThat(f.path("package").asText()).isEqualTo("@modelcontextprotocol/" + s);
        assertThat(f.path("version").asText()).matches("\\d+\\.\\d+\\.\\d+");
        assertThat(f.path("tools").size()).isGreaterThan(5);
        f.path("tools").forEach(t -> assertThat(t.path("inputSchema").path("type").asText()).isEqualTo("object"));
      }
    }
  }

  @Test
  void stubsAreSmallerThanDefinitions() throws Exception {
    Encoding enc = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    try (InputStream in = CodeModeTokens.class.getResourceAsStream("/codemode/server-filesystem.json")) {
      List<JsonNode> tools = new ArrayList<>();
      Json.MAPPER.readTree(in).path("tools").forEach(tools::add);
      assertThat(CodeModeTokens.stub(enc, "filesystem", tools) * 3).isLessThan(CodeModeTokens.classic(enc, tools));
    }
    assertThat(CodeModeTokens.meta(enc)).isBetween(300, 1000);
  }

  @Test
  void breakEvenIsTheFirstCatalogSizeWhereCodeModeCostsLess() {
    // 4 turns x 100 meta + 2 x min(n, 10) x 10 stub  <  2 turns x n x 50 classic: 400 + 20n < 100n from n = 6
    assertThat(CodeModeTokens.breakEven(50, 10, 100, 10, 2)).isEqualTo(6);
  }
}
