package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Property-based fuzzing of the config loader (docs/fuzzing.md): mutated valid files (text and
 * tree mutations) and random trees either load or fail with a {@link ConfigException} whose every
 * problem names a path; no other exception type ever escapes {@link ConfigLoader#parse}. Seeded.
 */
class ConfigLoaderFuzzTest {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final List<String> EXAMPLES = List.of(
      read("examples/full.yaml"), read("examples/seed.yaml"), read("examples/minimal.yaml"));

  /** Field names the loader knows, so random trees reach the readers rather than stop at the root. */
  private static final List<String> KEYS = List.of("gateway", "mcp", "servers", "virtual_keys", "teams",
      "customers", "tool_groups", "audit", "store", "admin", "cluster", "name", "type", "command", "args", "env",
      "url", "headers", "tool_prefix", "pricing", "default", "tools", "key_name", "key", "team", "customer",
      "budget", "max_usd", "reset", "rate_limit", "requests", "per", "mcp_clients", "allowed_tools", "host",
      "port", "max_request_bytes", "allowed_origins", "request_timeout", "backoff", "initial", "max",
      "seed_nodes", "management", "token", "path", "jdbc_url", "user", "password", "retention");

  @Property(tries = 400, seed = "10521")
  void mutatedValidYamlLoadsOrNamesAPath(@ForAll("example") String yaml, @ForAll long seed) {
    check(mutateText(yaml, new Random(seed)));
  }

  @Property(tries = 400, seed = "10522")
  void mutatedValidTreesLoadOrNameAPath(@ForAll("example") String yaml, @ForAll long seed) throws IOException {
    JsonNode tree = YAML.readTree(yaml);
    Random r = new Random(seed);
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) {
      tree = mutateTree(tree, r);
    }
    check(YAML.writeValueAsString(tree));
  }

  @Property(tries = 250, seed = "10523")
  void randomTreesLoadOrNameAPath(@ForAll("configTree") JsonNode tree) throws JsonProcessingException {
    check(YAML.writeValueAsString(tree));
  }

  @Property(tries = 400, seed = "10524")
  void arbitraryTextLoadsOrNamesAPath(@ForAll("yamlishText") String text) {
    check(text);
  }

  /** The loader's contract: a config, or a ConfigException whose problems each name a path. */
  static void check(String yaml) {
    BastionConfig config;
    try {
      config = ConfigLoader.parse(yaml, Yaml.FILE, Yaml.ENV);
    } catch (ConfigException e) {
      assertThat(e.problems()).isNotEmpty();
      for (ConfigProblem p : e.problems()) {
        assertThat(p.path()).as("path of %s", p).isNotBlank();
        assertThat(p.problem()).as("problem of %s", p).isNotBlank();
      }
      assertThat(e.getMessage()).contains(e.path());
      return;
    }
    assertThat(config).isNotNull();
    assertThat(config.servers()).isNotNull();
  }

  // ------------------------------------------------------------------ generators

  @Provide
  Arbitrary<String> example() {
    return Arbitraries.of(EXAMPLES);
  }

  @Provide
  Arbitrary<String> yamlishText() {
    return Arbitraries.strings().withChars("abcmpsv_:- \n\t{}[]\"'#&*!|>%@`,?0123456789.$").ofMaxLength(80);
  }

  @Provide
  Arbitrary<JsonNode> configTree() {
    return Arbitraries.maps(Arbitraries.of(KEYS), tree(3)).ofMaxSize(6).map(ConfigLoaderFuzzTest::object);
  }

  static Arbitrary<JsonNode> tree(int depth) {
    Arbitrary<JsonNode> leaf = Arbitraries.oneOf(
        Arbitraries.just(NODES.nullNode()),
        Arbitraries.of(true, false).map(NODES::booleanNode),
        Arbitraries.integers().map(NODES::numberNode),
        Arbitraries.longs().map(NODES::numberNode),
        Arbitraries.doubles().map(NODES::numberNode),
        Arbitraries.bigIntegers().between(BigInteger.TEN.pow(40).negate(), BigInteger.TEN.pow(40)).map(NODES::numberNode),
        Arbitraries.strings().ofMaxLength(10).map(NODES::textNode),
        Arbitraries.of("stdio", "http", "sse", "h2", "postgres", "1s", "0s", "-5m", "4MiB", "1d", "1M", "10x",
            "${X}", "${UNSET:-d}", "${", "http://localhost:1/mcp", "*", "", "127.0.0.1:25520").map(NODES::textNode));
    if (depth == 0) {
      return leaf;
    }
    Arbitrary<JsonNode> inner = Arbitraries.lazy(() -> tree(depth - 1));
    return Arbitraries.frequencyOf(
        Tuple.of(3, leaf),
        Tuple.of(1, inner.list().ofMaxSize(3).map(ConfigLoaderFuzzTest::array)),
        Tuple.of(3, Arbitraries.maps(Arbitraries.of(KEYS), inner).ofMaxSize(5).map(ConfigLoaderFuzzTest::object)));
  }

  // ------------------------------------------------------------------ mutations

  /** Text damage: lines dropped, duplicated or re-indented; characters changed, inserted or cut. */
  static String mutateText(String yaml, Random r) {
    List<String> lines = new ArrayList<>(Arrays.asList(yaml.split("\n", -1)));
    int n = 1 + r.nextInt(3);
    String specials = ":-{}[]\"'#&*!|>%@`,?$ \t";
    for (int k = 0; k < n && !lines.isEmpty(); k++) {
      int i = r.nextInt(lines.size());
      String line = lines.get(i);
      switch (r.nextInt(7)) {
        case 0 -> lines.remove(i);
        case 1 -> lines.add(i, line);
        case 2 -> lines.set(i, " ".repeat(r.nextInt(5)) + line.strip());
        case 3 -> lines.set(i, line.isEmpty() ? line : line.substring(0, r.nextInt(line.length())));
        case 4 -> {
          int at = line.isEmpty() ? 0 : r.nextInt(line.length());
          lines.set(i, line.substring(0, at) + specials.charAt(r.nextInt(specials.length())) + line.substring(at));
        }
        case 5 -> {
          int colon = line.indexOf(": ");
          if (colon > 0) {
            String[] values = {"", "null", "-1", "0", "99999999999999999999", "[]", "{}", "[1, {a: b}]", "~",
                "\"\"", "${NOPE}", "true", "1e400", "!!binary AAAA", "&a x", "*a"};
            lines.set(i, line.substring(0, colon + 2) + values[r.nextInt(values.length)]);
          }
        }
        default -> lines.add(i, lines.get(r.nextInt(lines.size())));
      }
    }
    return String.join("\n", lines);
  }

  /** Tree damage: some node replaced by a random value, removed, or wrapped in a list. */
  static JsonNode mutateTree(JsonNode root, Random r) {
    List<JsonNode> containers = new ArrayList<>();
    collect(root, containers);
    if (containers.isEmpty()) {
      return randomValue(r);
    }
    JsonNode target = containers.get(r.nextInt(containers.size()));
    if (target instanceof ObjectNode o && o.size() > 0) {
      List<String> names = new ArrayList<>();
      o.fieldNames().forEachRemaining(names::add);
      String name = names.get(r.nextInt(names.size()));
      switch (r.nextInt(4)) {
        case 0 -> o.remove(name);
        case 1 -> o.set(name, NODES.arrayNode().add(o.get(name)));
        case 2 -> o.set(KEYS.get(r.nextInt(KEYS.size())), randomValue(r));
        default -> o.set(name, randomValue(r));
      }
    } else if (target instanceof ArrayNode a && a.size() > 0) {
      int i = r.nextInt(a.size());
      if (r.nextBoolean()) {
        a.remove(i);
      } else {
        a.set(i, randomValue(r));
      }
    }
    return root;
  }

  private static JsonNode randomValue(Random r) {
    return switch (r.nextInt(9)) {
      case 0 -> NODES.nullNode();
      case 1 -> NODES.numberNode(r.nextInt());
      case 2 -> NODES.numberNode(-r.nextDouble() * 1e12);
      case 3 -> NODES.textNode(Long.toString(r.nextLong(), 36));
      case 4 -> NODES.arrayNode().add("x").addObject().put("name", "y");
      case 5 -> NODES.objectNode().put("name", "z").put("type", "stdio");
      case 6 -> NODES.booleanNode(r.nextBoolean());
      case 7 -> NODES.numberNode(new BigInteger(100, r));
      default -> NODES.textNode("");
    };
  }

  private static void collect(JsonNode n, List<JsonNode> out) {
    if (n.isContainerNode()) {
      out.add(n);
    }
    for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
      collect(it.next(), out);
    }
  }

  private static JsonNode array(List<JsonNode> items) {
    ArrayNode a = NODES.arrayNode();
    items.forEach(a::add);
    return a;
  }

  private static JsonNode object(Map<String, JsonNode> fields) {
    ObjectNode o = NODES.objectNode();
    fields.forEach(o::set);
    return o;
  }

  private static String read(String resource) {
    try (InputStream in = ConfigLoaderFuzzTest.class.getClassLoader().getResourceAsStream(resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
