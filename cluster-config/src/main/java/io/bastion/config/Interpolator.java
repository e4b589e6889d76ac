package io.bastion.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${VAR}} and {@code ${VAR:-default}} in every string value of a parsed YAML tree,
 * in place. {@code $${} is a literal {@code ${}. Map keys are never interpolated, and neither is
 * anything but string scalars, so a variable can never inject YAML structure.
 *
 * <p>As in POSIX shells, {@code :-} uses the default when the variable is unset <em>or empty</em>.
 * The default is literal text up to the first {@code }}; it is not itself interpolated.
 */
final class Interpolator {

  private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final Map<String, String> env;
  private final Diagnostics diagnostics;

  Interpolator(Map<String, String> env, Diagnostics diagnostics) {
    this.env = env;
    this.diagnostics = diagnostics;
  }

  /** Interpolates {@code root} in place. */
  void apply(JsonNode root) {
    walk(root, ConfigNode.ROOT);
  }

  private void walk(JsonNode node, String path) {
    if (node instanceof ObjectNode object) {
      List<String> keys = new ArrayList<>();
      object.fieldNames().forEachRemaining(keys::add);
      for (String key : keys) {
        String childPath = ConfigNode.childPath(path, key);
        JsonNode child = object.get(key);
        if (child.isTextual()) {
          interpolated(child.textValue(), childPath).ifPresentReplace(object, key);
        } else {
          walk(child, childPath);
        }
      }
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        String childPath = ConfigNode.indexPath(path, i);
        JsonNode child = array.get(i);
        if (child.isTextual()) {
          interpolated(child.textValue(), childPath).ifPresentReplace(array, i);
        } else {
          walk(child, childPath);
        }
      }
    }
  }

  /** The replacement for one string (marked unresolved if it failed), or {@link Result#UNCHANGED}. */
  private Result interpolated(String text, String path) {
    if (!text.contains("${")) {
      return Result.UNCHANGED;
    }
    String value = expand(text, path);
    TextNode replacement = TextNode.valueOf(value == null ? text : value);
    if (value == null) {
      diagnostics.markUnresolved(replacement);
    } else {
      diagnostics.markInterpolated(replacement);
    }
    return new Result(replacement);
  }

  /** Expands one string; returns null after reporting if something is wrong. */
  String expand(String text, String path) {
    StringBuilder out = new StringBuilder(text.length());
    boolean ok = true;
    int i = 0;
    while (i < text.length()) {
      if (text.startsWith("$${", i)) {
        out.append("${");
        i += 3;
        continue;
      }
      if (!text.startsWith("${", i)) {
        out.append(text.charAt(i));
        i++;
        continue;
      }
      int close = text.indexOf('}', i + 2);
      if (close < 0) {
        diagnostics.problem(path, "unterminated \"${\" (close it with \"}\", or write \"$${\" for a literal \"${\")");
        return null;
      }
      String body = text.substring(i + 2, close);
      int dash = body.indexOf(":-");
      String name = dash < 0 ? body : body.substring(0, dash);
      String fallback = dash < 0 ? null : body.substring(dash + 2);
      if (!VARIABLE_NAME.matcher(name).matches()) {
        diagnostics.problem(path, "invalid variable reference \"${" + body
            + "}\"; expected ${NAME} or ${NAME:-default} with NAME like [A-Za-z_][A-Za-z0-9_]*");
        ok = false;
      } else {
        String value = env.get(name);
        if (fallback != null && (value == null || value.isEmpty())) {
          value = fallback;
        }
        if (value == null) {
          diagnostics.problem(path, "environment variable " + name
              + " is not set (set it, or write ${" + name + ":-default} to give a default)");
          ok = false;
        } else {
          out.append(value);
        }
      }
      i = close + 1;
    }
    return ok ? out.toString() : null;
  }

  /** A replacement node, or none. */
  private record Result(TextNode replacement) {
    static final Result UNCHANGED = new Result(null);

    void ifPresentReplace(ObjectNode parent, String key) {
      if (replacement != null) {
        parent.set(key, replacement);
      }
    }

    void ifPresentReplace(ArrayNode parent, int index) {
      if (replacement != null) {
        parent.set(index, replacement);
      }
    }
  }
}
