package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;

/**
 * Property-based fuzzing of the config loader (docs/fuzzing.md): mutated valid files (text and
 * tree mutations) and random trees either load or fail with a {@link ConfigException} whose every
 * problem names a path; no other exception type ever escapes {@link ConfigLoader#parse}. Seeded plain
 * JUnit: each property draws its cases from a {@link SplittableRandom} seeded from {@link #SEED}; a
 * failure names the property, the seed and the case's own seed (from which
 * {@code new SplittableRandom(caseSeed)} regenerates the input) and prints the input. No shrinking.
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

  /** Property k draws its cases from {@code new SplittableRandom(SEED + k)}. */
  static final long SEED = 10520L;

  record Mutated(String yaml, long seed) {}

  @Test
  void mutatedValidYamlLoadsOrNamesAPath() {
    forAll("mutatedValidYaml", 1, 400, r -> new Mutated(example(r), r.nextLong()),
        c -> check(mutateText(c.yaml(), new Random(c.seed()))));
  }

  @Test
  void mutatedValidTreesLoadOrNameAPath() {
    forAll("mutatedValidTrees", 2, 400, r -> new Mutated(example(r), r.nextLong()), c -> {
      JsonNode tree = YAML.readTree(c.yaml());
      Random r = new Random(c.seed());
      int n = 1 + r.nextInt(3);
      for (int i = 0; i < n; i++) {
        tree = mutateTree(tree, r);
      }
      check(YAML.writeValueAsString(tree));
    });
  }

  @Test
  void randomTreesLoadOrNameAPath() {
    forAll("randomTrees", 3, 250, ConfigLoaderFuzzTest::configTree, tree -> check(YAML.writeValueAsString(tree)));
  }

  @Test
  void arbitraryTextLoadsOrNamesAPath() {
    forAll("yamlishText", 4, 400, ConfigLoaderFuzzTest::yamlishText, ConfigLoaderFuzzTest::check);
  }

  /**
   * Runs {@code check} on {@code tries} inputs; case i is generated from its own
   * {@code SplittableRandom(caseSeed)}, the case seeds coming from {@code SplittableRandom(SEED + property)}.
   */
  static <T> void forAll(String name, int property, int tries, Function<SplittableRandom, T> gen,
      ThrowingConsumer<T> check) {
    SplittableRandom cases = new SplittableRandom(SEED + property);
    for (int i = 0; i < tries; i++) {
      long caseSeed = cases.nextLong();
      T input = gen.apply(new SplittableRandom(caseSeed));
      try {
        check.accept(input);
      } catch (Throwable t) {
        throw new AssertionError(String.format("property %s failed at case %d of %d (SEED %d + %d, case seed %d)"
            + "; input: %s", name, i, tries, SEED, property, caseSeed,
            input instanceof String text ? NODES.textNode(text).toString() : input), t);
      }
    }
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

  static String example(SplittableRandom r) {
    return EXAMPLES.get(r.nextInt(EXAMPLES.size()));
  }

  static String yamlishText(SplittableRandom r) {
    String chars = "abcmpsv_:- \n\t{}[]\"'#&*!|>%@`,?0123456789.$";
    int n = r.nextInt(81);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(chars.charAt(r.nextInt(chars.length())));
    }
    return b.toString();
  }

  /** A root object of up to 6 of the loader's keys, with random trees of depth 3 as values. */
  static JsonNode configTree(SplittableRandom r) {
    ObjectNode o = NODES.objectNode();
    for (int i = r.nextInt(7); i > 0; i--) {
      o.set(KEYS.get(r.nextInt(KEYS.size())), tree(r, 3));
    }
    return o;
  }

  private static final List<String> LEAF_TEXTS = List.of("stdio", "http", "sse", "h2", "postgres", "1s", "0s",
      "-5m", "4MiB", "1d", "1M", "10x", "${X}", "${UNSET:-d}", "${", "http://localhost:1/mcp", "*", "",
      "127.0.0.1:25520");

  /** Random trees: leaves 3 : lists 1 : objects (of the loader's keys) 3, nested up to depth. */
  static JsonNode tree(SplittableRandom r, int depth) {
    int kind = depth == 0 ? 0 : r.nextInt(7);
    if (kind < 3) {
      return leaf(r);
    }
    if (kind < 4) {
      ArrayNode a = NODES.arrayNode();
      for (int i = r.nextInt(4); i > 0; i--) {
        a.add(tree(r, depth - 1));
      }
      return a;
    }
    ObjectNode o = NODES.objectNode();
    for (int i = r.nextInt(6); i > 0; i--) {
      o.set(KEYS.get(r.nextInt(KEYS.size())), tree(r, depth - 1));
    }
    return o;
  }

  private static JsonNode leaf(SplittableRandom r) {
    return switch (r.nextInt(8)) {
      case 0 -> NODES.nullNode();
      case 1 -> NODES.booleanNode(r.nextBoolean());
      case 2 -> NODES.numberNode(switch (r.nextInt(4)) {
        case 0 -> new int[] {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}[r.nextInt(5)];
        case 1 -> r.nextInt(-1000, 1001);
        default -> r.nextInt();
      });
      case 3 -> NODES.numberNode(r.nextInt(4) == 0
          ? new long[] {0, -1, Long.MAX_VALUE, Long.MIN_VALUE}[r.nextInt(4)] : r.nextLong());
      case 4 -> NODES.numberNode(switch (r.nextInt(4)) {
        case 0 -> new double[] {0.0, -0.0, Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE}[r.nextInt(5)];
        case 1 -> r.nextDouble(-1000, 1000);
        default -> (r.nextBoolean() ? 1 : -1) * r.nextDouble() * Math.pow(10, r.nextInt(-308, 309));
      });
      case 5 -> {
        BigInteger bound = BigInteger.TEN.pow(40);
        BigInteger v = r.nextInt(6) == 0 ? bound
            : new BigInteger(1 + r.nextInt(bound.bitLength()), new Random(r.nextLong())).mod(bound.add(BigInteger.ONE));
        yield NODES.numberNode(r.nextBoolean() ? v.negate() : v);
      }
      case 6 -> NODES.textNode(anyString(r, 10));
      default -> NODES.textNode(LEAF_TEXTS.get(r.nextInt(LEAF_TEXTS.size())));
    };
  }

  /** Any string up to maxLength: mostly ASCII, also controls, Latin-1, other BMP and supplementary characters. */
  static String anyString(SplittableRandom r, int maxLength) {
    int n = r.nextInt(8) == 0 ? 0 : r.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.appendCodePoint(switch (r.nextInt(10)) {
        case 0 -> r.nextInt(0x20);
        case 1 -> r.nextInt(0x80, 0x100);
        case 2 -> r.nextInt(0x100, 0xD800);
        case 3 -> r.nextInt(0xE000, 0xFFFE);
        case 4 -> r.nextInt(0x10000, 0x110000);
        default -> r.nextInt(0x20, 0x7F);
      });
    }
    return b.toString();
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

  private static String read(String resource) {
    try (InputStream in = ConfigLoaderFuzzTest.class.getClassLoader().getResourceAsStream(resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
