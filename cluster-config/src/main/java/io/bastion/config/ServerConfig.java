package io.bastion.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One upstream MCP server from {@code mcp.servers[i]}.
 *
 * @param name unique, {@code ^[a-zA-Z0-9_-]{1,64}$}
 * @param type transport
 * @param command stdio only: program and arguments (non-empty for stdio, empty otherwise)
 * @param env stdio only: extra environment for the child (the child inherits Bastion's environment)
 * @param cwd stdio only: working directory, or null for Bastion's own
 * @param url http / sse only: the endpoint (null for stdio)
 * @param headers http / sse only: static headers sent on every request
 * @param requestTimeout per-request timeout (default 30 s)
 * @param healthInterval ping interval while ready (default 10 s)
 * @param pingTimeout how long a health ping may take (default 5 s)
 * @param backoffMin first reconnect delay (default 1 s)
 * @param backoffMax reconnect delay cap (default 30 s)
 * @param toolPrefix prefix of exposed names ({@code <prefix>__<tool>}); defaults to the server
 *     name; empty string means names are exposed bare
 * @param pricing USD per call (default {@link PricingConfig#ZERO})
 * @param oauth http / sse only: {@code auth: {type: oauth, ...}}, or null for none (static headers only)
 * @param failover what calls get while the node running this server is lost (null: {@link
 *     Failover#defaultFor})
 */
public record ServerConfig(
    String name,
    TransportType type,
    List<String> command,
    Map<String, String> env,
    String cwd,
    URI url,
    Map<String, String> headers,
    Duration requestTimeout,
    Duration healthInterval,
    Duration pingTimeout,
    Duration backoffMin,
    Duration backoffMax,
    String toolPrefix,
    PricingConfig pricing,
    OAuthConfig oauth,
    Failover failover) {

  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_HEALTH_INTERVAL = Duration.ofSeconds(10);
  public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_BACKOFF_MIN = Duration.ofSeconds(1);
  public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(30);

  public ServerConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    command = List.copyOf(command == null ? List.of() : command);
    env = Map.copyOf(env == null ? Map.of() : env);
    headers = Map.copyOf(headers == null ? Map.of() : headers);
    requestTimeout = requestTimeout == null ? DEFAULT_REQUEST_TIMEOUT : requestTimeout;
    healthInterval = healthInterval == null ? DEFAULT_HEALTH_INTERVAL : healthInterval;
    pingTimeout = pingTimeout == null ? DEFAULT_PING_TIMEOUT : pingTimeout;
    backoffMin = backoffMin == null ? DEFAULT_BACKOFF_MIN : backoffMin;
    backoffMax = backoffMax == null ? DEFAULT_BACKOFF_MAX : backoffMax;
    toolPrefix = toolPrefix == null ? name : toolPrefix;
    pricing = pricing == null ? PricingConfig.ZERO : pricing;
    failover = failover == null ? Failover.defaultFor(type, oauth) : failover;
  }

  /** The constructor from before {@code failover} existed: the default failover. */
  public ServerConfig(String name, TransportType type, List<String> command, Map<String, String> env,
      String cwd, URI url, Map<String, String> headers, Duration requestTimeout,
      Duration healthInterval, Duration pingTimeout, Duration backoffMin, Duration backoffMax,
      String toolPrefix, PricingConfig pricing, OAuthConfig oauth) {
    this(name, type, command, env, cwd, url, headers, requestTimeout, healthInterval, pingTimeout,
        backoffMin, backoffMax, toolPrefix, pricing, oauth, null);
  }

  /** The constructor from before {@code auth} existed: no OAuth. */
  public ServerConfig(String name, TransportType type, List<String> command, Map<String, String> env,
      String cwd, URI url, Map<String, String> headers, Duration requestTimeout,
      Duration healthInterval, Duration pingTimeout, Duration backoffMin, Duration backoffMax,
      String toolPrefix, PricingConfig pricing) {
    this(name, type, command, env, cwd, url, headers, requestTimeout, healthInterval, pingTimeout,
        backoffMin, backoffMax, toolPrefix, pricing, null, null);
  }

  /** The constructor from before {@code pricing} existed; pricing defaults to zero. */
  public ServerConfig(String name, TransportType type, List<String> command, Map<String, String> env,
      String cwd, URI url, Map<String, String> headers, Duration requestTimeout,
      Duration healthInterval, Duration pingTimeout, Duration backoffMin, Duration backoffMax,
      String toolPrefix) {
    this(name, type, command, env, cwd, url, headers, requestTimeout, healthInterval, pingTimeout,
        backoffMin, backoffMax, toolPrefix, null, null, null);
  }

  /** A stdio server with defaults, for tests and examples. */
  public static ServerConfig stdio(String name, List<String> command) {
    return new ServerConfig(name, TransportType.STDIO, command, Map.of(), null, null, Map.of(),
        null, null, null, null, null, null, null);
  }

  /** A streamable HTTP or legacy SSE server with defaults, for tests and examples. */
  public static ServerConfig remote(String name, TransportType type, URI url) {
    return new ServerConfig(name, type, List.of(), Map.of(), null, url, Map.of(),
        null, null, null, null, null, null, null);
  }

  /** The same server under another name (the tool prefix stays: it is set by now). */
  public ServerConfig withName(String newName) {
    return new ServerConfig(newName, type, command, env, cwd, url, headers, requestTimeout,
        healthInterval, pingTimeout, backoffMin, backoffMax, toolPrefix, pricing, oauth, failover);
  }

  public ServerConfig withToolPrefix(String prefix) {
    return new ServerConfig(name, type, command, env, cwd, url, headers, requestTimeout,
        healthInterval, pingTimeout, backoffMin, backoffMax, prefix, pricing, oauth, failover);
  }

  public ServerConfig withTimings(Duration requestTimeout, Duration healthInterval,
      Duration pingTimeout, Duration backoffMin, Duration backoffMax) {
    return new ServerConfig(name, type, command, env, cwd, url, headers, requestTimeout,
        healthInterval, pingTimeout, backoffMin, backoffMax, toolPrefix, pricing, oauth, failover);
  }

  public ServerConfig withPricing(PricingConfig pricing) {
    return new ServerConfig(name, type, command, env, cwd, url, headers, requestTimeout,
        healthInterval, pingTimeout, backoffMin, backoffMax, toolPrefix, pricing, oauth, failover);
  }

  /** The same server as an OAuth client of its upstream ({@code auth: {type: oauth}}). */
  public ServerConfig withOAuth(OAuthConfig oauth) {
    return new ServerConfig(name, type, command, env, cwd, url, headers, requestTimeout,
        healthInterval, pingTimeout, backoffMin, backoffMax, toolPrefix, pricing, oauth,
        oauth == null ? failover : Failover.HOLD);
  }

  /** The same server with another {@link Failover}. */
  public ServerConfig withFailover(Failover failover) {
    return new ServerConfig(name, type, command, env, cwd, url, headers, requestTimeout,
        healthInterval, pingTimeout, backoffMin, backoffMax, toolPrefix, pricing, oauth, failover);
  }

  /**
   * Env and header values are secrets more often than not: only their names are shown; the URL
   * without its userinfo and query values ({@link Urls#redact(URI)}).
   */
  @Override
  public String toString() {
    return "ServerConfig[name=" + name + ", type=" + type.yamlName() + ", command=" + command
        + ", env=" + env.keySet() + ", cwd=" + cwd + ", url=" + Urls.redact(url) + ", headers=" + headers.keySet()
        + ", requestTimeout=" + requestTimeout + ", healthInterval=" + healthInterval
        + ", pingTimeout=" + pingTimeout + ", backoffMin=" + backoffMin + ", backoffMax=" + backoffMax
        + ", toolPrefix=" + toolPrefix + ", pricing=" + pricing + ", failover=" + failover.yamlName() + (oauth == null ? "" : ", auth=" + oauth) + "]";
  }
}
