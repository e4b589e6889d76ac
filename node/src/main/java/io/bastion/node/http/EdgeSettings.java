package io.bastion.node.http;

import java.time.Duration;
import java.util.List;

/**
 * What the HTTP edge needs from the user's {@code gateway:} block.
 *
 * @param bindHost the interface the node listens on (loopback binds also check {@code Host})
 * @param maxRequestBytes bodies above this get 413
 * @param allowedOrigins browser origins allowed besides loopback ones ({@code *} allows any)
 * @param sessionIdleTimeout sessions idle this long are forgotten
 */
public record EdgeSettings(String bindHost, long maxRequestBytes, List<String> allowedOrigins,
    Duration sessionIdleTimeout) {

  public EdgeSettings {
    allowedOrigins = List.copyOf(allowedOrigins == null ? List.of() : allowedOrigins);
  }

  public boolean loopbackBind() {
    return HttpChecks.isLoopbackHost(bindHost);
  }
}
