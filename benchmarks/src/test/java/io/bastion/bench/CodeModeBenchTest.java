package io.bastion.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.bastion.bench.codemode.Episode;
import io.bastion.bench.codemode.Episodes;
import io.bastion.bench.codemode.Fixtures;
import io.bastion.bench.codemode.Tally;
import io.bastion.bench.codemode.Workspace;
import io.bastion.protocol.Json;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The graded benchmark's harness without a node (the run itself is {@code benchmarks/codemode.sh},
 * not part of {@code mvn test}): the fixtures parse, the catalogs are built of recorded tools only,
 * and grading fails a wrong answer.
 */
class CodeModeBenchTest {

  @Test
  void everyFixtureParsesWithItsPackageVersionAndTools() {
    Map<String, Fixtures.Server> all = Fixtures.all();
    assertThat(all).containsKeys("everything", "filesystem", "memory");
    assertThat(all.size()).isGreaterThanOrEqualTo(10);
    for (Fixtures.Server s : all.values()) {
      assertThat(s.pkg()).as(s.name()).isNotBlank();
      assertThat(s.version()).as(s.name()).matches("\\d+\\.\\d+\\.\\d+.*");
      assertThat(s.tools()).as(s.name()).isNotEmpty();
      assertThat(new HashSet<>(s.toolNames())).as(s.name() + ": tool names are unique").hasSize(s.tools().size());
    }
  }

  @Test
  void catalogsAreMadeOfRecordedToolsOnlyAndStopWhereTheRecordingsEnd() {
    Map<String, Fixtures.Server> all = Fixtures.all();
    int recorded = all.values().stream().mapToInt(s -> s.tools().size()).sum() + CodeModeBench.FIXTURE_TOOLS.size();
    Map<String, List<String>> c96 = CodeModeBench.catalog(96, all);
    assertThat(CodeModeBench.size(c96)).isEqualTo(96);
    c96.forEach((server, tools) -> {
      if (!server.equals("fixture")) {
        assertThat(all.get(server).toolNames()).as(server).containsAll(tools);
      }
    });
    // asking for more than was recorded gives every recorded tool, never an invented one
    assertThat(CodeModeBench.size(CodeModeBench.catalog(100_000, all))).isEqualTo(recorded);
  }

  @Test
  void gradingFailsAWrongAnswerAndPassesTheExpectedOne() {
    List<Episode> episodes = Episodes.all(new Workspace(Path.of("/tmp/ws")), "t");
    assertThat(episodes.size()).isGreaterThanOrEqualTo(60);
    Set<String> ids = new HashSet<>();
    episodes.forEach(e -> assertThat(ids.add(e.id())).as("unique id " + e.id()).isTrue());
    assertThat(episodes.stream().map(Episode::kind).distinct()).containsExactlyInAnyOrder("simple", "multi-step", "loop");

    Episode sum = episodes.stream().filter(e -> e.id().equals("sum-2-3")).findFirst().orElseThrow();
    ArrayNode defs = Json.NODES.arrayNode();
    Tally.Play right = new Tally.Play(sum, defs);
    right.answer(Json.NODES.numberNode(5.0));
    assertThat(right.passed()).as("5.0 equals the expected 5").isTrue();
    Tally.Play wrong = new Tally.Play(sum, defs);
    wrong.answer(Json.NODES.numberNode(6));
    assertThat(wrong.passed()).isFalse();
    assertThat(wrong.failure()).isEqualTo("expected 5, got 6");
    Tally.Play text = new Tally.Play(sum, defs);
    text.answer(Json.NODES.textNode("5"));
    assertThat(text.passed()).as("the string \"5\" is not the number 5").isFalse();
    Tally.Play broken = new Tally.Play(sum, defs);
    broken.failed("Error (runtime): boom");
    assertThat(broken.passed()).isFalse();

    // a wrong expected answer fails an answer that is right
    Episode misgraded = new Episode(sum.id(), sum.kind(), sum.task(), sum.stubs(), sum.docs(), sum.program(),
        sum.classic(), Json.NODES.numberNode(4));
    Tally.Play p = new Tally.Play(misgraded, defs);
    p.answer(Json.NODES.numberNode(5));
    assertThat(p.passed()).isFalse();
    assertThat(Episode.same(Episode.json(List.of(1, 2)), Episode.json(List.of(2, 1)))).isFalse();
    assertThat(Episode.same(Episode.json(Map.of("a", 1)), Episode.json(Map.of("a", 1, "b", 2)))).isFalse();
  }

  private static JsonNode parse(String json) {
    try {
      return Json.MAPPER.readTree(json);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aToolResultReachesTheClassicModelAsCodeModeWouldSeeIt() {
    JsonNode structured = parse("{\"content\":[{\"type\":\"text\",\"text\":\"x\"}],"
        + "\"structuredContent\":{\"content\":\"x\"}}");
    assertThat(Episode.value(structured)).isEqualTo(parse("{\"content\":\"x\"}"));
    JsonNode jsonText = parse("{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\":1}\"}]}");
    assertThat(Episode.value(jsonText)).isEqualTo(parse("{\"a\":1}"));
    JsonNode plain = parse("{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hi\"}]}");
    assertThat(Episode.value(plain).asText()).isEqualTo("Echo: hi");
  }
}
