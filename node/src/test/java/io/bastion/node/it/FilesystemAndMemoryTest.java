package io.bastion.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.EverythingServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The real filesystem and memory reference servers (stdio) behind one node. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FilesystemAndMemoryTest {
  @TempDir
  static Path dir;
  private Path root;
  private BastionTestNode node;

  private static String server(String pkg) {
    Path script = EverythingServer.nodeModules().resolve("@modelcontextprotocol/" + pkg + "/dist/index.js");
    assertThat(script).as("npm ci in node/src/test/node").isRegularFile();
    return script.toString();
  }

  @BeforeAll
  void start() throws Exception {
    root = Files.createDirectories(dir.resolve("files")).toRealPath();
    Files.writeString(root.resolve("hello.txt"), "Hello from the Bastion filesystem test\nline two\n");
    Files.createDirectories(root.resolve("sub"));
    Path memoryFile = dir.resolve("memory.jsonl");
    ServerConfig fs = ServerConfig.stdio("filesystem",
        List.of(EverythingServer.nodeBinary(), server("server-filesystem"), root.toString()));
    ServerConfig memory = new ServerConfig("memory", TransportType.STDIO,
        List.of(EverythingServer.nodeBinary(), server("server-memory")),
        Map.of("MEMORY_FILE_PATH", memoryFile.toString()), null, null, Map.of(),
        null, null, null, null, null, null, null);
    node = BastionTestNode.start(List.of(fs, memory));
    node.awaitReady("filesystem");
    node.awaitReady("memory");
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void readsAFileAndListsTheDirectory() throws Exception {
    JsonNode read = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "filesystem__read_text_file",
        "--args", TsClient.json(Map.of("path", root.resolve("hello.txt").toString()))));
    assertThat(read.path("result").path("isError").asBoolean(false)).as("%s", read).isFalse();
    assertThat(TsClient.text(read.path("result"))).contains("Hello from the Bastion filesystem test");

    // A file written after startup is visible too.
    Files.writeString(root.resolve("later.md"), "# later");
    JsonNode list = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "filesystem__list_directory",
        "--args", TsClient.json(Map.of("path", root.toString()))));
    String listing = TsClient.text(list.path("result"));
    assertThat(listing).contains("[FILE] hello.txt").contains("[FILE] later.md").contains("[DIR] sub");

    // Outside the allowed root: the server refuses, as a tool error.
    JsonNode outside = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "filesystem__read_text_file",
        "--args", TsClient.json(Map.of("path", dir.resolve("memory.jsonl").toString()))));
    assertThat(outside.path("result").path("isError").asBoolean()).isTrue();
  }

  @Test
  void memoryGraphRoundTrip() {
    String entities = "{\"entities\":[{\"name\":\"Bastion\",\"entityType\":\"gateway\","
        + "\"observations\":[\"fronts MCP servers\"]},{\"name\":\"Pekko\",\"entityType\":\"toolkit\",\"observations\":[]}]}";
    JsonNode created = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "memory__create_entities",
        "--args", entities));
    assertThat(created.path("result").path("isError").asBoolean(false)).as("%s", created).isFalse();
    JsonNode rel = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "memory__create_relations",
        "--args", "{\"relations\":[{\"from\":\"Bastion\",\"to\":\"Pekko\",\"relationType\":\"runs on\"}]}"));
    assertThat(rel.path("result").path("isError").asBoolean(false)).isFalse();

    JsonNode graph = TsClient.ok(TsClient.run(node.mcpUrl(), "call", "--tool", "memory__read_graph"));
    String text = TsClient.text(graph.path("result"));
    JsonNode g = graph.path("result").path("structuredContent");
    List<String> names = new ArrayList<>();
    g.path("entities").forEach(e -> names.add(e.path("name").asText()));
    if (names.isEmpty()) {
      assertThat(text).contains("Bastion").contains("fronts MCP servers").contains("runs on");
    } else {
      assertThat(names).contains("Bastion", "Pekko");
      assertThat(g.path("relations").toString()).contains("runs on");
      assertThat(g.path("entities").toString()).contains("fronts MCP servers");
    }
  }
}
