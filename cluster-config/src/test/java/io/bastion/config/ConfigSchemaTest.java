package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every example config loads and matches the JSON Schema; the schema's keys match the loader's. */
class ConfigSchemaTest {

  private static final Path EXAMPLES = Path.of("src/test/resources/examples");

  static Stream<Path> examples() throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> listing = Files.list(EXAMPLES)) {
      listing.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(files::add);
    }
    assertThat(files).isNotEmpty();
    return files.stream();
  }

  private static String schemaText() throws IOException {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("/bastion-config.schema.json")) {
      assertThat(in).as("schema on the classpath").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @ParameterizedTest
  @MethodSource("examples")
  void exampleConfigLoads(Path file) throws IOException {
    BastionConfig config = ConfigLoader.parse(Files.readString(file), file, Yaml.ENV);

    assertThat(config.servers()).isNotEmpty();
  }

  @ParameterizedTest
  @MethodSource("examples")
  void exampleConfigMatchesTheSchema(Path file) throws IOException {
    Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schemaText());
    String json = new YAMLMapper().readTree(file.toFile()).toString();

    List<Error> errors = schema.validate(json, InputFormat.JSON);

    assertThat(errors).extracting(Error::toString).isEmpty();
  }

  @Test
  void schemaRejectsWhatTheLoaderRejects() throws IOException {
    Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schemaText());

    assertThat(schema.validate("{\"mcp\":{\"servers\":[{\"name\":\"a\",\"type\":\"stdio\",\"comand\":[\"x\"]}]}}",
        InputFormat.JSON)).isNotEmpty();
    assertThat(schema.validate("{\"mcp\":{\"servers\":[{\"name\":\"a\",\"type\":\"http\"}]}}",
        InputFormat.JSON)).isNotEmpty();
    assertThat(schema.validate("{\"virtual_keys\":[{\"key_name\":\"k\",\"key\":\"vk-123456\","
        + "\"budget\":{\"max_usd\":5,\"reset\":\"2w\"}}]}", InputFormat.JSON)).isNotEmpty();
  }

  @Test
  void schemaKeysMatchTheLoaderKeys() throws IOException {
    JsonNode root = new ObjectMapper().readTree(schemaText());
    JsonNode defs = root.get("$defs");
    JsonNode props = root.get("properties");

    assertKeys(root, Keys.ROOT);
    assertKeys(props.get("gateway"), Keys.GATEWAY);
    assertKeys(props.at("/gateway/properties/oauth"), Keys.OAUTH);
    assertKeys(props.at("/gateway/properties/oauth/properties/mappings/items"), Keys.OAUTH_MAPPING);
    assertKeys(props.get("mcp"), Keys.MCP);
    assertKeys(defs.get("server"), Keys.SERVER);
    assertKeys(props.at("/mcp/properties/code_mode"), Keys.CODE_MODE);
    assertKeys(props.at("/mcp/properties/code_mode/properties/limits"), Keys.CODE_MODE_LIMITS);
    assertKeys(defs.get("server").at("/properties/backoff"), Keys.BACKOFF);
    assertKeys(defs.get("server").at("/properties/pricing"), Keys.PRICING);
    assertKeys(defs.get("virtualKey"), Keys.VIRTUAL_KEY);
    assertKeys(defs.get("virtualKey").at("/properties/mcp_clients/items"), Keys.MCP_CLIENT);
    assertKeys(props.at("/teams/items"), Keys.TEAM);
    assertKeys(props.at("/customers/items"), Keys.CUSTOMER);
    assertKeys(props.at("/tool_groups/items"), Keys.TOOL_GROUP);
    assertKeys(props.at("/tool_groups/items/properties/tools/items"), Keys.TOOL_SELECTION);
    assertKeys(defs.get("budget"), Keys.BUDGET);
    assertKeys(defs.get("rateLimit"), Keys.RATE_LIMIT);
    assertKeys(defs.get("limit"), Keys.TOOL_RATE_LIMIT);
    assertKeys(props.get("audit"), Keys.AUDIT);
    assertKeys(defs.get("store"), Keys.STORE);
    assertKeys(props.get("admin"), Keys.ADMIN);
    assertKeys(props.get("cluster"), Keys.CLUSTER);
    assertKeys(props.at("/cluster/properties/management"), Keys.MANAGEMENT);
  }

  private static void assertKeys(JsonNode object, List<String> expected) {
    List<String> actual = new ArrayList<>();
    object.get("properties").fieldNames().forEachRemaining(actual::add);
    assertThat(object.get("additionalProperties").asBoolean(true)).as("closed object").isFalse();
    assertThat(actual).containsExactlyInAnyOrderElementsOf(expected);
  }
}
