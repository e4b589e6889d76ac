package io.bastion.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * JSON-RPC 2.0 framing for MCP: classifying incoming messages and building outgoing ones.
 *
 * <p>Messages stay Jackson trees end to end, so whatever an upstream returns (content blocks,
 * {@code structuredContent}, {@code _meta}, fields a later revision adds) reaches the client
 * byte-for-byte equivalent; Bastion only rewrites ids, progress tokens and names.
 */
public final class JsonRpc {
  public static final String VERSION = "2.0";

  private JsonRpc() {}

  /** What a single JSON-RPC message is. */
  public sealed interface Message permits Request, Notification, Response {
    ObjectNode raw();
  }

  /** A request: has a method and a non-null string or integer id. */
  public record Request(JsonNode id, String method, JsonNode params, ObjectNode raw) implements Message {
    /** {@code params} as an object (empty when absent). */
    public ObjectNode paramsObject() {
      return params instanceof ObjectNode o ? o : Json.object();
    }
  }

  /** A notification: has a method and no id. */
  public record Notification(String method, JsonNode params, ObjectNode raw) implements Message {
    public ObjectNode paramsObject() {
      return params instanceof ObjectNode o ? o : Json.object();
    }
  }

  /** A response: an id and exactly one of result / error. */
  public record Response(JsonNode id, JsonNode result, JsonNode error, ObjectNode raw) implements Message {
    public boolean isError() {
      return error != null;
    }
  }

  /**
   * Parses bytes into a tree. Throws {@link JsonRpcException} with {@link ErrorCodes#PARSE_ERROR} for
   * text that is not JSON.
   */
  public static JsonNode parseTree(byte[] bytes) {
    try {
      JsonNode node = Json.MAPPER.readTree(bytes);
      if (node == null || node.isMissingNode()) {
        throw new JsonRpcException(ErrorCodes.PARSE_ERROR, "Parse error: empty body");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new JsonRpcException(ErrorCodes.PARSE_ERROR, "Parse error: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new JsonRpcException(ErrorCodes.PARSE_ERROR, "Parse error: " + e.getMessage());
    }
  }

  /** Classifies one JSON-RPC message; throws {@link JsonRpcException} (-32600) when it is not one. */
  public static Message classify(JsonNode node) {
    if (!(node instanceof ObjectNode obj)) {
      throw new JsonRpcException(ErrorCodes.INVALID_REQUEST, "Invalid request: expected a JSON-RPC object");
    }
    JsonNode idNode = obj.get("id");
    JsonNode id = idNode == null ? null : idNode;
    JsonNode version = obj.get("jsonrpc");
    if (version == null || !VERSION.equals(version.asText(null)) || !version.isTextual()) {
      throw new JsonRpcException(ErrorCodes.INVALID_REQUEST, "Invalid request: \"jsonrpc\" must be \"2.0\"", null, validIdOrNull(id));
    }
    JsonNode method = obj.get("method");
    if (method != null) {
      if (!method.isTextual() || method.asText().isEmpty()) {
        throw new JsonRpcException(ErrorCodes.INVALID_REQUEST, "Invalid request: \"method\" must be a non-empty string", null, validIdOrNull(id));
      }
      JsonNode params = obj.get("params");
      if (params != null && !params.isObject() && !params.isNull()) {
        throw new JsonRpcException(ErrorCodes.INVALID_REQUEST, "Invalid request: \"params\" must be an object", null, validIdOrNull(id));
      }
      if (id == null) {
        return new Notification(method.asText(), params, obj);
      }
      requireValidId(id);
      return new Request(id, method.asText(), params, obj);
    }
    if (id == null) {
      throw new JsonRpcException(ErrorCodes.INVALID_REQUEST, "Invalid request: neither \"method\" nor \"id\" present");
    }
    JsonNode result = obj.get("result");
    JsonNode error = obj.get("error");
    if ((result == null) == (error == null)) {
      throw new JsonRpcException(ErrorCodes.INVALID_REQUEST, "Invalid response: exactly one of \"result\" and \"error\" is required", null, validIdOrNull(id));
    }
    if (error != null && (!error.isObject() || !error.path("code").isIntegralNumber())) {
      throw new JsonRpcException(ErrorCodes.INVALID_REQUEST, "Invalid response: \"error\" must be an object with an integer \"code\"", null, validIdOrNull(id));
    }
    requireValidId(id);
    return new Response(id, result, error, obj);
  }

  private static JsonNode validIdOrNull(JsonNode id) {
    return id != null && isValidId(id) ? id : null;
  }

  /** MCP: ids are strings or integers, never null. */
  public static boolean isValidId(JsonNode id) {
    return id.getNodeType() == JsonNodeType.STRING || id.isIntegralNumber();
  }

  /**
   * JSON-RPC ids compared by value: {@code 7} sent as a {@code LongNode} and echoed back, parsed as
   * an {@code IntNode}, are the same id, which {@code JsonNode.equals} denies. Null is no id.
   */
  public static boolean sameId(JsonNode a, JsonNode b) {
    if (a == null || b == null) {
      return false;
    }
    if (a.isIntegralNumber() && b.isIntegralNumber()) {
      return a.bigIntegerValue().equals(b.bigIntegerValue());
    }
    return a.equals(b);
  }

  private static void requireValidId(JsonNode id) {
    if (!isValidId(id)) {
      throw new JsonRpcException(ErrorCodes.INVALID_REQUEST, "Invalid request: \"id\" must be a string or an integer");
    }
  }

  public static ObjectNode request(JsonNode id, String method, JsonNode params) {
    ObjectNode o = Json.object().put("jsonrpc", VERSION);
    o.set("id", id);
    o.put("method", method);
    if (params != null) {
      o.set("params", params);
    }
    return o;
  }

  public static ObjectNode notification(String method, JsonNode params) {
    ObjectNode o = Json.object().put("jsonrpc", VERSION).put("method", method);
    if (params != null) {
      o.set("params", params);
    }
    return o;
  }

  public static ObjectNode result(JsonNode id, JsonNode result) {
    ObjectNode o = Json.object().put("jsonrpc", VERSION);
    o.set("id", id);
    o.set("result", result == null ? Json.object() : result);
    return o;
  }

  public static ObjectNode error(JsonNode id, int code, String message, JsonNode data) {
    ObjectNode o = Json.object().put("jsonrpc", VERSION);
    o.set("id", id == null ? Json.NODES.nullNode() : id);
    ObjectNode err = o.putObject("error").put("code", code).put("message", message);
    if (data != null) {
      err.set("data", data);
    }
    return o;
  }

  public static ObjectNode error(JsonNode id, JsonRpcException e) {
    return error(id != null ? id : e.id(), e.code(), e.getMessage(), e.data());
  }

  /** A {@code tools/call} result that reports a failure to the model ({@code isError: true}) rather than to the client. */
  public static ObjectNode toolError(String text) {
    ObjectNode r = Json.object();
    r.putArray("content").addObject().put("type", "text").put("text", text);
    r.put("isError", true);
    return r;
  }
}
