package io.bastion.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.bastion.node.codemode.CodeMode;
import io.bastion.protocol.Json;
import io.bastion.protocol.PythonStubs;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * What a model is sent per turn, classic vs Code Mode, counted with a real tokenizer on real MCP
 * servers' recorded {@code tools/list} (fixtures under {@code resources/codemode/}, with package and
 * version). Classic: the tool definitions as tools/list returns them, every turn. Code Mode: the
 * four meta-tool definitions every turn, plus the stub files read (in context for the turns after
 * the read). Prints Markdown.
 *
 * <p>This is a token model, not the graded episode benchmark: episodes are shapes (turn
 * counts), and catalogs larger than the recorded servers are the recorded per-tool averages times
 * N, marked as such.
 *
 * <p>Run: {@code benchmarks/codemode-tokens.sh}.
 */
public final class CodeModeTokens {

  private static final List<String> SERVERS = List.of("server-everything", "server-memory", "server-filesystem");

  private record Server(String pkg, String version, List<JsonNode> tools) {}

  private CodeModeTokens() {}

  public static void main(String[] args) throws IOException {
    List<Server> servers = new ArrayList<>();
    for (String s : SERVERS) {
      try (InputStream in = CodeModeTokens.class.getResourceAsStream("/codemode/" + s + ".json")) {
        JsonNode f = Json.MAPPER.readTree(in);
        List<JsonNode> tools = new ArrayList<>();
        f.path("tools").forEach(tools::add);
        servers.add(new Server(f.path("package").asText(), f.path("version").asText(), tools));
      }
    }
    StringBuilder out = new StringBuilder("# Code Mode: tokens per turn (token model)\n\n");
    for (EncodingType type : List.of(EncodingType.O200K_BASE, EncodingType.CL100K_BASE)) {
      report(out, Encodings.newDefaultEncodingRegistry().getEncoding(type), type.getName(), servers);
    }
    System.out.print(out);
  }

  static int classic(Encoding enc, List<JsonNode> tools) {
    ArrayNode a = Json.NODES.arrayNode();
    tools.forEach(a::add);
    return enc.countTokens(Json.write(Json.object().set("tools", a)));
  }

  static int stub(Encoding enc, String serverId, List<JsonNode> tools) {
    return enc.countTokens(PythonStubs.serverFile(serverId, PythonStubs.tools(tools)));
  }

  static int meta(Encoding enc) {
    ArrayNode a = Json.NODES.arrayNode();
    CodeMode.metaToolDefinitions().forEach(a::add);
    return enc.countTokens(Json.write(Json.object().set("tools", a)));
  }

  private static void report(StringBuilder out, Encoding enc, String name, List<Server> servers) {
    out.append("## ").append(name).append("\n\n| server | version | tools | classic tokens | per tool |"
        + " stub tokens | per tool |\n|---|---|---|---|---|---|---|\n");
    int tools = 0;
    int classicTotal = 0;
    int stubTotal = 0;
    for (Server s : servers) {
      int c = classic(enc, s.tools());
      int st = stub(enc, PythonStubs.identifier(s.pkg().substring(s.pkg().lastIndexOf('-') + 1)), s.tools());
      tools += s.tools().size();
      classicTotal += c;
      stubTotal += st;
      out.append(String.format("| %s | %s | %d | %d | %.0f | %d | %.0f |%n", s.pkg(), s.version(), s.tools().size(),
          c, c / (double) s.tools().size(), st, st / (double) s.tools().size()));
    }
    double perTool = classicTotal / (double) tools;
    double stubPerTool = stubTotal / (double) tools;
    int meta = meta(enc);
    out.append(String.format("%nMeta-tools (listToolFiles, readToolFile, getToolDocs, executeToolCode): %d tokens"
        + " per turn. Averages: %.0f tokens per classic definition, %.0f per stub line.%n%n", meta, perTool, stubPerTool));
    out.append("Episode shapes (input tokens of the tool definitions and stubs only; the program, results and"
        + " answers are the same order of size in both modes and left out):\n\n"
        + "- *one call*: classic 2 turns (call, answer); Code Mode 4 turns (list, read, execute, answer), the"
        + " stubs read in context for 2 of them;\n"
        + "- *three calls*: classic 4 turns; Code Mode 4 turns.\n\n"
        + "| catalog N | one call: classic | Code Mode | reduction | three calls: classic | Code Mode | reduction |\n"
        + "|---|---|---|---|---|---|---|\n");
    // Code Mode reads the stubs of the servers a task needs, assumed two average recorded servers (24 tools),
    // never the whole catalog.
    double readTools = tools / (double) servers.size() * 2;
    for (int n : new int[] {4, 8, 10, 20, tools, 96, 251, 508}) {
      double read = Math.min(n, readTools) * stubPerTool;
      double c1 = 2 * n * perTool;
      double m1 = 4 * meta + 2 * read;
      double c3 = 4 * n * perTool;
      double m3 = 4 * meta + 2 * read;
      out.append(String.format("| %d%s | %.0f | %.0f | %.1f %% | %.0f | %.0f | %.1f %% |%n", n,
          n == tools ? " (recorded)" : n > tools ? " (extrapolated)" : "", c1, m1, 100 * (1 - m1 / c1), c3, m3,
          100 * (1 - m3 / c3)));
    }
    out.append(String.format("%nBreak-even (Code Mode cheaper from): one call at N = %d, three calls at N = %d.%n%n",
        breakEven(perTool, stubPerTool, meta, readTools, 2), breakEven(perTool, stubPerTool, meta, readTools, 4)));
  }

  static int breakEven(double perTool, double stubPerTool, int meta, double readTools, int classicTurns) {
    for (int n = 1; n < 10_000; n++) {
      if (4 * meta + 2 * Math.min(n, readTools) * stubPerTool < classicTurns * n * perTool) {
        return n;
      }
    }
    return -1;
  }
}
