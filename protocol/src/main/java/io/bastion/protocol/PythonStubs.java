package io.bastion.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Code Mode's compact Python stubs, rendered from MCP tool definitions (their JSON Schema
 * {@code inputSchema}): one {@code def} line per tool with required parameters first, optional
 * ones as {@code = None} (each group alphabetical), {@code Literal[...]} for enums and consts,
 * {@code list[T]}, {@code dict}, and the first sentence of the description as a trailing comment;
 * plus one tool's full documentation on demand.
 */
public final class PythonStubs {

  /** Longest trailing description comment, in characters. */
  public static final int SUMMARY_MAX = 80;

  private PythonStubs() {}

  /** One tool as Code Mode shows it: its Python name, what it is called upstream, its definition. */
  public record Tool(String pythonName, String original, JsonNode definition) {}

  /**
   * A Python identifier for an MCP name: {@code -}, {@code .}, {@code /} and spaces become
   * {@code _}, other characters are dropped, a leading digit gets a {@code _} prefix; case is kept.
   */
  public static String identifier(String name) {
    StringBuilder b = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
        b.append(c);
      } else if (c == '-' || c == '.' || c == '/' || c == ' ') {
        b.append('_');
      }
    }
    if (b.length() == 0 || Character.isDigit(b.charAt(0))) {
      b.insert(0, '_');
    }
    String id = b.toString();
    return PYTHON_KEYWORDS.contains(id) ? id + "_" : id;
  }

  /** Python identifiers for the tools of one server, unique (a clash gets {@code _2}, {@code _3} ...). */
  public static List<Tool> tools(List<JsonNode> definitions) {
    Set<String> taken = new TreeSet<>();
    List<Tool> out = new ArrayList<>();
    for (JsonNode d : definitions) {
      String original = d.path("name").asText();
      String id = identifier(original);
      String unique = id;
      for (int n = 2; !taken.add(unique); n++) {
        unique = id + "_" + n;
      }
      out.add(new Tool(unique, original, d));
    }
    return out;
  }

  /** The stub file of one server: a header, then one {@code def} line per tool. */
  public static String serverFile(String serverId, List<Tool> tools) {
    StringBuilder b = new StringBuilder();
    b.append("# ").append(serverId).append(": ").append(tools.size()).append(tools.size() == 1 ? " tool" : " tools")
        .append('\n');
    b.append("# Call as ").append(serverId).append(".tool_name(param=value); def names are the exact callable names.\n");
    b.append("# Every call returns a dict or list (parsed result) or a str; full docs: getToolDocs(server, tool).\n");
    b.append("# Descriptions below are first sentences and may be truncated.\n");
    for (Tool t : tools) {
      b.append(signature(t)).append('\n');
    }
    return b.toString();
  }

  /** The stub file of one tool (tool binding): the same header for one tool. */
  public static String toolFile(String serverId, Tool tool) {
    return serverFile(serverId, List.of(tool));
  }

  /** {@code def name(req: str, opt: int = None) -> dict:  # summary} */
  public static String signature(Tool tool) {
    JsonNode schema = tool.definition().path("inputSchema");
    StringBuilder b = new StringBuilder("def ").append(tool.pythonName()).append('(');
    List<String> params = new ArrayList<>();
    Params p = params(schema);
    for (Map.Entry<String, JsonNode> e : p.required().entrySet()) {
      params.add(identifier(e.getKey()) + ": " + type(e.getValue()));
    }
    for (Map.Entry<String, JsonNode> e : p.optional().entrySet()) {
      params.add(identifier(e.getKey()) + ": " + type(e.getValue()) + " = None");
    }
    b.append(String.join(", ", params)).append(") -> dict:");
    String summary = summary(tool.definition().path("description").asText(""));
    if (!summary.isEmpty()) {
      b.append("  # ").append(summary);
    }
    return b.toString();
  }

  /** A tool's full documentation, docstring style. */
  public static String docs(String serverId, Tool tool) {
    JsonNode def = tool.definition();
    StringBuilder b = new StringBuilder();
    b.append(signature(tool).replaceFirst("  # .*$", "")).append('\n');
    b.append("    \"\"\"\n");
    String description = def.path("description").asText("").strip();
    if (!description.isEmpty()) {
      for (String line : description.split("\\R")) {
        b.append("    ").append(line.strip()).append('\n');
      }
      b.append('\n');
    }
    if (!tool.original().equals(tool.pythonName())) {
      b.append("    MCP tool name: ").append(tool.original()).append('\n').append('\n');
    }
    Params p = params(def.path("inputSchema"));
    if (!p.required().isEmpty() || !p.optional().isEmpty()) {
      b.append("    Args:\n");
      p.required().forEach((name, s) -> arg(b, name, s, true));
      p.optional().forEach((name, s) -> arg(b, name, s, false));
      b.append('\n');
    }
    b.append("    Returns:\n        dict: the tool's structured result, or its text parsed as JSON (else the text).\n\n");
    b.append("    Example:\n        result = ").append(serverId).append('.').append(tool.pythonName()).append('(');
    List<String> ex = new ArrayList<>();
    p.required().forEach((name, s) -> ex.add(identifier(name) + "=" + example(s)));
    b.append(String.join(", ", ex)).append(")\n");
    b.append("    \"\"\"\n");
    return b.toString();
  }

  private static void arg(StringBuilder b, String name, JsonNode s, boolean required) {
    b.append("        ").append(identifier(name)).append(" (").append(type(s)).append(", ")
        .append(required ? "required" : "optional").append(')');
    String d = s.path("description").asText("").strip().replaceAll("\\s+", " ");
    if (!d.isEmpty()) {
      b.append(": ").append(d);
    }
    if (s.has("default")) {
      b.append(" (default ").append(s.get("default")).append(')');
    }
    b.append('\n');
  }

  private static String example(JsonNode s) {
    if (s.has("enum") && s.get("enum").size() > 0) {
      return literal(s.get("enum").get(0));
    }
    return switch (s.path("type").asText("")) {
      case "string" -> "\"...\"";
      case "integer" -> "1";
      case "number" -> "1.0";
      case "boolean" -> "True";
      case "array" -> "[]";
      case "object" -> "{}";
      default -> "None";
    };
  }

  private record Params(Map<String, JsonNode> required, Map<String, JsonNode> optional) {}

  private static Params params(JsonNode schema) {
    Set<String> req = new TreeSet<>();
    schema.path("required").forEach(r -> req.add(r.asText()));
    Map<String, JsonNode> required = new TreeMap<>();
    Map<String, JsonNode> optional = new TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      (req.contains(e.getKey()) ? required : optional).put(e.getKey(), e.getValue());
    }
    return new Params(required, optional);
  }

  /** The Python type of a JSON Schema. */
  public static String type(JsonNode s) {
    if (s == null || !s.isObject()) {
      return "Any";
    }
    if (s.has("enum") && s.get("enum").isArray() && s.get("enum").size() > 0) {
      List<String> values = new ArrayList<>();
      s.get("enum").forEach(v -> values.add(literal(v)));
      return "Literal[" + String.join(", ", values) + "]";
    }
    if (s.has("const")) {
      return "Literal[" + literal(s.get("const")) + "]";
    }
    JsonNode t = s.get("type");
    if (t != null && t.isArray()) {
      List<String> types = new ArrayList<>();
      t.forEach(x -> types.add(simple(x.asText(), s)));
      return String.join(" | ", types);
    }
    if (t == null) {
      for (String k : List.of("anyOf", "oneOf")) {
        if (s.path(k).isArray() && s.get(k).size() > 0) {
          Set<String> types = new java.util.LinkedHashSet<>();
          s.get(k).forEach(x -> types.add(type(x)));
          return String.join(" | ", types);
        }
      }
      return "Any";
    }
    return simple(t.asText(), s);
  }

  private static String simple(String t, JsonNode s) {
    return switch (t) {
      case "string" -> "str";
      case "integer" -> "int";
      case "number" -> "float";
      case "boolean" -> "bool";
      case "null" -> "None";
      case "object" -> "dict";
      case "array" -> s.has("items") && s.get("items").isObject() ? "list[" + type(s.get("items")) + "]" : "list[Any]";
      default -> "Any";
    };
  }

  private static String literal(JsonNode v) {
    if (v.isTextual()) {
      return Json.write(v);
    }
    if (v.isBoolean()) {
      return v.asBoolean() ? "True" : "False";
    }
    if (v.isNull()) {
      return "None";
    }
    return v.toString();
  }

  /**
   * One line: the description's first sentence when it ends within {@value #SUMMARY_MAX}
   * characters, else its first 77 characters and {@code ...}.
   */
  public static String summary(String description) {
    String d = description.strip().replaceAll("\\s+", " ");
    if (d.isEmpty()) {
      return "";
    }
    int end = -1;
    for (int i = 0; i < d.length(); i++) {
      char c = d.charAt(i);
      if ((c == '.' || c == '!' || c == '?') && (i + 1 == d.length() || d.charAt(i + 1) == ' ')) {
        end = i + 1;
        break;
      }
    }
    if (end > 0 && end <= SUMMARY_MAX) {
      return d.substring(0, end);
    }
    if (d.length() <= SUMMARY_MAX) {
      return d;
    }
    return d.substring(0, SUMMARY_MAX - 3) + "...";
  }

  private static final Set<String> PYTHON_KEYWORDS = Set.of("and", "as", "assert", "break", "class", "continue",
      "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
      "lambda", "load", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
      "True", "False", "None");
}
