package io.bastion.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * {@code gateway:}: the client-facing HTTP endpoint.
 *
 * @param host bind address (default 127.0.0.1)
 * @param port bind port, 0 for an ephemeral one (default 8080)
 * @param maxRequestBytes largest accepted request body (default 4 MiB, at least 1 KiB)
 * @param allowedOrigins browser origins allowed to call {@code /mcp}; empty means loopback origins
 *     only; {@code "*"} means any
 * @param sessionIdleTimeout an MCP session unused this long is closed (default 30m)
 * @param publicUrl the URL clients reach the gateway at (behind a proxy), or null
 * @param oauth {@code oauth}: OAuth access tokens accepted beside virtual keys, or null (keys only)
 */
public record GatewayConfig(
    String host,
    int port,
    long maxRequestBytes,
    List<String> allowedOrigins,
    Duration sessionIdleTimeout,
    URI publicUrl,
    ResourceServerConfig oauth) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8080;
  public static final long DEFAULT_MAX_REQUEST_BYTES = 4L * 1024 * 1024;
  public static final long MIN_MAX_REQUEST_BYTES = 1024;
  public static final long MAX_MAX_REQUEST_BYTES = 1L << 30;
  public static final Duration DEFAULT_SESSION_IDLE_TIMEOUT = Duration.ofMinutes(30);

  public static final GatewayConfig DEFAULT = new GatewayConfig(DEFAULT_HOST, DEFAULT_PORT,
      DEFAULT_MAX_REQUEST_BYTES, List.of(), DEFAULT_SESSION_IDLE_TIMEOUT, null, null);

  public GatewayConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(sessionIdleTimeout, "sessionIdleTimeout");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    allowedOrigins = List.copyOf(allowedOrigins == null ? List.of() : allowedOrigins);
  }

  /** The settings without OAuth (keys only). */
  public GatewayConfig(String host, int port, long maxRequestBytes, List<String> allowedOrigins,
      Duration sessionIdleTimeout, URI publicUrl) {
    this(host, port, maxRequestBytes, allowedOrigins, sessionIdleTimeout, publicUrl, null);
  }

  /** The same settings with another {@code oauth} block. */
  public GatewayConfig withOAuth(ResourceServerConfig o) {
    return new GatewayConfig(host, port, maxRequestBytes, allowedOrigins, sessionIdleTimeout, publicUrl, o);
  }

  /** The same settings bound elsewhere (tests bind 127.0.0.1:0). */
  public GatewayConfig withHostPort(String host, int port) {
    return new GatewayConfig(host, port, maxRequestBytes, allowedOrigins, sessionIdleTimeout, publicUrl, oauth);
  }

  /** True if {@code allowed_origins} contains {@code "*"}. */
  public boolean allowsAnyOrigin() {
    return allowedOrigins.contains("*");
  }
}
