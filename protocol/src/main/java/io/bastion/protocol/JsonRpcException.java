package io.bastion.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/** A request that must be answered with a JSON-RPC error: carries the code, message, optional data and the id when known. */
public final class JsonRpcException extends RuntimeException {
  private final int code;
  private final transient JsonNode data;
  private final transient JsonNode id;

  public JsonRpcException(int code, String message) {
    this(code, message, null, null);
  }

  public JsonRpcException(int code, String message, JsonNode data, JsonNode id) {
    super(message, null, false, false);
    this.code = code;
    this.data = data;
    this.id = id;
  }

  public int code() {
    return code;
  }

  public JsonNode data() {
    return data;
  }

  /** The id of the offending request, or null when it could not be read (the error then carries {@code "id": null}). */
  public JsonNode id() {
    return id;
  }

  public JsonRpcException withId(JsonNode newId) {
    return new JsonRpcException(code, getMessage(), data, newId);
  }

  public static JsonRpcException invalidParams(String message) {
    return new JsonRpcException(ErrorCodes.INVALID_PARAMS, message);
  }

  public static JsonRpcException methodNotFound(String method) {
    return new JsonRpcException(ErrorCodes.METHOD_NOT_FOUND, "Method not found: " + method);
  }
}
