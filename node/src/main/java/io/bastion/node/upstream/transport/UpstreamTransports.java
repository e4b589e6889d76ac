package io.bastion.node.upstream.transport;

import io.bastion.config.ServerConfig;
import org.apache.pekko.actor.typed.ActorSystem;

/** Builds the transport a server's config asks for. */
public final class UpstreamTransports {

  private UpstreamTransports() {}

  /** A new, not yet started transport for {@code config.type()}. */
  public static UpstreamTransport create(ActorSystem<?> system, ServerConfig config) {
    return create(system, config, null);
  }

  /** The same, with {@code bearer} supplying an OAuth upstream's current access token (null: none). */
  public static UpstreamTransport create(ActorSystem<?> system, ServerConfig config,
      java.util.function.Supplier<String> bearer) {
    return switch (config.type()) {
      case STDIO -> new StdioTransport(config);
      case HTTP -> new StreamableHttpTransport(system, config, bearer);
      case SSE -> new LegacySseTransport(system, config, bearer);
    };
  }
}
