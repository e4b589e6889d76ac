package io.bastion.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.bench.codemode.Episode;
import io.bastion.bench.codemode.Episodes;
import io.bastion.bench.codemode.Fixtures;
import io.bastion.bench.codemode.ReplayUpstream;
import io.bastion.bench.codemode.Tally;
import io.bastion.bench.codemode.Workspace;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.node.BastionNode;
import io.bastion.protocol.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Code Mode's graded benchmark (issue 12, item 5): scripted episodes against real upstreams
 * (server-everything, server-filesystem, server-memory and the project's conformance fixture,
 * over stdio) through a real Bastion node, with catalogs of 96, 251 and 508 real tools (the other
 * servers' recorded {@code tools/list}, served by {@link ReplayUpstream}), each episode played in
 * Code Mode and classically, both answers graded, tokens counted with jtokkit ({@link Tally}).
 *
 * <p>Run: {@code benchmarks/codemode.sh} (see benchmarks/README.md).
 */
public final class CodeModeBench {
  static final List<String> LIVE = List.of("everything", "filesystem", "memory", "fixture");
  static final List<String> FIXTURE_TOOLS = List.of("test_simple_text", "slow_echo", "json_schema_2020_12_tool",
      "test_error_handling");
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicLong ids = new AtomicLong();
  private URI mcp;

  private CodeModeBench() {}

  /** The tools of one catalog, per server: the live servers' all (the fixture's four), then recorded servers in order. */
  static Map<String, List<String>> catalog(int n, Map<String, Fixtures.Server> fixtures) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    int left = n;
    for (String live : LIVE) {
      List<String> tools = live.equals("fixture") ? FIXTURE_TOOLS : fixtures.get(live).toolNames();
      out.put(live, tools);
      left -= tools.size();
    }
    for (Fixtures.Server s : fixtures.values()) {
      if (left <= 0) {
        break;
      }
      if (LIVE.contains(s.name())) {
        continue;
      }
      List<String> tools = s.toolNames().subList(0, Math.min(left, s.tools().size()));
      out.put(s.name(), tools);
      left -= tools.size();
    }
    return out;
  }

  static int size(Map<String, List<String>> catalog) {
    return catalog.values().stream().mapToInt(List::size).sum();
  }

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(2);
    }
  }

  private static void run(String[] args) throws Exception {
    List<Integer> sizes = new ArrayList<>(List.of(40, 96, 251, 508));
    Path out = null;
    // The live servers and the fixture run from the node tests' npm folder (same pinned versions as the recordings).
    Path nodeModules = BenchmarkMain.repoRoot().resolve("node/src/test/node/node_modules");
    Path fixtureScript = BenchmarkMain.repoRoot().resolve("node/src/test/node/conformance-fixture.mjs");
    String node = System.getProperty("bench.node", "node");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--catalogs" -> sizes = java.util.Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
        case "--out" -> out = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--catalogs 40,96,251,508, --out FILE)");
      }
    }
    Map<String, Fixtures.Server> fixtures = Fixtures.all();
    Path work = Files.createTempDirectory("bastion-codemode-bench-");
    Workspace ws = new Workspace(work.resolve("ws")).create();
    Map<String, Fixtures.Server> recorded = new LinkedHashMap<>(fixtures);
    LIVE.forEach(recorded::remove);
    CodeModeBench bench = new CodeModeBench();
    List<Tally.CatalogResult> results = new ArrayList<>();
    try (ReplayUpstream replay = new ReplayUpstream(recorded)) {
      String yaml = yaml(sizes, fixtures, replay, ws, work, nodeModules, fixtureScript, node);
      Files.writeString(work.resolve("bench.yaml"), yaml);
      BastionConfig config = ConfigLoader.parse(yaml, work.resolve("bench.yaml"), Map.of());
      BastionNode.Running running = BenchmarkMain.startInProcess(config);
      try {
        bench.mcp = URI.create(running.mcpUrl());
        for (int n : sizes) {
          Map<String, List<String>> cat = catalog(n, fixtures);
          System.err.printf("catalog %d: %d tools from %d servers%n", n, size(cat), cat.size());
          results.add(bench.runCatalog(n, size(cat), cat, ws));
        }
      } finally {
        running.system().terminate();
        running.system().getWhenTerminated().toCompletableFuture().join();
      }
    }
    String header = String.format("Run: %s, commit %s, `benchmarks/codemode.sh`. Node in-process (H2), upstreams over stdio and"
        + " loopback HTTP. Tokens: jtokkit 1.1.0.%n", java.time.LocalDate.now(), System.getProperty("bench.commit", "unknown"));
    String md = Tally.markdown(results, fixtures, LIVE, header);
    if (out != null) {
      Files.createDirectories(out.toAbsolutePath().getParent());
      Files.writeString(out, md);
      System.err.println("wrote " + out);
    }
    System.out.print(md);
    boolean allPassed = results.stream().allMatch(Tally.CatalogResult::allPassed);
    System.exit(allPassed ? 0 : 1);
  }

  static String yaml(List<Integer> sizes, Map<String, Fixtures.Server> fixtures, ReplayUpstream replay, Workspace ws,
      Path work, Path nodeModules, Path fixtureScript, String node) {
    StringBuilder y = new StringBuilder("gateway: {host: 127.0.0.1, port: 0}\nstore: {type: h2, data_dir: \"")
        .append(work.resolve("data")).append("\"}\nmcp:\n  servers:\n");
    String mcpDir = nodeModules.resolve("@modelcontextprotocol").toString();
    y.append(server("everything", List.of(node, mcpDir + "/server-everything/dist/index.js", "stdio"), null));
    y.append(server("filesystem", List.of(node, mcpDir + "/server-filesystem/dist/index.js", ws.root().toString()), null));
    y.append(server("memory", List.of(node, mcpDir + "/server-memory/dist/index.js"),
        work.resolve("memory.jsonl").toString()));
    y.append(server("fixture", List.of(node, fixtureScript.toString(), "--stdio"), null));
    for (String name : fixtures.keySet()) {
      if (!LIVE.contains(name)) {
        y.append("    - {name: ").append(name).append(", type: http, url: \"").append(replay.url(name)).append("\"}\n");
      }
    }
    y.append("  code_mode:\n    enabled: true\n    sandbox: starlark\n    mode: on\n    keys:\n");
    for (int n : sizes) {
      y.append("      classic-").append(n).append(": off\n");
    }
    y.append("virtual_keys:\n");
    for (int n : sizes) {
      for (String mode : List.of("classic", "codemode")) {
        y.append("  - key_name: ").append(mode).append('-').append(n).append("\n    key: vk-").append(mode).append('-')
            .append(n).append("-0123456789\n    mcp_clients:\n");
        catalog(n, fixtures).forEach((server, tools) -> y.append("      - {name: ").append(server)
            .append(", allowed_tools: ").append(Json.write(Json.MAPPER.valueToTree(tools))).append("}\n"));
      }
    }
    return y.toString();
  }

  private static String server(String name, List<String> command, String memoryFile) {
    StringBuilder s = new StringBuilder("    - name: ").append(name).append("\n      type: stdio\n      command: ")
        .append(Json.write(Json.MAPPER.valueToTree(command))).append('\n');
    if (memoryFile != null) {
      s.append("      env: {MEMORY_FILE_PATH: \"").append(memoryFile).append("\"}\n");
    }
    return s.append("      request_timeout: 60s\n").toString();
  }

  static String key(String mode, int n) {
    return "vk-" + mode + "-" + n + "-0123456789";
  }

  private Tally.CatalogResult runCatalog(int n, int tools, Map<String, List<String>> cat, Workspace ws)
      throws Exception {
    String classicSession = Mcp.open(http, mcp, TIMEOUT, key("classic", n));
    String codeSession = Mcp.open(http, mcp, TIMEOUT, key("codemode", n));
    // Wait until every server of the catalog is listed (the stdio servers start with the node).
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    ArrayNode classicTools;
    while (true) {
      classicTools = listTools(classicSession, key("classic", n));
      if (classicTools.size() == tools || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(500);
    }
    if (classicTools.size() != tools) {
      throw new IllegalStateException("catalog " + n + ": classic tools/list has " + classicTools.size()
          + " tools, expected " + tools);
    }
    ArrayNode metaTools = listTools(codeSession, key("codemode", n));
    if (metaTools.size() != 4) {
      throw new IllegalStateException("catalog " + n + ": Code Mode tools/list has " + metaTools.size() + " tools");
    }
    Tally.CatalogResult result = new Tally.CatalogResult(n, tools, cat.size(), classicTools, metaTools);
    for (Episode e : Episodes.all(ws, "c" + n)) {
      result.classic().add(playClassic(e, classicSession, key("classic", n), result));
    }
    for (Episode e : Episodes.all(ws, "m" + n)) {
      result.codeMode().add(playCodeMode(e, codeSession, key("codemode", n), result));
    }
    return result;
  }

  private Tally.Play playClassic(Episode e, String session, String key, Tally.CatalogResult cat) {
    Tally.Play play = new Tally.Play(e, cat.classicDefinitions());
    try {
      JsonNode answer = e.classic().play(calls -> {
        List<JsonNode> values = new ArrayList<>();
        List<JsonNode> results = new ArrayList<>();
        for (Episode.Call c : calls) {
          JsonNode r = rpc(session, key, "tools/call", Json.object().put("name", c.tool()).set("arguments", c.arguments()));
          if (r.path("isError").asBoolean(false)) {
            throw new IllegalStateException(c.tool() + " failed: " + r);
          }
          results.add(r);
          values.add(Episode.value(r));
        }
        play.turn(calls.stream().map(c -> (JsonNode) Json.object().put("name", c.tool()).set("arguments", c.arguments()))
            .toList(), results);
        return values;
      });
      play.answer(answer);
    } catch (Exception ex) {
      play.failed(ex.toString());
    }
    return play;
  }

  private Tally.Play playCodeMode(Episode e, String session, String key, Tally.CatalogResult cat) {
    Tally.Play play = new Tally.Play(e, cat.metaDefinitions());
    try {
      meta(play, session, key, List.of(call("listToolFiles", Json.object())));
      List<ObjectNode> reads = new ArrayList<>();
      e.stubs().forEach(s -> reads.add(call("readToolFile", Json.object().put("fileName", "servers/" + s + ".pyi"))));
      meta(play, session, key, reads);
      if (!e.docs().isEmpty()) {
        List<ObjectNode> docs = new ArrayList<>();
        e.docs().forEach(d -> docs.add(call("getToolDocs", Json.object().put("server", d[0]).put("tool", d[1]))));
        meta(play, session, key, docs);
      }
      JsonNode run = meta(play, session, key, List.of(call("executeToolCode", Json.object().put("code", e.program()))))
          .get(0);
      if (run.path("isError").asBoolean(false)) {
        play.failed(run.path("content").path(0).path("text").asText());
      } else {
        JsonNode content = run.path("content");
        play.answer(Json.MAPPER.readTree(content.get(content.size() - 1).path("text").asText()));
      }
    } catch (Exception ex) {
      play.failed(ex.toString());
    }
    return play;
  }

  private static ObjectNode call(String tool, ObjectNode args) {
    ObjectNode c = Json.object().put("name", tool);
    c.set("arguments", args);
    return c;
  }

  private List<JsonNode> meta(Tally.Play play, String session, String key, List<ObjectNode> calls) throws Exception {
    List<JsonNode> results = new ArrayList<>();
    for (ObjectNode c : calls) {
      results.add(rpc(session, key, "tools/call", c));
    }
    play.turn(new ArrayList<>(calls), results);
    return results;
  }

  /** Every page of tools/list (Bastion pages it: a client follows nextCursor), as one list. */
  private ArrayNode listTools(String session, String key) throws IOException, InterruptedException {
    ArrayNode all = Json.NODES.arrayNode();
    String cursor = null;
    do {
      ObjectNode params = Json.object();
      if (cursor != null) {
        params.put("cursor", cursor);
      }
      JsonNode page = rpc(session, key, "tools/list", params);
      page.path("tools").forEach(all::add);
      cursor = page.path("nextCursor").isTextual() ? page.path("nextCursor").asText() : null;
    } while (cursor != null);
    return all;
  }

  /** One JSON-RPC request on the session; its result (an error answer throws). */
  JsonNode rpc(String session, String key, String method, ObjectNode params) throws IOException, InterruptedException {
    ObjectNode req = Json.object().put("jsonrpc", "2.0").put("id", ids.incrementAndGet()).put("method", method);
    req.set("params", params);
    var b = Mcp.auth(Mcp.post(mcp, Json.write(req), TIMEOUT), key).header("MCP-Protocol-Version", Mcp.PROTOCOL);
    if (session != null) {
      b.header("Mcp-Session-Id", session);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    String body = r.body();
    JsonNode answer = null;
    if (body.startsWith("{")) {
      answer = Json.MAPPER.readTree(body);
    } else {
      for (String line : body.split("\n")) {
        if (line.startsWith("data:")) {
          JsonNode m = Json.MAPPER.readTree(line.substring(5).strip());
          if (m.has("id") && (m.has("result") || m.has("error"))) {
            answer = m;
          }
        }
      }
    }
    if (answer == null || answer.has("error") || !answer.has("result")) {
      throw new IOException(method + " answered " + r.statusCode() + ": " + LoadDriver.abbreviate(body));
    }
    return answer.get("result");
  }
}
