package io.bastion.protocol;

/**
 * JSON-RPC and MCP error codes, plus Bastion's own in the implementation-defined range.
 *
 * <p>Bastion's codes sit in -32010…-32019: -32000…-32009 are used informally by SDKs (-32001
 * request timeout, -32002 resource not found) and the 2026-07-28 revision reserves -32020…-32099.
 */
public final class ErrorCodes {
  public static final int PARSE_ERROR = -32700;
  public static final int INVALID_REQUEST = -32600;
  public static final int METHOD_NOT_FOUND = -32601;
  public static final int INVALID_PARAMS = -32602;
  public static final int INTERNAL_ERROR = -32603;

  /** The MCP SDKs' request timeout. */
  public static final int REQUEST_TIMEOUT = -32001;
  /** MCP: resource not found (2025-11-25). */
  public static final int RESOURCE_NOT_FOUND = -32002;

  /** The client cancelled the request (LSP's code; MCP defines none). */
  public static final int REQUEST_CANCELLED = -32800;

  /** The upstream that owns the target is not connected (connecting, backing off or failed). */
  public static final int UPSTREAM_UNAVAILABLE = -32010;
  /** The caller's rate limit refused the call. */
  public static final int RATE_LIMITED = -32011;
  /** A budget on the caller's key, team or customer refused the call. */
  public static final int BUDGET_EXCEEDED = -32012;
  /** The gateway could not complete the request (entity unreachable, internal failure). */
  public static final int GATEWAY_ERROR = -32013;

  private ErrorCodes() {}
}
