package io.bastion.node.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;

/**
 * Every way a request can fail in Bastion, by fault domain: the <b>client</b> sent something
 * wrong, a <b>policy</b> refused it, the <b>upstream</b> failed, or the <b>gateway</b> itself
 * could not complete it. Each fault is mapped here, once, to what every layer shows of it: the
 * HTTP status when the edge refuses the request outright, the JSON-RPC error code, whether a
 * failed {@code tools/call} is shown to the model as a tool error ({@code isError: true}) instead
 * of a JSON-RPC error, and the audit outcome and error type. The table in
 * {@code docs/gateway-core.md} is this enum; {@code FaultTest} keeps them equal.
 *
 * <p>A fault travels typed ({@link RequestStream.Final#fault()}) from where it happened to the
 * audit log: nothing parses it back out of the JSON. {@link #OTHER} is the loud catch-all: seeing
 * it in the audit log or the metrics is a bug to fix.
 */
public enum Fault {
  // client: the request is wrong; retrying it unchanged fails again
  CLIENT_PARSE_ERROR(Domain.CLIENT, 400, ErrorCodes.PARSE_ERROR, false, "error", "parse_error"),
  CLIENT_INVALID_REQUEST(Domain.CLIENT, 400, ErrorCodes.INVALID_REQUEST, false, "error", "invalid_request"),
  CLIENT_METHOD_NOT_FOUND(Domain.CLIENT, 200, ErrorCodes.METHOD_NOT_FOUND, false, "error", "method_not_found"),
  CLIENT_INVALID_PARAMS(Domain.CLIENT, 200, ErrorCodes.INVALID_PARAMS, false, "error", "invalid_params"),
  CLIENT_RESOURCE_NOT_FOUND(Domain.CLIENT, 200, ErrorCodes.RESOURCE_NOT_FOUND, false, "error", "resource_not_found"),
  CLIENT_SESSION_REQUIRED(Domain.CLIENT, 400, ErrorCodes.INVALID_REQUEST, false, "error", "session_required"),
  CLIENT_UNKNOWN_SESSION(Domain.CLIENT, 404, ErrorCodes.INVALID_REQUEST, false, "error", "unknown_session"),
  CLIENT_UNSUPPORTED_VERSION(Domain.CLIENT, 400, ErrorCodes.INVALID_REQUEST, false, "error", "unsupported_version"),
  CLIENT_NOT_ACCEPTABLE(Domain.CLIENT, 406, ErrorCodes.INVALID_REQUEST, false, "error", "not_acceptable"),
  CLIENT_UNSUPPORTED_MEDIA_TYPE(Domain.CLIENT, 415, ErrorCodes.INVALID_REQUEST, false, "error", "unsupported_media_type"),
  CLIENT_PAYLOAD_TOO_LARGE(Domain.CLIENT, 413, ErrorCodes.INVALID_REQUEST, false, "error", "payload_too_large"),
  CLIENT_FORBIDDEN_ORIGIN(Domain.CLIENT, 403, ErrorCodes.INVALID_REQUEST, false, "error", "forbidden_origin"),
  CLIENT_UNAUTHENTICATED(Domain.CLIENT, 401, ErrorCodes.INVALID_REQUEST, false, "error", "unauthenticated"),
  CLIENT_UNKNOWN_GROUP(Domain.CLIENT, 404, ErrorCodes.INVALID_REQUEST, false, "error", "unknown_group"),
  /** A virtual key and an OAuth access token in one request (RFC 6750 §3.1 invalid_request). */
  CLIENT_AMBIGUOUS_CREDENTIALS(Domain.CLIENT, 400, ErrorCodes.INVALID_REQUEST, false, "error", "ambiguous_credentials"),
  CLIENT_CANCELLED(Domain.CLIENT, 200, ErrorCodes.REQUEST_CANCELLED, false, "error", "cancelled"),
  /** The client went away before the answer (no answer is sent). */
  CLIENT_GONE(Domain.CLIENT, 200, ErrorCodes.REQUEST_CANCELLED, false, "error", "client_gone"),

  // policy: the request is well formed, the caller may not do it
  /** A tool the key may not see looks exactly like one that does not exist (-32602 "Unknown tool"). */
  POLICY_UNKNOWN_TOOL(Domain.POLICY, 200, ErrorCodes.INVALID_PARAMS, false, "denied", "unknown_tool"),
  POLICY_GROUP_FORBIDDEN(Domain.POLICY, 403, ErrorCodes.INVALID_REQUEST, false, "denied", "group_forbidden"),
  /** A valid OAuth access token lacks a scope {@code gateway.oauth.required_scopes} asks for (RFC 6750 §3.1). */
  POLICY_INSUFFICIENT_SCOPE(Domain.POLICY, 403, ErrorCodes.INVALID_REQUEST, false, "denied", "insufficient_scope"),
  /** A valid OAuth access token that no {@code gateway.oauth.mappings} rule maps to an existing virtual key. */
  POLICY_UNMAPPED_TOKEN(Domain.POLICY, 403, ErrorCodes.INVALID_REQUEST, false, "denied", "unmapped_token"),
  POLICY_RATE_LIMITED(Domain.POLICY, 200, ErrorCodes.RATE_LIMITED, false, "rate_limited", "rate_limited"),
  POLICY_OVER_BUDGET(Domain.POLICY, 200, ErrorCodes.BUDGET_EXCEEDED, false, "over_budget", "over_budget"),

  // upstream: the server behind Bastion failed or refused
  UPSTREAM_UNAVAILABLE(Domain.UPSTREAM, 200, ErrorCodes.UPSTREAM_UNAVAILABLE, true, "upstream_down", "upstream_unavailable"),
  UPSTREAM_TIMEOUT(Domain.UPSTREAM, 200, ErrorCodes.REQUEST_TIMEOUT, true, "timeout", "request_timeout"),
  /** The upstream answered with a JSON-RPC error; its code and message pass through unchanged. */
  UPSTREAM_ERROR(Domain.UPSTREAM, 200, ErrorCodes.INTERNAL_ERROR, false, "tool_error", "jsonrpc"),
  /** A forward reached an upstream entity whose node has no configuration for it. */
  UPSTREAM_NOT_CONFIGURED(Domain.UPSTREAM, 200, ErrorCodes.INVALID_PARAMS, false, "error", "unknown_upstream"),

  // gateway: Bastion itself could not complete the request
  GATEWAY_TIMEOUT(Domain.GATEWAY, 200, ErrorCodes.GATEWAY_ERROR, false, "timeout", "gateway_timeout"),
  GATEWAY_LIMITS_UNAVAILABLE(Domain.GATEWAY, 200, ErrorCodes.GATEWAY_ERROR, false, "error", "limits_unavailable"),
  GATEWAY_OWNER_UNAVAILABLE(Domain.GATEWAY, 503, ErrorCodes.GATEWAY_ERROR, false, "error", "owner_unavailable"),
  GATEWAY_OVERLOADED(Domain.GATEWAY, 200, ErrorCodes.GATEWAY_ERROR, false, "error", "gateway_overloaded"),
  GATEWAY_INTERNAL(Domain.GATEWAY, 500, ErrorCodes.INTERNAL_ERROR, false, "error", "internal"),
  /** The authorization server's signing keys (JWKS) could not be fetched, so a token cannot be checked. */
  GATEWAY_AUTH_UNAVAILABLE(Domain.GATEWAY, 503, ErrorCodes.GATEWAY_ERROR, false, "error", "auth_unavailable"),
  /** Uncategorized: alarm on it. */
  OTHER(Domain.GATEWAY, 500, ErrorCodes.INTERNAL_ERROR, false, "error", "other");

  /** Whose fault it is. */
  public enum Domain { CLIENT, POLICY, UPSTREAM, GATEWAY }

  private final Domain domain;
  private final int httpStatus;
  private final int code;
  private final boolean toolError;
  private final String auditOutcome;
  private final String errorType;

  Fault(Domain domain, int httpStatus, int code, boolean toolError, String auditOutcome, String errorType) {
    this.domain = domain;
    this.httpStatus = httpStatus;
    this.code = code;
    this.toolError = toolError;
    this.auditOutcome = auditOutcome;
    this.errorType = errorType;
  }

  public Domain domain() {
    return domain;
  }

  /**
   * The HTTP status when the edge refuses the whole request with this fault; 200 for faults
   * answered inside a JSON-RPC response.
   */
  public int httpStatus() {
    return httpStatus;
  }

  /** The JSON-RPC error code. */
  public int code() {
    return code;
  }

  /** A failed {@code tools/call} with this fault is answered as a tool error the model can read. */
  public boolean toolError() {
    return toolError;
  }

  /** The audit outcome ({@code bastion_audit.outcome}). */
  public String auditOutcome() {
    return auditOutcome;
  }

  /** The audit error type; {@link #UPSTREAM_ERROR} appends the upstream's code ({@code jsonrpc_-32603}). */
  public String errorType() {
    return errorType;
  }

  /**
   * The JSON-RPC message that answers request {@code id} of {@code method} with this fault: a
   * tool error result for a {@code tools/call} when {@link #toolError()}, else a JSON-RPC error.
   */
  public ObjectNode answer(JsonNode id, String method, String message, JsonNode data) {
    if (toolError && Methods.TOOLS_CALL.equals(method)) {
      ObjectNode r = JsonRpc.toolError(message);
      // The reason machines read; "timeout" predates the taxonomy and stays for compatibility.
      ObjectNode meta = r.putObject("_meta").putObject("io.bastion/error");
      if (data instanceof ObjectNode fields) {
        meta.setAll(fields); // e.g. a key's authorizationUrl (docs/oauth.md)
      }
      meta.put("reason", this == UPSTREAM_TIMEOUT ? "timeout" : errorType);
      return JsonRpc.result(id, r);
    }
    return JsonRpc.error(id, code, message, data);
  }

  /** The fault of a JSON-RPC error code raised while handling a client's request. */
  public static Fault ofClientCode(int code) {
    return switch (code) {
      case ErrorCodes.PARSE_ERROR -> CLIENT_PARSE_ERROR;
      case ErrorCodes.INVALID_REQUEST -> CLIENT_INVALID_REQUEST;
      case ErrorCodes.METHOD_NOT_FOUND -> CLIENT_METHOD_NOT_FOUND;
      case ErrorCodes.INVALID_PARAMS -> CLIENT_INVALID_PARAMS;
      case ErrorCodes.RESOURCE_NOT_FOUND -> CLIENT_RESOURCE_NOT_FOUND;
      case ErrorCodes.RATE_LIMITED -> POLICY_RATE_LIMITED;
      case ErrorCodes.BUDGET_EXCEEDED -> POLICY_OVER_BUDGET;
      case ErrorCodes.GATEWAY_ERROR -> GATEWAY_INTERNAL;
      default -> OTHER;
    };
  }

  /** How a final answer ended, for the audit log: {outcome, error type}. */
  public static String[] outcomeOf(ObjectNode answer, Fault fault) {
    if (fault == UPSTREAM_ERROR) {
      return new String[] {fault.auditOutcome, "jsonrpc_" + answer.path("error").path("code").asInt()};
    }
    if (fault != null) {
      return new String[] {fault.auditOutcome, fault.errorType};
    }
    if (answer.path("result").path("isError").asBoolean(false)) {
      return new String[] {"tool_error", "is_error"};
    }
    return new String[] {"ok", null};
  }
}
