package io.bastion.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A YAML node plus the dotted path that leads to it. Every read reports a problem at that path
 * (and returns {@code null} or an empty value) instead of throwing, so that one pass over the file
 * finds every problem.
 *
 * <p>An absent key and an explicit empty value ({@code key:}) both count as "not set".
 */
final class ConfigNode {

  static final String ROOT = "(root)";
  private static final Pattern SIMPLE_KEY = Pattern.compile("[A-Za-z0-9_-]+");

  private final JsonNode node;
  private final String path;
  private final Diagnostics diagnostics;

  ConfigNode(JsonNode node, String path, Diagnostics diagnostics) {
    this.node = node;
    this.path = path;
    this.diagnostics = diagnostics;
  }

  static String childPath(String parent, String key) {
    boolean root = ROOT.equals(parent);
    if (SIMPLE_KEY.matcher(key).matches()) {
      return root ? key : parent + "." + key;
    }
    String bracketed = "[\"" + key.replace("\"", "\\\"") + "\"]";
    return root ? bracketed : parent + bracketed;
  }

  static String indexPath(String parent, int index) {
    return parent + "[" + index + "]";
  }

  String path() {
    return path;
  }

  Diagnostics diagnostics() {
    return diagnostics;
  }

  boolean isSet() {
    return node != null && !node.isNull() && !node.isMissingNode();
  }

  /** Set, but its interpolation failed and was already reported: readers return null quietly. */
  private boolean unresolved() {
    return node != null && diagnostics.isUnresolved(node);
  }

  void error(String message) {
    diagnostics.problem(path, message);
  }

  void warn(String message) {
    diagnostics.warning(path, message);
  }

  /** The child under {@code key}; not set if this is not a map or has no such key. */
  ConfigNode get(String key) {
    JsonNode child = node != null && node.isObject() ? node.get(key) : null;
    return new ConfigNode(child, childPath(path, key), diagnostics);
  }

  boolean has(String key) {
    return get(key).isSet();
  }

  /**
   * Checks that this is a map whose keys are all in {@code allowed}; reports every other key.
   * Returns false (after reporting) if this is set but not a map.
   */
  boolean expectMap(List<String> allowed) {
    if (!isSet()) {
      return false;
    }
    if (!node.isObject()) {
      error("expected a map with keys " + String.join(", ", allowed) + "; got " + describe());
      return false;
    }
    node.fieldNames().forEachRemaining(key -> {
      if (!allowed.contains(key)) {
        get(key).error("unknown key; expected one of: " + String.join(", ", allowed));
      }
    });
    return true;
  }

  /** The entries of a map with free-form keys, in file order (empty if not set or not a map). */
  Map<String, ConfigNode> entries(String expected) {
    Map<String, ConfigNode> result = new LinkedHashMap<>();
    if (!isSet()) {
      return result;
    }
    if (!node.isObject()) {
      error("expected " + expected + ", got " + describe());
      return result;
    }
    node.fieldNames().forEachRemaining(key -> result.put(key, get(key)));
    return result;
  }

  /** The items of a list (empty if not set or not a list). */
  List<ConfigNode> items(String expected) {
    List<ConfigNode> result = new ArrayList<>();
    if (!isSet()) {
      return result;
    }
    if (!node.isArray()) {
      error("expected " + expected + ", got " + describe());
      return result;
    }
    for (int i = 0; i < node.size(); i++) {
      result.add(new ConfigNode(node.get(i), indexPath(path, i), diagnostics));
    }
    return result;
  }

  /** The items of a list without reporting anything (for second passes over checked nodes). */
  List<ConfigNode> elements() {
    List<ConfigNode> result = new ArrayList<>();
    if (node != null && node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        result.add(new ConfigNode(node.get(i), indexPath(path, i), diagnostics));
      }
    }
    return result;
  }

  /** The text if this is a resolved string, else null, without reporting anything. */
  String textOrNull() {
    return node != null && node.isTextual() && !unresolved() ? node.textValue() : null;
  }

  /** A string, or null (reported if set to something else). */
  String string() {
    if (!isSet() || unresolved()) {
      return null;
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    error("expected a string, got " + describe());
    return null;
  }

  /**
   * One of {@code values}, named by {@code yamlName}: {@code fallback} when unset; when set to
   * anything else, an error listing the allowed names, and null.
   */
  <E extends Enum<E>> E oneOf(E[] values, java.util.function.Function<E, String> yamlName, E fallback) {
    String text = string();
    if (text == null) {
      return isSet() ? null : fallback;
    }
    for (E v : values) {
      if (yamlName.apply(v).equals(text)) {
        return v;
      }
    }
    error("expected one of: " + java.util.Arrays.stream(values).map(yamlName)
        .collect(java.util.stream.Collectors.joining(", ")) + "; got " + quote(text));
    return null;
  }

  /** A string that must be set. */
  String requiredString() {
    if (!isSet()) {
      error("is required");
      return null;
    }
    return string();
  }

  /** Any scalar as text (for env and header maps, where {@code DEBUG: 1} is common). */
  String scalarAsText(String expected) {
    if (!isSet() || unresolved()) {
      return null;
    }
    if (node.isValueNode()) {
      return node.asText();
    }
    error("expected " + expected + ", got " + describe());
    return null;
  }

  /** A string matching {@code pattern}, or null; {@code rule} explains the pattern in the error. */
  String name(Pattern pattern, String rule, boolean required) {
    String value = required ? requiredString() : string();
    if (value != null && !pattern.matcher(value).matches()) {
      error("expected " + rule + ", got " + quote(value));
      return null;
    }
    return value;
  }

  /** A whole number in [min, max], or {@code fallback} if not set. */
  Long integer(long min, long max, Long fallback) {
    if (!isSet()) {
      return fallback;
    }
    if (unresolved()) {
      return null;
    }
    Long value = null;
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      value = node.longValue();
    } else if (node.isTextual() && diagnostics.isInterpolated(node)) {
      try {
        value = Long.parseLong(node.textValue().trim());
      } catch (NumberFormatException e) {
        value = null;
      }
    }
    if (value == null) {
      error("expected a whole number, got " + describe());
      return null;
    }
    if (value < min || value > max) {
      error("expected a whole number from " + min + " to " + max + ", got " + value);
      return null;
    }
    return value;
  }

  /** A finite number (integer or decimal), or {@code fallback} if not set. */
  Double number(Double fallback) {
    if (!isSet()) {
      return fallback;
    }
    if (unresolved()) {
      return null;
    }
    Double value = null;
    if (node.isNumber()) {
      value = node.doubleValue();
    } else if (node.isTextual() && diagnostics.isInterpolated(node)) {
      try {
        value = Double.parseDouble(node.textValue().trim());
      } catch (NumberFormatException e) {
        value = null;
      }
    }
    if (value == null) {
      error("expected a number, got " + describe());
      return null;
    }
    if (!Double.isFinite(value)) {
      error("expected a finite number, got " + node.asText());
      return null;
    }
    return value;
  }

  /** A boolean, or {@code fallback} if not set. */
  Boolean bool(Boolean fallback) {
    if (!isSet()) {
      return fallback;
    }
    if (unresolved()) {
      return null;
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isTextual() && diagnostics.isInterpolated(node)) {
      String text = node.textValue().trim();
      if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
        return Boolean.parseBoolean(text);
      }
    }
    error("expected true or false, got " + describe());
    return null;
  }

  boolean isText() {
    return node != null && node.isTextual();
  }

  boolean isList() {
    return node != null && node.isArray();
  }

  /** True if the raw node is a boolean (used where a key takes a string or {@code false}). */
  boolean isBoolean() {
    return node != null && node.isBoolean();
  }

  /** A list of non-empty strings (empty if not set; bad items reported and skipped). */
  List<String> stringList() {
    List<String> result = new ArrayList<>();
    if (!isSet()) {
      return result;
    }
    if (!node.isArray()) {
      error("expected a list of strings, got " + describe());
      return result;
    }
    for (ConfigNode item : items("a list of strings")) {
      if (item.unresolved()) {
        continue;
      } else if (!item.isSet() || !item.node.isTextual()) {
        item.error("expected a string, got " + item.describe());
      } else if (item.node.textValue().isBlank()) {
        item.error("must not be empty");
      } else {
        result.add(item.node.textValue());
      }
    }
    return result;
  }

  /** A map of string to string; numbers and booleans are taken as their text. */
  Map<String, String> stringMap() {
    Map<String, String> result = new LinkedHashMap<>();
    entries("a map of string to string").forEach((key, value) -> {
      String text = value.isSet() ? value.scalarAsText("a string") : "";
      if (text != null) {
        result.put(key, text);
      }
    });
    return result;
  }

  /** A positive duration, or {@code fallback} if not set. */
  Duration duration(Duration fallback) {
    if (!isSet()) {
      return fallback;
    }
    if (unresolved()) {
      return null;
    }
    if (node.isIntegralNumber() || node.isTextual()) {
      try {
        return Durations.parse(node.asText());
      } catch (IllegalArgumentException e) {
        error(e.getMessage());
        return null;
      }
    }
    error("expected " + Durations.EXPECTED + ", got " + describe());
    return null;
  }

  /** A human description of the node for "got ..." messages. */
  String describe() {
    if (node == null || node.isMissingNode() || node.isNull()) {
      return "nothing";
    }
    if (node.isTextual()) {
      return "the string " + quote(node.textValue());
    }
    if (node.isNumber()) {
      return "a number";
    }
    if (node.isBoolean()) {
      return "a boolean";
    }
    if (node.isArray()) {
      return "a list";
    }
    if (node.isObject()) {
      return "a map";
    }
    return "a " + node.getNodeType().name().toLowerCase();
  }

  static String quote(String value) {
    String shown = value.length() > 80 ? value.substring(0, 77) + "..." : value;
    return "\"" + shown.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }
}
