package io.bastion.node.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The four tools Code Mode offers in place of the Code-Mode servers' own, named as in the
 * reference product so prompts carry over, and the texts they answer with.
 */
final class MetaTools {

  static final String LIST = "listToolFiles";
  static final String READ = "readToolFile";
  static final String DOCS = "getToolDocs";
  static final String EXECUTE = "executeToolCode";
  static final Set<String> NAMES = Set.of(LIST, READ, DOCS, EXECUTE);

  private MetaTools() {}

  static final String DIALECT = """
      The code is Starlark, a small Python dialect: no imports, no try/except/raise, no classes, no while \
      (use for over range), no f-strings (use "%s" % x or "{}".format(x)), no lambda, no nested def, no \
      recursion, no 'is'. Builtins: len, range, str, int, float, bool, list, dict, tuple, sorted, reversed, \
      enumerate, zip, min, max, any, all, hasattr, getattr, type, print. Each server is a global object: \
      call its tools as server.tool_name(param=value) with the exact names from the stub files. A call \
      returns the tool's structured result or its text parsed as JSON (a dict or list), else the text; a \
      failed call stops the program with its error. Return data by assigning `result = ...` (JSON-like \
      values) and/or print(...): only that comes back, never the raw tool outputs. Every run starts from \
      an empty scope. If a run fails, fix the code and run again, but do not repeat calls that changed \
      something (creating, writing, sending) unless you mean to.""";

  static List<FederatedCatalog.Entry> entries() {
    return List.of(entry(LIST, "List the Python stub files (servers/<server>.pyi) of the tools you can call"
            + " from executeToolCode. Read the ones you need with readToolFile before writing code.", Map.of(), List.of()),
        entry(READ, "Read a stub file listed by listToolFiles: one Python def line per tool, with its parameters"
            + " (required first, optional ones = None) and a one-line description. Optional 1-based startLine"
            + " and endLine read part of a long file.",
            Map.of("fileName", prop("string", "a name from listToolFiles, e.g. servers/github.pyi"),
                "startLine", prop("integer", "first line to read (1-based, default 1)"),
                "endLine", prop("integer", "last line to read (default: the end)")), List.of("fileName")),
        entry(DOCS, "Get one tool's full documentation: its description, every argument with type and whether"
            + " it is required, what it returns, and an example call.",
            Map.of("server", prop("string", "the server object's name, as in the stub file"),
                "tool", prop("string", "the tool's name, as in the stub file")), List.of("server", "tool")),
        entry(EXECUTE, "Run a program that calls the tools from the stub files and returns only what you need. "
            + DIALECT, Map.of("code", prop("string", "the Starlark program")), List.of("code")));
  }

  private static ObjectNode prop(String type, String description) {
    return Json.object().put("type", type).put("description", description);
  }

  private static FederatedCatalog.Entry entry(String name, String description, Map<String, ObjectNode> props,
      List<String> required) {
    ObjectNode d = Json.object().put("name", name).put("description", description);
    ObjectNode schema = d.putObject("inputSchema").put("type", "object");
    ObjectNode p = schema.putObject("properties");
    props.keySet().stream().sorted().forEach(k -> p.set(k, props.get(k)));
    required.forEach(r -> schema.withArray("required").add(r));
    return new FederatedCatalog.Entry(name, d, null);
  }

  /** A tools/call result with one text item. */
  static ObjectNode text(String text, boolean error) {
    ObjectNode r = Json.object();
    r.putArray("content").addObject().put("type", "text").put("text", text);
    if (error) {
      r.put("isError", true);
    }
    return r;
  }

  static ObjectNode listing(StubFiles files) {
    if (files.files().isEmpty()) {
      return text("No tools are available to you through Code Mode.", false);
    }
    StringBuilder b = new StringBuilder();
    files.files().forEach((name, content) -> b.append(name).append("  (")
        .append(content.lines().filter(l -> l.startsWith("def ")).count()).append(" tools)\n"));
    return text(b.toString(), false);
  }

  static ObjectNode read(StubFiles files, JsonNode args) {
    String name = args.path("fileName").asText("");
    var file = files.file(name);
    if (file.isEmpty()) {
      return text("No stub file " + Json.write(Json.NODES.textNode(name)) + ". Available: "
          + String.join(", ", files.files().keySet()), true);
    }
    List<String> lines = file.get().getValue().lines().toList();
    int total = lines.size();
    int from = Math.max(1, Math.min(total, args.path("startLine").asInt(1)));
    int to = Math.max(from, Math.min(total, args.path("endLine").asInt(total)));
    StringBuilder b = new StringBuilder("# ").append(file.get().getKey()).append(": lines ").append(from)
        .append('-').append(to).append(" of ").append(total).append('\n');
    lines.subList(from - 1, to).forEach(l -> b.append(l).append('\n'));
    return text(b.toString(), false);
  }

  static ObjectNode docs(StubFiles files, JsonNode args) {
    String server = args.path("server").asText("");
    String tool = args.path("tool").asText("");
    return files.docs(server, tool).map(d -> text(d, false))
        .orElseGet(() -> text("Unknown tool: " + server + "." + tool + " (listToolFiles and readToolFile show the"
            + " tools you may call)", true));
  }

  /** What a finished run answers: its printed output and its result, or its error. */
  static ObjectNode outcome(Sandbox.Outcome o) {
    if (o.ok()) {
      if (o.result() == null && o.output().isEmpty()) {
        return text("The program finished without returning anything: assign result = ... or print(...).", true);
      }
      ObjectNode r = Json.object();
      var content = r.putArray("content");
      if (!o.output().isEmpty()) {
        content.addObject().put("type", "text").put("text", o.output());
      }
      if (o.result() != null) {
        content.addObject().put("type", "text").put("text", Json.write(o.result()));
      }
      return r;
    }
    StringBuilder b = new StringBuilder("Error (").append(o.errorKind().name().toLowerCase(java.util.Locale.ROOT))
        .append("): ").append(o.error());
    if (o.errorKind() == Sandbox.Kind.SYNTAX) {
      b.append("\nRemember: ").append("no imports, try/except, while, f-strings, lambda, classes or nested def.");
    }
    if (!o.output().isEmpty()) {
      b.append("\nOutput before the error:\n").append(o.output());
    }
    return text(b.toString(), true);
  }
}
