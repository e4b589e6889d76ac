package io.bastion.node.upstream.transport;

import io.bastion.config.ServerConfig;
import org.apache.pekko.actor.typed.ActorSystem;

/** Builds the transport a server's config asks for. */
public final class UpstreamTransports {

  private UpstreamTransports() {}

  /** A new, not yet started transport for {@code config.type()}. */
  public static UpstreamTransport create(ActorSystem<?> system, ServerConfig config) {
    return switch (config.type()) {
      case STDIO -> new StdioTransport(config);
      case HTTP -> new StreamableHttpTransport(system, config);
      case SSE -> new LegacySseTransport(system, config);
    };
  }
}
