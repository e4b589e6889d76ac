package io.bastion.bench.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.bastion.protocol.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What the model is sent over one episode, counted with a real tokenizer, and the grade.
 *
 * <p>The loop: every model turn is sent the tool definitions in force (classic: the catalog's
 * tools as Bastion's tools/list gives them; Code Mode: the four meta-tools), the task, and the
 * conversation so far (each earlier turn's tool calls and their results: the text content the
 * client hands the model). A turn answers with tool calls, or, last, with the answer. Input tokens
 * of an episode = the sum over its turns; output tokens = the calls and the answer.
 */
public final class Tally {
  private Tally() {}

  public static final List<EncodingType> ENCODINGS = List.of(EncodingType.O200K_BASE, EncodingType.CL100K_BASE);
  private static final Map<EncodingType, Encoding> ENC = new LinkedHashMap<>();

  static synchronized Encoding enc(EncodingType t) {
    return ENC.computeIfAbsent(t, x -> Encodings.newDefaultEncodingRegistry().getEncoding(x));
  }

  static int tokens(EncodingType t, String text) {
    return enc(t).countTokens(text);
  }

  /** The definitions as the model gets them: {@code {"tools": [...]}}. */
  static String definitions(ArrayNode tools) {
    return Json.write(Json.object().set("tools", tools));
  }

  /** What the model reads of a tool result: its text items (others as JSON), one per line. */
  static String resultText(JsonNode result) {
    StringBuilder b = new StringBuilder();
    for (JsonNode c : result.path("content")) {
      b.append(c.path("type").asText().equals("text") ? c.path("text").asText() : Json.write(c)).append('\n');
    }
    if (result.path("isError").asBoolean(false)) {
      b.insert(0, "isError: true\n");
    }
    return b.toString();
  }

  /** One turn of tool calls and their results. */
  record Turn(List<JsonNode> calls, List<JsonNode> results) {}

  /** One episode played in one mode. */
  public static final class Play {
    final Episode episode;
    final ArrayNode definitions;
    final List<Turn> turns = new ArrayList<>();
    JsonNode answer;
    String failure;

    public Play(Episode episode, ArrayNode definitions) {
      this.episode = episode;
      this.definitions = definitions;
    }

    public void turn(List<JsonNode> calls, List<JsonNode> results) {
      turns.add(new Turn(List.copyOf(calls), List.copyOf(results)));
    }

    /** The model's answer: graded against the episode's expected answer. */
    public void answer(JsonNode a) {
      answer = a;
      if (!Episode.same(episode.expected(), a)) {
        failure = "expected " + episode.expected() + ", got " + a;
      }
    }

    public void failed(String why) {
      failure = why == null ? "failed" : why;
    }

    public boolean passed() {
      return answer != null && failure == null;
    }

    public String failure() {
      return failure;
    }

    /** Model turns: one per turn of tool calls, plus the answer. */
    public int modelTurns() {
      return turns.size() + 1;
    }

    /** Input tokens without the definitions: per turn the task and the conversation before it. */
    public long historyInput(EncodingType t) {
      long task = tokens(t, episode.task());
      long total = 0;
      long history = 0;
      for (Turn turn : turns) {
        total += task + history;
        history += tokens(t, Json.write(Json.MAPPER.valueToTree(turn.calls())));
        for (JsonNode r : turn.results()) {
          history += tokens(t, resultText(r));
        }
      }
      return total + task + history;
    }

    public long definitionTokens(EncodingType t) {
      return tokens(t, definitions(definitions));
    }

    public long input(EncodingType t) {
      return modelTurns() * definitionTokens(t) + historyInput(t);
    }

    public long output(EncodingType t) {
      long out = 0;
      for (Turn turn : turns) {
        out += tokens(t, Json.write(Json.MAPPER.valueToTree(turn.calls())));
      }
      return out + tokens(t, answer == null ? "" : Json.write(answer));
    }
  }

  /** One catalog size: its definitions and both modes' plays. */
  public record CatalogResult(int requested, int tools, int servers, ArrayNode classicDefinitions,
      ArrayNode metaDefinitions, List<Play> classic, List<Play> codeMode) {
    public CatalogResult(int requested, int tools, int servers, ArrayNode classicDefinitions, ArrayNode metaDefinitions) {
      this(requested, tools, servers, classicDefinitions, metaDefinitions, new ArrayList<>(), new ArrayList<>());
    }

    public boolean allPassed() {
      return classic.stream().allMatch(Play::passed) && codeMode.stream().allMatch(Play::passed);
    }
  }

  static double mean(List<Play> plays, ToDoubleFunction<Play> f) {
    return plays.stream().mapToDouble(f).average().orElse(0);
  }

  static String pct(double reduction) {
    return String.format("%.1f %%", 100 * reduction);
  }

  static String passRate(List<Play> plays) {
    long ok = plays.stream().filter(Play::passed).count();
    return String.format("%d/%d (%.0f %%)", ok, plays.size(), plays.isEmpty() ? 0 : 100.0 * ok / plays.size());
  }

  /**
   * The catalog size from which Code Mode costs fewer input tokens than classic for the mean of
   * {@code classic} and {@code codeMode} plays: classic's cost at n tools is its measured history
   * plus turns x the definitions of the first n tools of {@code catalog} (live servers first).
   * Returns -1 when classic is cheaper at every size up to the catalog's.
   */
  static int breakEven(EncodingType t, ArrayNode catalog, List<Play> classic, List<Play> codeMode) {
    double turns = mean(classic, Play::modelTurns);
    double history = mean(classic, p -> p.historyInput(t));
    double code = mean(codeMode, p -> p.input(t));
    int wrapper = tokens(t, "{\"tools\":[]}");
    double defs = wrapper;
    for (int n = 1; n <= catalog.size(); n++) {
      defs += tokens(t, Json.write(catalog.get(n - 1))) + (n > 1 ? 1 : 0);
      if (turns * defs + history >= code) {
        return n;
      }
    }
    return -1;
  }

  /** The catalog's tools with the live servers' first (the order the break-even grows a catalog in). */
  static ArrayNode liveFirst(ArrayNode tools, List<String> live) {
    ArrayNode a = Json.NODES.arrayNode();
    for (JsonNode t : tools) {
      if (live.stream().anyMatch(s -> t.path("name").asText().startsWith(s + "__"))) {
        a.add(t);
      }
    }
    for (JsonNode t : tools) {
      if (live.stream().noneMatch(s -> t.path("name").asText().startsWith(s + "__"))) {
        a.add(t);
      }
    }
    return a;
  }

  /** The results file. */
  public static String markdown(List<CatalogResult> results, Map<String, Fixtures.Server> fixtures, List<String> live,
      String header) {
    StringBuilder b = new StringBuilder("# Code Mode: graded episodes, classic vs Code Mode\n\n").append(header).append('\n');
    b.append("## Tool catalog (recorded real tools/list)\n\n| Bastion server | npm package | version | tools | served |\n"
        + "|---|---|---|---|---|\n");
    fixtures.values().forEach(s -> b.append(String.format("| %s | %s | %s | %d | %s |%n", s.name(), s.pkg(), s.version(),
        s.tools().size(), live.contains(s.name()) ? "live (stdio), episodes call it" : "recorded definitions only")));
    b.append("| fixture | node/src/test/node/conformance-fixture.mjs | (this repository) | 4 of its tools | live (stdio), episodes call it |\n\n");
    CatalogResult first = results.get(0);
    b.append(String.format("%d episodes: %s.%n%n", first.classic().size(), kinds(first.classic())));
    for (EncodingType t : ENCODINGS) {
      b.append("## ").append(t.getName()).append("\n\n| catalog | servers | classic definitions / turn | Code Mode meta-tools / turn"
          + " | classic input / episode | Code Mode input / episode | reduction (input) | classic in+out | Code Mode in+out"
          + " | reduction (in+out) | graded pass: classic | graded pass: Code Mode |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      for (CatalogResult r : results) {
        double ci = mean(r.classic(), p -> p.input(t));
        double mi = mean(r.codeMode(), p -> p.input(t));
        double ct = mean(r.classic(), p -> p.input(t) + p.output(t));
        double mt = mean(r.codeMode(), p -> p.input(t) + p.output(t));
        b.append(String.format("| %d tools | %d | %d | %d | %.0f | %.0f | %s | %.0f | %.0f | %s | %s | %s |%n", r.tools(),
            r.servers(), tokens(t, definitions(r.classicDefinitions())), tokens(t, definitions(r.metaDefinitions())),
            ci, mi, pct(1 - mi / ci), ct, mt, pct(1 - mt / ct), passRate(r.classic()), passRate(r.codeMode())));
      }
      CatalogResult small = results.get(0);
      CatalogResult largest = results.get(results.size() - 1);
      ArrayNode order = liveFirst(largest.classicDefinitions(), live);
      b.append(String.format("%nBreak-even (mean episode; Code Mode as measured at %d tools): Code Mode costs fewer input"
          + " tokens from a catalog of **%d tools**", small.tools(), breakEven(t, order, small.classic(), small.codeMode())));
      for (String kind : List.of("simple", "multi-step", "loop")) {
        b.append(String.format("; %s episodes: %d", kind, breakEven(t, order, of(small.classic(), kind),
            of(small.codeMode(), kind))));
      }
      b.append(".\n\n");
    }
    EncodingType t = EncodingType.O200K_BASE;
    b.append("## By episode kind (o200k_base, mean input tokens per episode)\n\n| catalog | kind | episodes |"
        + " classic turns | classic | Code Mode | reduction |\n|---|---|---|---|---|---|---|\n");
    for (CatalogResult r : results) {
      for (String kind : List.of("simple", "multi-step", "loop")) {
        List<Play> c = of(r.classic(), kind);
        List<Play> m = of(r.codeMode(), kind);
        double ci = mean(c, p -> p.input(t));
        double mi = mean(m, p -> p.input(t));
        b.append(String.format("| %d | %s | %d | %.1f | %.0f | %.0f | %s |%n", r.tools(), kind, c.size(),
            mean(c, Play::modelTurns), ci, mi, pct(1 - mi / ci)));
      }
    }
    CatalogResult largest = results.get(results.size() - 1);
    b.append(String.format("%n## Every episode at %d tools (o200k_base, input tokens)%n%n| episode | kind | classic turns |"
        + " classic | Code Mode turns | Code Mode | classic grade | Code Mode grade |%n|---|---|---|---|---|---|---|---|%n",
        largest.tools()));
    for (int i = 0; i < largest.classic().size(); i++) {
      Play c = largest.classic().get(i);
      Play m = largest.codeMode().get(i);
      b.append(String.format("| %s | %s | %d | %d | %d | %d | %s | %s |%n", c.episode.id(), c.episode.kind(),
          c.modelTurns(), c.input(t), m.modelTurns(), m.input(t), c.passed() ? "pass" : "FAIL", m.passed() ? "pass" : "FAIL"));
    }
    List<String> failures = new ArrayList<>();
    for (CatalogResult r : results) {
      r.classic().stream().filter(p -> !p.passed()).forEach(p -> failures.add(r.tools() + " classic " + p.episode.id()
          + ": " + p.failure()));
      r.codeMode().stream().filter(p -> !p.passed()).forEach(p -> failures.add(r.tools() + " Code Mode "
          + p.episode.id() + ": " + p.failure()));
    }
    b.append("\n## Failures\n\n").append(failures.isEmpty() ? "None: every answer equalled its expected answer.\n"
        : "- " + String.join("\n- ", failures) + "\n");
    return b.toString();
  }

  static List<Play> of(List<Play> plays, String kind) {
    return plays.stream().filter(p -> p.episode.kind().equals(kind)).toList();
  }

  private static String kinds(List<Play> plays) {
    Map<String, Integer> k = new LinkedHashMap<>();
    plays.forEach(p -> k.merge(p.episode.kind(), 1, Integer::sum));
    List<String> parts = new ArrayList<>();
    k.forEach((kind, n) -> parts.add(n + " " + kind));
    return String.join(", ", parts);
  }
}
