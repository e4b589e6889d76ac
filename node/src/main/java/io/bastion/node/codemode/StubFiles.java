package io.bastion.node.codemode;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.CodeModeConfig;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.PythonStubs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What one caller sees through Code Mode: the tools it may call on Code-Mode servers, as Python
 * stub files ({@code servers/<server>.pyi}, or {@code servers/<server>/<tool>.pyi} with tool
 * binding), per-tool docs, and the Starlark bindings of the same tools. Built from the catalog
 * entries the access policy already let through, so a hidden tool appears nowhere.
 */
final class StubFiles {

  private record ServerTools(String server, String id, List<PythonStubs.Tool> tools, Map<String, String> exposed) {}

  private final Map<String, ServerTools> byId = new TreeMap<>();
  private final Map<String, String> files = new LinkedHashMap<>();

  StubFiles(List<FederatedCatalog.Entry> entries, CodeModeConfig.Binding binding) {
    Map<String, List<FederatedCatalog.Entry>> byServer = new TreeMap<>();
    entries.forEach(e -> byServer.computeIfAbsent(e.target().server(), s -> new ArrayList<>()).add(e));
    byServer.forEach((server, list) -> {
      List<com.fasterxml.jackson.databind.JsonNode> defs = new ArrayList<>();
      Map<String, String> exposed = new TreeMap<>();
      for (FederatedCatalog.Entry e : list) {
        ObjectNode d = e.definition().deepCopy();
        d.put("name", e.target().original());
        defs.add(d);
        exposed.put(e.target().original(), e.exposed());
      }
      String id = PythonStubs.identifier(server);
      ServerTools st = new ServerTools(server, id, PythonStubs.tools(defs), exposed);
      byId.put(id, st);
      if (binding == CodeModeConfig.Binding.SERVER) {
        files.put("servers/" + id + ".pyi", PythonStubs.serverFile(id, st.tools()));
      } else {
        st.tools().forEach(t -> files.put("servers/" + id + "/" + t.pythonName() + ".pyi", PythonStubs.toolFile(id, t)));
      }
    });
  }

  Map<String, String> files() {
    return files;
  }

  /** A file by its name, forgiving case, a missing {@code servers/} and a missing {@code .pyi}. */
  Optional<Map.Entry<String, String>> file(String name) {
    String n = name.strip().toLowerCase(Locale.ROOT);
    n = n.startsWith("/") ? n.substring(1) : n;
    n = n.startsWith("servers/") ? n.substring("servers/".length()) : n;
    n = n.endsWith(".pyi") ? n.substring(0, n.length() - 4) : n;
    String wanted = "servers/" + n + ".pyi";
    return files.entrySet().stream().filter(e -> e.getKey().toLowerCase(Locale.ROOT).equals(wanted)).findFirst();
  }

  /** One tool's docs, by server name or id and tool name or Python name. */
  Optional<String> docs(String server, String tool) {
    return find(server, tool).map(p -> PythonStubs.docs(p.id(), p.tool()));
  }

  private record Found(String id, PythonStubs.Tool tool) {}

  private Optional<Found> find(String server, String tool) {
    ServerTools st = byId.get(PythonStubs.identifier(server));
    if (st == null) {
      return Optional.empty();
    }
    return st.tools().stream().filter(t -> t.pythonName().equals(tool) || t.original().equals(tool)).findFirst()
        .map(t -> new Found(st.id(), t));
  }

  int toolCount() {
    return byId.values().stream().mapToInt(s -> s.tools().size()).sum();
  }

  /** The Starlark references of every tool here. */
  List<Bindings.ToolRef> refs() {
    List<Bindings.ToolRef> refs = new ArrayList<>();
    byId.values().forEach(st -> st.tools().forEach(t -> refs.add(new Bindings.ToolRef(st.server(), st.id(),
        t.pythonName(), t.original(), st.exposed().get(t.original())))));
    return refs;
  }
}
