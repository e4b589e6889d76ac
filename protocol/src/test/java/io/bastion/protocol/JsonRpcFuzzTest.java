package io.bastion.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;

/**
 * Property-based fuzzing of the JSON-RPC framing (docs/fuzzing.md): whatever bytes or JSON arrive,
 * {@link JsonRpc#parseTree} and {@link JsonRpc#classify} either give a message or throw the
 * documented {@link JsonRpcException} (-32700 for bytes that are not JSON, -32600 for JSON that is
 * not a JSON-RPC message), never anything else; the error built from it is a well-formed JSON-RPC
 * error; and a valid id is never lost. Seeded plain JUnit: each property draws its cases from a
 * {@link SplittableRandom} seeded from {@link #SEED}; a failure names the property, the seed and the
 * case's own seed (from which {@code new SplittableRandom(caseSeed)} regenerates the input) and
 * prints the input. No shrinking.
 */
class JsonRpcFuzzTest {

  static final Set<String> FIELDS = Set.of("jsonrpc", "id", "method", "params", "result", "error");

  // ------------------------------------------------------------------ properties

  /** Property k draws its cases from {@code new SplittableRandom(SEED + k)}. */
  static final long SEED = 10500L;

  @Test
  void arbitraryBytesParseOrFailWithParseError() {
    forAll("arbitraryBytes", 1, 1500, JsonRpcFuzzTest::anyBytes, JsonRpcFuzzTest::checkBytes);
  }

  @Test
  void arbitraryTextParsesOrFailsWithParseError() {
    forAll("jsonishText", 2, 1000, JsonRpcFuzzTest::jsonishText,
        text -> checkBytes(text.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void arbitraryJsonClassifiesOrFailsWithInvalidRequest() {
    forAll("anyJson", 3, 1000, r -> json(r, 4), tree -> {
      checkTree(tree);
      // The same tree through the bytes path: serialization and parsing agree with the tree path.
      checkBytes(Json.writeBytes(tree));
    });
  }

  @Test
  void jsonRpcShapedObjectsKeepTheirId() {
    forAll("rpcShaped", 4, 2000, JsonRpcFuzzTest::rpcShaped, JsonRpcFuzzTest::checkTree);
  }

  record Mutated(ObjectNode valid, long seed) {}

  @Test
  void mutatedValidMessagesParseOrFailCleanly() {
    forAll("mutatedValid", 5, 3000, r -> new Mutated(validMessage(r), anyLong(r)), c -> {
      byte[] bytes = Json.writeBytes(c.valid());
      Random r = new Random(c.seed());
      checkBytes(mutateBytes(bytes, r));
      checkTree(mutateTree(c.valid().deepCopy(), r));
    });
  }

  @Test
  void validMessagesClassifyWithTheirId() {
    forAll("validMessage", 6, 300, JsonRpcFuzzTest::validMessage, valid -> {
      JsonRpc.Message m = JsonRpc.classify(JsonRpc.parseTree(Json.writeBytes(valid)));
      JsonNode id = valid.get("id");
      if (m instanceof JsonRpc.Request r) {
        assertThat(JsonRpc.sameId(r.id(), id)).isTrue();
      } else if (m instanceof JsonRpc.Response resp) {
        assertThat(JsonRpc.sameId(resp.id(), id)).isTrue();
      } else {
        assertThat(id).isNull();
      }
    });
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
            + "; input: %s", name, i, tries, SEED, property, caseSeed, describe(input)), t);
      }
    }
  }

  private static String describe(Object input) {
    if (input instanceof byte[] b) {
      return "byte[" + b.length + "] base64 " + Base64.getEncoder().encodeToString(b);
    }
    if (input instanceof String s) {
      return Json.NODES.textNode(s).toString();
    }
    return String.valueOf(input);
  }

  // ------------------------------------------------------------------ invariants

  /** Bytes: a tree or -32700; then the tree's invariants. */
  static void checkBytes(byte[] bytes) {
    JsonNode tree;
    try {
      tree = JsonRpc.parseTree(bytes);
    } catch (JsonRpcException e) {
      assertThat(e.code()).isEqualTo(ErrorCodes.PARSE_ERROR);
      assertThat(e.id()).isNull();
      assertWellFormedError(JsonRpc.error(null, e), null);
      return;
    }
    assertThat(tree).isNotNull();
    assertThat(tree.isMissingNode()).isFalse();
    checkTree(tree);
  }

  /** A tree: a message that matches it, or -32600 carrying the message's id when that id is valid. */
  static void checkTree(JsonNode tree) {
    JsonNode id = tree instanceof ObjectNode o ? o.get("id") : null;
    JsonNode validId = id != null && JsonRpc.isValidId(id) ? id : null;
    JsonRpc.Message m;
    try {
      m = JsonRpc.classify(tree);
    } catch (JsonRpcException e) {
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      if (validId != null) {
        assertThat(JsonRpc.sameId(e.id(), validId)).as("id of %s kept in the error", tree).isTrue();
      } else {
        assertThat(e.id()).isNull();
      }
      assertWellFormedError(JsonRpc.error(null, e), validId);
      return;
    }
    assertThat(m.raw()).isSameAs(tree);
    if (m instanceof JsonRpc.Request r) {
      assertThat(validId).isNotNull();
      assertThat(JsonRpc.sameId(r.id(), validId)).isTrue();
      assertThat(r.method()).isNotEmpty().isEqualTo(tree.get("method").textValue());
      assertThat(r.paramsObject()).isNotNull();
      assertWellFormedError(JsonRpc.error(r.id(), JsonRpcException.methodNotFound(r.method())), validId);
    } else if (m instanceof JsonRpc.Notification n) {
      assertThat(id).isNull();
      assertThat(n.method()).isNotEmpty();
      assertThat(n.paramsObject()).isNotNull();
    } else {
      JsonRpc.Response resp = (JsonRpc.Response) m;
      assertThat(validId).isNotNull();
      assertThat(JsonRpc.sameId(resp.id(), validId)).isTrue();
      assertThat(resp.result() == null).isNotEqualTo(resp.error() == null);
    }
  }

  /** A JSON-RPC error response: version, the id (or null), an integer code and a string message; survives a round trip. */
  static void assertWellFormedError(ObjectNode error, JsonNode expectedId) {
    ObjectNode back = (ObjectNode) JsonRpc.parseTree(Json.writeBytes(error));
    assertThat(back.path("jsonrpc").textValue()).isEqualTo("2.0");
    assertThat(back.has("id")).isTrue();
    if (expectedId == null) {
      assertThat(back.get("id").isNull()).isTrue();
    } else {
      assertThat(JsonRpc.sameId(back.get("id"), expectedId)).isTrue();
    }
    assertThat(back.path("error").path("code").isIntegralNumber()).isTrue();
    assertThat(back.path("error").path("message").isTextual()).isTrue();
    assertThat(back.has("result")).isFalse();
  }

  // ------------------------------------------------------------------ generators

  /** Edge cases now and then, else small or full-range values. */
  static int anyInt(SplittableRandom r) {
    return switch (r.nextInt(8)) {
      case 0 -> new int[] {0, 1, -1, 2, -2, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 1}[r.nextInt(8)];
      case 1, 2, 3 -> r.nextInt(-1000, 1001);
      default -> r.nextInt();
    };
  }

  static long anyLong(SplittableRandom r) {
    return switch (r.nextInt(8)) {
      case 0 -> new long[] {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 53, (1L << 53) + 1, -(1L << 53)}[r.nextInt(8)];
      case 1, 2 -> r.nextLong(-1000, 1001);
      default -> r.nextLong();
    };
  }

  static double anyDouble(SplittableRandom r) {
    return switch (r.nextInt(6)) {
      case 0 -> new double[] {0.0, -0.0, 1.0, -1.0, Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, 0.1}[r.nextInt(8)];
      case 1, 2 -> r.nextDouble(-1000, 1000);
      default -> (r.nextBoolean() ? 1 : -1) * r.nextDouble() * Math.pow(10, r.nextInt(-308, 309));
    };
  }

  /** Uniform-ish in [-bound, bound], with small values and the bounds now and then. */
  static BigInteger bigInteger(SplittableRandom r, BigInteger bound) {
    BigInteger v = switch (r.nextInt(6)) {
      case 0 -> r.nextBoolean() ? bound : BigInteger.ZERO;
      case 1 -> BigInteger.valueOf(r.nextLong());
      default -> new BigInteger(1 + r.nextInt(bound.bitLength()), new Random(r.nextLong())).mod(bound.add(BigInteger.ONE));
    };
    return r.nextBoolean() ? v.negate() : v;
  }

  /** Any string up to maxLength: mostly ASCII, also controls, Latin-1, other BMP and supplementary characters. */
  static String anyString(SplittableRandom r, int maxLength) {
    int n = r.nextInt(8) == 0 ? 0 : r.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int cp = switch (r.nextInt(10)) {
        case 0 -> r.nextInt(0x20);
        case 1 -> r.nextInt(0x80, 0x100);
        case 2 -> r.nextInt(0x100, 0xD800);
        case 3 -> r.nextInt(0xE000, 0xFFFE);
        case 4 -> r.nextInt(0x10000, 0x110000);
        default -> r.nextInt(0x20, 0x7F);
      };
      b.appendCodePoint(cp);
    }
    return b.toString();
  }

  static String charsFrom(SplittableRandom r, String chars, int maxLength) {
    int n = r.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(chars.charAt(r.nextInt(chars.length())));
    }
    return b.toString();
  }

  static <T> T pick(SplittableRandom r, List<T> from) {
    return from.get(r.nextInt(from.size()));
  }

  static byte[] anyBytes(SplittableRandom r) {
    int n = switch (r.nextInt(8)) {
      case 0 -> 0;
      case 1 -> r.nextInt(1, 4);
      default -> r.nextInt(256);
    };
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) r.nextInt(256);
    }
    return b;
  }

  static JsonNode leaf(SplittableRandom r) {
    return switch (r.nextInt(8)) {
      case 0 -> Json.NODES.nullNode();
      case 1 -> Json.NODES.booleanNode(r.nextBoolean());
      case 2 -> Json.NODES.numberNode(anyInt(r));
      case 3 -> Json.NODES.numberNode(anyLong(r));
      case 4 -> Json.NODES.numberNode(bigInteger(r, BigInteger.TEN.pow(30)));
      case 5 -> Json.NODES.numberNode(anyDouble(r));
      case 6 -> Json.NODES.textNode(anyString(r, 12));
      default -> Json.NODES.textNode(pick(r, List.of("2.0", "initialize", "tools/call", "tools/list", "ping", "")));
    };
  }

  static final List<String> FIELD_LIST = List.copyOf(FIELDS);
  static final List<String> OTHER_KEYS =
      List.of("code", "message", "data", "name", "arguments", "_meta", "progressToken", "cursor");

  /** Random JSON: leaves 4 : arrays 2 : objects 4, nested up to depth, keys biased to JSON-RPC's names. */
  static JsonNode json(SplittableRandom r, int depth) {
    int kind = depth == 0 ? 0 : r.nextInt(10);
    if (kind < 4) {
      return leaf(r);
    }
    if (kind < 6) {
      ArrayNode a = Json.NODES.arrayNode();
      for (int i = r.nextInt(5); i > 0; i--) {
        a.add(json(r, depth - 1));
      }
      return a;
    }
    ObjectNode o = Json.object();
    for (int i = r.nextInt(7); i > 0; i--) {
      String key = switch (r.nextInt(3)) {
        case 0 -> pick(r, FIELD_LIST);
        case 1 -> pick(r, OTHER_KEYS);
        default -> anyString(r, 6);
      };
      o.set(key, json(r, depth - 1));
    }
    return o;
  }

  /** Objects with JSON-RPC's fields, each present or not, with plausible or hostile values. */
  static ObjectNode rpcShaped(SplittableRandom r) {
    int mask = r.nextInt(64);
    List<String> names = List.of("jsonrpc", "id", "method", "params", "result", "error");
    ObjectNode o = Json.object();
    for (int i = 0; i < names.size(); i++) {
      // jsonrpc and id present more often than not
      if ((mask & (1 << i)) != 0 || (i <= 1 && mask % 3 != 0)) {
        o.set(names.get(i), rpcValue(r, i));
      }
    }
    return o;
  }

  private static JsonNode rpcValue(SplittableRandom r, int field) {
    return switch (field) {
      case 0 -> switch (r.nextInt(3)) {
        case 0 -> Json.NODES.textNode(pick(r, List.of("2.0", "1.0", "2.0 ", "")));
        case 1 -> Json.NODES.numberNode(2.0);
        default -> json(r, 2);
      };
      case 1 -> switch (r.nextInt(5)) {
        case 0 -> Json.NODES.numberNode(anyInt(r));
        case 1 -> Json.NODES.numberNode(anyLong(r));
        case 2 -> Json.NODES.numberNode(bigInteger(r, BigInteger.TEN.pow(25)));
        case 3 -> Json.NODES.textNode(anyString(r, 10));
        default -> json(r, 2);
      };
      case 2 -> r.nextBoolean()
          ? Json.NODES.textNode(pick(r, List.of(Methods.INITIALIZE, "tools/call", "tools/list",
              "notifications/initialized", "ping", "resources/read", "prompts/get", "", "x")))
          : json(r, 2);
      case 3 -> r.nextBoolean() ? Json.object() : json(r, 2);
      case 4 -> json(r, 2);
      default -> r.nextBoolean() ? Json.object().put("code", anyInt(r)).put("message", "m") : json(r, 2);
    };
  }

  static ObjectNode validMessage(SplittableRandom r) {
    return (ObjectNode) JsonRpc.parseTree(pick(r, VALID).getBytes(StandardCharsets.UTF_8));
  }

  static String jsonishText(SplittableRandom r) {
    return charsFrom(r, "{}[]\":,.-+0123456789eEtrufalsn \\/u\t\n", 60);
  }

  static final List<String> VALID = List.of(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
          + "\"capabilities\":{},\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}",
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":\"abc-7\",\"method\":\"tools/list\",\"params\":{\"cursor\":\"eyJ4IjoxfQ\"}}",
      "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/call\",\"params\":{\"name\":\"everything__echo\","
          + "\"arguments\":{\"message\":\"hi\"},\"_meta\":{\"progressToken\":5}}}",
      "{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}}",
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,\"message\":\"Method not found\",\"data\":[1,2]}}",
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":4,\"reason\":\"x\"}}",
      "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");

  // ------------------------------------------------------------------ mutations

  /** Byte-level damage: flips, deletions, insertions of JSON punctuation, truncation, duplication. */
  static byte[] mutateBytes(byte[] in, Random r) {
    List<Byte> b = new ArrayList<>();
    for (byte x : in) {
      b.add(x);
    }
    byte[] punct = "{}[]\":,\\ \u00000-9e".getBytes(StandardCharsets.UTF_8);
    int n = 1 + r.nextInt(4);
    for (int k = 0; k < n && !b.isEmpty(); k++) {
      int at = r.nextInt(b.size());
      switch (r.nextInt(6)) {
        case 0 -> b.set(at, (byte) r.nextInt(256));
        case 1 -> b.remove(at);
        case 2 -> b.add(at, punct[r.nextInt(punct.length)]);
        case 3 -> b.subList(at, b.size()).clear();
        case 4 -> b.addAll(at, List.copyOf(b.subList(at, Math.min(b.size(), at + 1 + r.nextInt(16)))));
        default -> b.set(at, (byte) (b.get(at) ^ (1 << r.nextInt(8))));
      }
    }
    byte[] out = new byte[b.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.get(i);
    }
    return out;
  }

  /** Tree-level damage: a field removed, retyped or added, somewhere in the message. */
  static JsonNode mutateTree(ObjectNode root, Random r) {
    List<ObjectNode> objects = new ArrayList<>();
    collect(root, objects);
    ObjectNode target = objects.get(r.nextInt(objects.size()));
    List<String> names = new ArrayList<>();
    target.fieldNames().forEachRemaining(names::add);
    JsonNode replacement = switch (r.nextInt(9)) {
      case 0 -> Json.NODES.nullNode();
      case 1 -> Json.NODES.numberNode(r.nextInt());
      case 2 -> Json.NODES.numberNode(r.nextDouble());
      case 3 -> Json.NODES.textNode(Long.toString(r.nextLong(), 36));
      case 4 -> Json.NODES.arrayNode().add(1).addObject();
      case 5 -> Json.object();
      case 6 -> Json.NODES.booleanNode(r.nextBoolean());
      case 7 -> Json.NODES.numberNode(new BigInteger(200, r));
      default -> Json.NODES.textNode("");
    };
    int action = r.nextInt(3);
    if (action == 0 && !names.isEmpty()) {
      target.remove(names.get(r.nextInt(names.size())));
    } else if (action == 1 && !names.isEmpty()) {
      target.set(names.get(r.nextInt(names.size())), replacement);
    } else {
      List<String> all = new ArrayList<>(FIELDS);
      target.set(r.nextBoolean() ? all.get(r.nextInt(all.size())) : "x" + r.nextInt(9), replacement);
    }
    return r.nextInt(10) == 0 ? Json.NODES.arrayNode().add(root) : root;
  }

  private static void collect(JsonNode n, List<ObjectNode> out) {
    if (n instanceof ObjectNode o) {
      out.add(o);
    }
    for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
      collect(it.next(), out);
    }
  }
}
