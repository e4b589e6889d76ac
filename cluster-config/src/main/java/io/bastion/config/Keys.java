package io.bastion.config;

import java.util.List;

/**
 * The allowed keys of every map in the file, in the order error messages list them. The JSON
 * Schema test checks {@code bastion-config.schema.json} against these lists.
 */
final class Keys {

  static final List<String> ROOT = List.of(
      "gateway", "mcp", "virtual_keys", "teams", "customers", "tool_groups", "audit", "store", "admin", "cluster");
  static final List<String> MCP = List.of("servers", "code_mode");
  static final List<String> SERVER_COMMON = List.of("name", "type");
  static final List<String> SERVER_STDIO = List.of("command", "args", "env", "cwd");
  static final List<String> SERVER_REMOTE = List.of("url", "headers", "auth");
  static final List<String> SERVER_TUNING = List.of(
      "request_timeout", "health_interval", "ping_timeout", "backoff", "tool_prefix", "pricing", "code_mode", "failover");
  static final List<String> SERVER = concat(SERVER_COMMON, SERVER_STDIO, SERVER_REMOTE, SERVER_TUNING);
  static final List<String> UPSTREAM_OAUTH = List.of("type", "grant", "client_id", "client_secret", "scopes",
      "token_endpoint_auth", "authorization_server", "resource", "client_name", "per_key", "private_key",
      "signing_algorithm", "assertion_audience");
  static final List<String> CODE_MODE = List.of(
      "enabled", "sandbox", "mode", "auto_threshold", "servers", "binding", "limits", "keys", "tool_groups");
  static final List<String> CODE_MODE_LIMITS = List.of("wall_time", "max_steps", "max_output", "max_value_size",
      "max_allocation", "max_nested_calls", "max_code_size", "concurrency", "queue");
  static final List<String> BACKOFF = List.of("initial", "max");
  static final List<String> PRICING = List.of("default", "tools");
  static final List<String> GATEWAY = List.of(
      "host", "port", "max_request_bytes", "allowed_origins", "session_idle_timeout", "public_url", "oauth");
  static final List<String> OAUTH = List.of("issuer", "jwks_url", "resource", "audiences", "required_scopes",
      "clock_skew", "subject_claim", "mappings", "default_key");
  static final List<String> OAUTH_MAPPING = List.of("claim", "value", "key");
  static final List<String> STORE = List.of("type", "url", "user", "password", "data_dir", "limits_on_outage");
  static final List<String> VIRTUAL_KEY = List.of(
      "key_name", "key", "mcp_clients", "team", "tool_groups", "budget", "rate_limit");
  static final List<String> MCP_CLIENT = List.of("name", "allowed_tools");
  static final List<String> TEAM = List.of("name", "customer", "budget");
  static final List<String> CUSTOMER = List.of("name", "budget");
  static final List<String> BUDGET = List.of("max_usd", "reset");
  static final List<String> RATE_LIMIT = List.of("requests", "per", "tools");
  static final List<String> TOOL_RATE_LIMIT = List.of("requests", "per");
  static final List<String> TOOL_GROUP = List.of("name", "tools");
  static final List<String> TOOL_SELECTION = List.of("server", "tools");
  static final List<String> AUDIT = List.of(
      "arguments", "queue_size", "batch_size", "flush_interval", "redact_keys");
  static final List<String> ADMIN = List.of("token");
  static final List<String> CLUSTER = List.of("host", "port", "seed_nodes", "management");
  static final List<String> MANAGEMENT = List.of("host", "port", "enabled");

  private Keys() {}

  @SafeVarargs
  static List<String> concat(List<String>... lists) {
    return java.util.Arrays.stream(lists).flatMap(List::stream).toList();
  }
}
