package io.bastion.node.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.collect.ImmutableList;
import io.bastion.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.starlark.java.eval.EvalException;
import net.starlark.java.eval.Starlark;
import net.starlark.java.eval.StarlarkCallable;
import net.starlark.java.eval.StarlarkThread;
import net.starlark.java.eval.Structure;

/**
 * The Starlark face of the tools a run may call: one object per server ({@code everything}), one
 * function per tool ({@code everything.get_sum(a=1, b=2)}). A call goes to the run's {@link
 * Sandbox.ToolInvoker}; its result comes back as Starlark values (structured content when the
 * tool gives it, else its text parsed as JSON, else the text); a tool error raises a Starlark
 * error the program sees.
 */
public final class Bindings {

  private Bindings() {}

  /**
   * One callable tool.
   *
   * @param server the upstream server's name
   * @param serverId its Python identifier
   * @param pythonName the tool's Python identifier
   * @param original the upstream's own tool name
   * @param exposed the name clients use in tools/call ({@code prefix__tool})
   */
  public record ToolRef(String server, String serverId, String pythonName, String original, String exposed) {}

  /** The globals for these tools: one object per server id. */
  static Map<String, Object> of(List<ToolRef> tools) {
    Map<String, Map<String, ToolRef>> byServer = new TreeMap<>();
    for (ToolRef t : tools) {
      byServer.computeIfAbsent(t.serverId(), s -> new TreeMap<>()).put(t.pythonName(), t);
    }
    Map<String, Object> globals = new TreeMap<>();
    byServer.forEach((id, ts) -> globals.put(id, new Server(id, ts)));
    return globals;
  }

  /** A server's tools as attributes. */
  static final class Server implements Structure {
    private final String id;
    private final Map<String, ToolRef> tools;

    Server(String id, Map<String, ToolRef> tools) {
      this.id = id;
      this.tools = tools;
    }

    @Override
    public Object getValue(String name) {
      ToolRef t = tools.get(name);
      return t == null ? null : new Tool(t);
    }

    @Override
    public ImmutableList<String> getFieldNames() {
      return ImmutableList.copyOf(tools.keySet());
    }

    @Override
    public String getErrorMessageForUnknownField(String field) {
      return "unknown tool " + id + "." + field + " (listToolFiles and readToolFile show the tools you may call)";
    }

    @Override
    public void repr(net.starlark.java.eval.Printer p) {
      p.append("<server ").append(id).append(">");
    }
  }

  /** One tool as a function. */
  static final class Tool implements StarlarkCallable {
    private final ToolRef ref;

    Tool(ToolRef ref) {
      this.ref = ref;
    }

    @Override
    public String getName() {
      return ref.serverId() + "." + ref.pythonName();
    }

    @Override
    public Object fastcall(StarlarkThread thread, Object[] positional, Object[] named)
        throws EvalException, InterruptedException {
      Sandbox.Run run = thread.getThreadLocal(Sandbox.Run.class);
      run.countCall();
      ObjectNode args = Values.arguments(getName(), positional, named, run.limits().maxValueBytes());
      JsonNode result = run.invoker().call(ref, args);
      if (result.path("isError").asBoolean(false)) {
        throw Starlark.errorf("%s failed: %s", getName(), text(result));
      }
      return Values.toStarlark(value(result), thread.mutability());
    }
  }

  /** The value a tool result stands for: its structured content, else its content parsed. */
  static JsonNode value(JsonNode result) {
    JsonNode structured = result.get("structuredContent");
    if (structured != null && !structured.isNull()) {
      return structured;
    }
    List<JsonNode> items = new ArrayList<>();
    for (JsonNode c : result.path("content")) {
      items.add("text".equals(c.path("type").asText()) ? parsed(c.path("text").asText()) : c);
    }
    if (items.isEmpty()) {
      return Json.NODES.nullNode();
    }
    return items.size() == 1 ? items.get(0) : Json.NODES.arrayNode().addAll(items);
  }

  private static JsonNode parsed(String text) {
    String t = text.strip();
    if (!t.isEmpty() && (t.charAt(0) == '{' || t.charAt(0) == '[')) {
      try {
        return Json.MAPPER.readTree(t);
      } catch (Exception e) {
        // not JSON after all: the text itself
      }
    }
    return Json.NODES.textNode(text);
  }

  /** A tool error's text, for the program's error. */
  static String text(JsonNode result) {
    StringBuilder b = new StringBuilder();
    for (JsonNode c : result.path("content")) {
      if (c.has("text")) {
        b.append(b.length() == 0 ? "" : " ").append(c.get("text").asText());
      }
    }
    String s = b.length() == 0 ? "the tool reported an error" : b.toString();
    return s.length() > 2000 ? s.substring(0, 2000) + "..." : s;
  }
}
