package io.bastion.bench.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recorded {@code tools/list} of real MCP servers: {@code resources/codemode/<file>.json}, each
 * {@code {package, version, recorded, tools}} as {@code benchmarks/tools/record-tools.mjs} wrote it,
 * listed in {@code resources/codemode/servers.txt} ({@code <bastion server name> <file>} per line,
 * in the order catalogs take them).
 */
public final class Fixtures {
  private Fixtures() {}

  /** One recorded server: the name Bastion gives it, its npm package and version, its tools as recorded. */
  public record Server(String name, String pkg, String version, String recorded, List<JsonNode> tools) {
    public List<String> toolNames() {
      return tools.stream().map(t -> t.path("name").asText()).toList();
    }
  }

  /** Every server of {@code servers.txt}, in its order. */
  public static Map<String, Server> all() {
    Map<String, Server> out = new LinkedHashMap<>();
    for (String line : resource("servers.txt").lines().toList()) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      String[] parts = l.split("\\s+");
      if (parts.length != 2) {
        throw new IllegalStateException("servers.txt: expected '<name> <file>', got: " + l);
      }
      out.put(parts[0], load(parts[0], parts[1]));
    }
    return out;
  }

  /** Reads and checks one fixture file: a package, a version, a date and at least one tool with a name and an object schema. */
  public static Server load(String name, String file) {
    JsonNode f;
    try {
      f = Json.MAPPER.readTree(resource(file));
    } catch (IOException e) {
      throw new UncheckedIOException("codemode/" + file, e);
    }
    String pkg = f.path("package").asText("");
    String version = f.path("version").asText("");
    if (pkg.isEmpty() || !version.matches("\\d+\\.\\d+\\.\\d+.*") || !f.path("tools").isArray()
        || f.path("tools").isEmpty()) {
      throw new IllegalStateException("codemode/" + file + ": needs package, version and a non-empty tools list");
    }
    List<JsonNode> tools = new ArrayList<>();
    for (JsonNode t : f.path("tools")) {
      if (!t.path("name").isTextual() || !"object".equals(t.path("inputSchema").path("type").asText())) {
        throw new IllegalStateException("codemode/" + file + ": a tool without a name or an object inputSchema: " + t);
      }
      tools.add(t);
    }
    return new Server(name, pkg, version, f.path("recorded").asText(""), List.copyOf(tools));
  }

  private static String resource(String file) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/codemode/" + file)) {
      if (in == null) {
        throw new IllegalStateException("no resource codemode/" + file);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
