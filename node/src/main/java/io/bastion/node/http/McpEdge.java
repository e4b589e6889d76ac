package io.bastion.node.http;

import io.bastion.node.NodeSettings;
import io.bastion.node.call.Authenticator;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The client-facing MCP endpoints of a node, assembled: {@link StreamableHttpEndpoint} at {@code
 * /mcp} and {@link LegacySseEndpoint} at {@code /sse} + {@code /messages}, sharing one set of
 * request checks ({@link EdgeSupport}), one {@link ReplyRouter} and one {@link SessionStreams}.
 */
public final class McpEdge {
  private final StreamableHttpEndpoint streamable;
  private final LegacySseEndpoint legacy;

  public McpEdge(ActorSystem<?> system, EdgeSettings edge, NodeSettings settings, McpDispatcher dispatcher,
      SessionStreams streams, Authenticator authenticator, ReplyRouter router) {
    EdgeSupport support = new EdgeSupport(system, edge, settings, authenticator);
    this.streamable = new StreamableHttpEndpoint(support, dispatcher, router, streams);
    this.legacy = new LegacySseEndpoint(support, dispatcher, router, streams);
  }

  public StreamableHttpEndpoint streamable() {
    return streamable;
  }

  public LegacySseEndpoint legacy() {
    return legacy;
  }
}
