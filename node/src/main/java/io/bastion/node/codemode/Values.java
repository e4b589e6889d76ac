package io.bastion.node.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import net.starlark.java.eval.Dict;
import net.starlark.java.eval.EvalException;
import net.starlark.java.eval.Mutability;
import net.starlark.java.eval.Sequence;
import net.starlark.java.eval.Starlark;
import net.starlark.java.eval.StarlarkFloat;
import net.starlark.java.eval.StarlarkInt;
import net.starlark.java.eval.StarlarkList;

/** JSON to Starlark values (tool arguments and results) and back (what a program returns). */
final class Values {

  private Values() {}

  private static final JsonNodeFactory F = Json.NODES;

  /** A JSON tree as Starlark values: dicts, lists, str, int, float, bool, None. */
  static Object toStarlark(JsonNode n, Mutability mu) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return Starlark.NONE;
    }
    if (n.isTextual()) {
      return n.textValue();
    }
    if (n.isBoolean()) {
      return n.booleanValue();
    }
    if (n.isIntegralNumber()) {
      return n.canConvertToLong() ? StarlarkInt.of(n.longValue()) : StarlarkInt.of(n.bigIntegerValue());
    }
    if (n.isNumber()) {
      return StarlarkFloat.of(n.doubleValue());
    }
    if (n.isArray()) {
      List<Object> items = new ArrayList<>(n.size());
      n.forEach(e -> items.add(toStarlark(e, mu)));
      return StarlarkList.copyOf(mu, items);
    }
    if (n.isObject()) {
      Dict<String, Object> d = Dict.of(mu);
      Iterator<Map.Entry<String, JsonNode>> it = n.fields();
      try {
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          d.putEntry(e.getKey(), toStarlark(e.getValue(), mu));
        }
      } catch (EvalException e) {
        throw new IllegalStateException(e);
      }
      return d;
    }
    return n.asText();
  }

  /**
   * A Starlark value as JSON, refusing values nested deeper than {@link Guards#MAX_DEPTH} or, with
   * their printed size, larger than {@code limit}. Dict keys become strings.
   */
  static JsonNode toJson(Object v, long limit) throws EvalException {
    Guards.checkPrinted("the value", v, limit);
    return convert(v, 0);
  }

  private static JsonNode convert(Object v, int depth) throws EvalException {
    if (depth > Guards.MAX_DEPTH) {
      throw new Guards.LimitExceeded("value nested more than " + Guards.MAX_DEPTH + " levels deep");
    }
    if (v instanceof String s) {
      return F.textNode(s);
    }
    if (v instanceof Boolean b) {
      return F.booleanNode(b);
    }
    if (v instanceof StarlarkInt i) {
      java.math.BigInteger b = i.toBigInteger();
      return b.bitLength() < 64 ? F.numberNode(b.longValue()) : F.numberNode(b);
    }
    if (v instanceof StarlarkFloat f) {
      double d = f.toDouble();
      return Double.isFinite(d) ? F.numberNode(d) : F.textNode(Double.toString(d));
    }
    if (Starlark.isNullOrNone(v)) {
      return F.nullNode();
    }
    if (v instanceof Sequence<?> q) {
      ArrayNode a = F.arrayNode(q.size());
      for (Object e : q) {
        a.add(convert(e, depth + 1));
      }
      return a;
    }
    if (v instanceof Dict<?, ?> d) {
      ObjectNode o = F.objectNode();
      for (Map.Entry<?, ?> e : d.entrySet()) {
        Object k = e.getKey();
        o.set(k instanceof String s ? s : Starlark.str(k), convert(e.getValue(), depth + 1));
      }
      return o;
    }
    return F.textNode(Starlark.str(v));
  }

  /** Keyword or single-dict arguments of a tool call as a JSON object. */
  static ObjectNode arguments(String tool, Object[] positional, Object[] named, long limit) throws EvalException {
    ObjectNode args = F.objectNode();
    if (positional.length > 1 || (positional.length == 1 && !(positional[0] instanceof Dict<?, ?>))) {
      throw Starlark.errorf("%s takes keyword arguments (name=value), or one dict of them", tool);
    }
    if (positional.length == 1) {
      JsonNode d = toJson(positional[0], limit);
      d.fields().forEachRemaining(e -> args.set(e.getKey(), e.getValue()));
    }
    for (int i = 0; i < named.length; i += 2) {
      Object value = named[i + 1];
      Guards.checkPrinted("argument " + named[i], value, limit);
      args.set((String) named[i], convert(value, 0));
    }
    return args;
  }
}
