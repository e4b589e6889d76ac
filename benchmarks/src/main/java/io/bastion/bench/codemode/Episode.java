package io.bastion.bench.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.Json;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One scripted agent episode, played both ways against the same real upstreams through Bastion:
 * <ul>
 *   <li>Code Mode: the model lists the stub files, reads the stubs of {@code stubs} (and the docs of
 *       {@code docs}), sends {@code program} to {@code executeToolCode} and answers with its result;</li>
 *   <li>classic: the model calls the tools one turn at a time ({@link Classic}; the calls of one turn
 *       are independent, as parallel tool calls) and answers with what {@code classic} computes from
 *       the results.</li>
 * </ul>
 * Both answers are graded against {@code expected}, which is computed from the generated workspace
 * ({@link Workspace}), never from a server's answer.
 */
public record Episode(String id, String kind, String task, List<String> stubs, List<String[]> docs, String program,
    Classic classic, JsonNode expected) {

  /** A tool call the scripted model makes: the tool's name as Bastion lists it, and its arguments. */
  public record Call(String tool, ObjectNode arguments) {}

  /** The classic model's side of the loop: one {@link #turn} per model turn. */
  public interface Agent {
    /** Sends the calls of one model turn; answers each call's value (as Code Mode would see it), in order. */
    List<JsonNode> turn(List<Call> calls) throws Exception;

    default JsonNode one(String server, String tool, Object... keyValues) throws Exception {
      return turn(List.of(call(server, tool, keyValues))).get(0);
    }
  }

  /** The scripted classic play: calls tools through {@code agent}, returns the final answer. */
  public interface Classic {
    JsonNode play(Agent agent) throws Exception;
  }

  /** A call of {@code server}'s {@code tool} with arguments given as key, value, key, value... */
  public static Call call(String server, String tool, Object... keyValues) {
    ObjectNode args = Json.object();
    for (int i = 0; i < keyValues.length; i += 2) {
      args.set((String) keyValues[i], Json.MAPPER.valueToTree(keyValues[i + 1]));
    }
    return new Call(server + "__" + tool, args);
  }

  /** A value as Jackson sees it (strings, numbers, lists, maps). */
  public static JsonNode json(Object value) {
    return Json.MAPPER.valueToTree(value);
  }

  /**
   * A tools/call result as Code Mode hands it to a program: its structured content when it has
   * one, else its one text item parsed as JSON when it is JSON, else the text (several items: a list).
   */
  public static JsonNode value(JsonNode result) {
    if (result.path("structuredContent").isObject()) {
      return result.get("structuredContent");
    }
    List<JsonNode> items = new java.util.ArrayList<>();
    for (JsonNode c : result.path("content")) {
      if (c.path("type").asText().equals("text")) {
        String t = c.path("text").asText();
        try {
          JsonNode parsed = Json.MAPPER.readTree(t);
          items.add(parsed != null && (parsed.isObject() || parsed.isArray()) ? parsed : Json.NODES.textNode(t));
        } catch (Exception e) {
          items.add(Json.NODES.textNode(t));
        }
      } else {
        items.add(c);
      }
    }
    return items.size() == 1 ? items.get(0) : json(items);
  }

  /** Graded equality: the same JSON, numbers compared by value (5 equals 5.0). */
  public static boolean same(JsonNode expected, JsonNode actual) {
    if (expected == null || actual == null) {
      return expected == actual;
    }
    if (expected.isNumber() && actual.isNumber()) {
      return new BigDecimal(expected.asText()).compareTo(new BigDecimal(actual.asText())) == 0;
    }
    if (expected.isArray() && actual.isArray()) {
      if (expected.size() != actual.size()) {
        return false;
      }
      for (int i = 0; i < expected.size(); i++) {
        if (!same(expected.get(i), actual.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (expected.isObject() && actual.isObject()) {
      if (expected.size() != actual.size()) {
        return false;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!same(e.getValue(), actual.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return expected.equals(actual);
  }
}
