package io.bastion.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Property-based fuzzing of the JSON-RPC framing (docs/fuzzing.md): whatever bytes or JSON arrive,
 * {@link JsonRpc#parseTree} and {@link JsonRpc#classify} either give a message or throw the
 * documented {@link JsonRpcException} (-32700 for bytes that are not JSON, -32600 for JSON that is
 * not a JSON-RPC message), never anything else; the error built from it is a well-formed JSON-RPC
 * error; and a valid id is never lost. Seeded, so a run is repeatable.
 */
class JsonRpcFuzzTest {

  static final Set<String> FIELDS = Set.of("jsonrpc", "id", "method", "params", "result", "error");

  // ------------------------------------------------------------------ properties

  @Property(tries = 1500, seed = "10501")
  void arbitraryBytesParseOrFailWithParseError(@ForAll byte[] bytes) {
    checkBytes(bytes);
  }

  @Property(tries = 1000, seed = "10502")
  void arbitraryTextParsesOrFailsWithParseError(@ForAll("jsonishText") String text) {
    checkBytes(text.getBytes(StandardCharsets.UTF_8));
  }

  @Property(tries = 1000, seed = "10503")
  void arbitraryJsonClassifiesOrFailsWithInvalidRequest(@ForAll("anyJson") JsonNode tree) {
    checkTree(tree);
    // The same tree through the bytes path: serialization and parsing agree with the tree path.
    checkBytes(Json.writeBytes(tree));
  }

  @Property(tries = 2000, seed = "10504")
  void jsonRpcShapedObjectsKeepTheirId(@ForAll("rpcShaped") ObjectNode message) {
    checkTree(message);
  }

  @Property(tries = 3000, seed = "10505")
  void mutatedValidMessagesParseOrFailCleanly(@ForAll("validMessage") ObjectNode valid, @ForAll long seed) {
    byte[] bytes = Json.writeBytes(valid);
    Random r = new Random(seed);
    checkBytes(mutateBytes(bytes, r));
    checkTree(mutateTree(valid.deepCopy(), r));
  }

  @Property(tries = 300, seed = "10506")
  void validMessagesClassifyWithTheirId(@ForAll("validMessage") ObjectNode valid) {
    JsonRpc.Message m = JsonRpc.classify(JsonRpc.parseTree(Json.writeBytes(valid)));
    JsonNode id = valid.get("id");
    if (m instanceof JsonRpc.Request r) {
      assertThat(JsonRpc.sameId(r.id(), id)).isTrue();
    } else if (m instanceof JsonRpc.Response resp) {
      assertThat(JsonRpc.sameId(resp.id(), id)).isTrue();
    } else {
      assertThat(id).isNull();
    }
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

  @Provide
  Arbitrary<JsonNode> anyJson() {
    return json(4);
  }

  static Arbitrary<JsonNode> json(int depth) {
    Arbitrary<JsonNode> leaf = Arbitraries.oneOf(
        Arbitraries.just(Json.NODES.nullNode()),
        Arbitraries.of(true, false).map(Json.NODES::booleanNode),
        Arbitraries.integers().map(Json.NODES::numberNode),
        Arbitraries.longs().map(Json.NODES::numberNode),
        Arbitraries.bigIntegers().between(BigInteger.TEN.pow(30).negate(), BigInteger.TEN.pow(30))
            .map(Json.NODES::numberNode),
        Arbitraries.doubles().map(Json.NODES::numberNode),
        Arbitraries.strings().ofMaxLength(12).map(Json.NODES::textNode),
        Arbitraries.of("2.0", "initialize", "tools/call", "tools/list", "ping", "").map(Json.NODES::textNode));
    if (depth == 0) {
      return leaf;
    }
    Arbitrary<JsonNode> inner = Arbitraries.lazy(() -> json(depth - 1));
    Arbitrary<String> keys = Arbitraries.oneOf(Arbitraries.of(List.copyOf(FIELDS)),
        Arbitraries.of("code", "message", "data", "name", "arguments", "_meta", "progressToken", "cursor"),
        Arbitraries.strings().ofMaxLength(6));
    Arbitrary<JsonNode> arrays = inner.list().ofMaxSize(4).map(JsonRpcFuzzTest::array);
    Arbitrary<JsonNode> objects = Arbitraries.maps(keys, inner).ofMaxSize(6).map(JsonRpcFuzzTest::object);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, leaf), net.jqwik.api.Tuple.of(2, arrays), net.jqwik.api.Tuple.of(4, objects));
  }

  /** Objects with JSON-RPC's fields, each present or not, with plausible or hostile values. */
  @Provide
  Arbitrary<ObjectNode> rpcShaped() {
    Arbitrary<JsonNode> any = json(2);
    Arbitrary<JsonNode> version = Arbitraries.oneOf(Arbitraries.of("2.0", "1.0", "2.0 ", "").map(Json.NODES::textNode),
        Arbitraries.just(Json.NODES.numberNode(2.0)), any);
    Arbitrary<JsonNode> id = Arbitraries.oneOf(Arbitraries.integers().map(Json.NODES::numberNode),
        Arbitraries.longs().map(Json.NODES::numberNode),
        Arbitraries.bigIntegers().between(BigInteger.TEN.pow(25).negate(), BigInteger.TEN.pow(25)).map(Json.NODES::numberNode),
        Arbitraries.strings().ofMaxLength(10).map(Json.NODES::textNode), any);
    Arbitrary<JsonNode> method = Arbitraries.oneOf(
        Arbitraries.of(Methods.INITIALIZE, "tools/call", "tools/list", "notifications/initialized", "ping",
            "resources/read", "prompts/get", "", "x").map(Json.NODES::textNode), any);
    Arbitrary<JsonNode> params = Arbitraries.oneOf(Arbitraries.just(Json.object()), any);
    Arbitrary<JsonNode> error = Arbitraries.oneOf(
        Arbitraries.integers().map(c -> (JsonNode) Json.object().put("code", c).put("message", "m")), any);
    List<Arbitrary<JsonNode>> values = List.of(version, id, method, params, any, error);
    List<String> names = List.of("jsonrpc", "id", "method", "params", "result", "error");
    return Arbitraries.integers().between(0, 63).flatMap(mask -> {
      List<Arbitrary<JsonNode>> chosen = new ArrayList<>();
      List<String> chosenNames = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        // jsonrpc and id present more often than not
        if ((mask & (1 << i)) != 0 || (i <= 1 && mask % 3 != 0)) {
          chosen.add(values.get(i));
          chosenNames.add(names.get(i));
        }
      }
      if (chosen.isEmpty()) {
        return Arbitraries.just(Json.object());
      }
      return net.jqwik.api.Combinators.combine(chosen).as(vs -> {
        ObjectNode o = Json.object();
        for (int i = 0; i < vs.size(); i++) {
          o.set(chosenNames.get(i), vs.get(i));
        }
        return o;
      });
    });
  }

  @Provide
  Arbitrary<ObjectNode> validMessage() {
    return Arbitraries.of(VALID).map(s -> (ObjectNode) JsonRpc.parseTree(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Provide
  Arbitrary<String> jsonishText() {
    return Arbitraries.strings().withChars("{}[]\":,.-+0123456789eEtrufalsn \\/u\t\n").ofMaxLength(60)
        .injectDuplicates(0.01);
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

  private static JsonNode array(List<JsonNode> items) {
    ArrayNode a = Json.NODES.arrayNode();
    items.forEach(a::add);
    return a;
  }

  private static JsonNode object(Map<String, JsonNode> fields) {
    ObjectNode o = Json.object();
    fields.forEach(o::set);
    return o;
  }
}
