package io.bastion.node;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Typed {@code bastion.node.*} settings (see bastion-node.conf, included by the node's reference.conf),
 * read once at start.
 */
public record NodeSettings(
    Duration askTimeout,
    int listPageSize,
    Duration upstreamKeepaliveInterval,
    Duration stdioShutdownGrace,
    Duration maxRequestTimeout,
    Duration sseKeepalive,
    Duration failoverHold,
    Duration handoffDrain,
    Duration shutdownDrain,
    Duration readyWaitForUpstreams,
    Duration ssePollAfter,
    Duration ssePollRetry,
    String upstreamHttpClient,
    Duration upstreamKeepAliveTimeout) {

  public NodeSettings {
    if (listPageSize < 1) {
      throw new IllegalArgumentException("bastion.node.list-page-size must be >= 1");
    }
    if (ssePollAfter.isNegative() || ssePollRetry.isNegative()) {
      throw new IllegalArgumentException("bastion.node.sse-poll-after and sse-poll-retry must not be negative");
    }
    if (!"netty".equals(upstreamHttpClient) && !"pekko".equals(upstreamHttpClient)) {
      throw new IllegalArgumentException("bastion.node.upstream-http-client must be \"netty\" or \"pekko\", not \""
          + upstreamHttpClient + "\"");
    }
    if (upstreamKeepAliveTimeout.isNegative() || upstreamKeepAliveTimeout.isZero()) {
      throw new IllegalArgumentException("bastion.node.upstream-keep-alive-timeout must be positive");
    }
    if (readyWaitForUpstreams.isNegative()) {
      throw new IllegalArgumentException("bastion.node.ready-wait-for-upstreams must not be negative");
    }
  }

  public static NodeSettings fromConfig(Config root) {
    Config c = root.getConfig("bastion.node");
    return new NodeSettings(
        c.getDuration("ask-timeout"),
        c.getInt("list-page-size"),
        c.getDuration("upstream-keepalive-interval"),
        c.getDuration("stdio-shutdown-grace"),
        c.getDuration("max-request-timeout"),
        c.getDuration("sse-keepalive"),
        c.getDuration("failover-hold"),
        c.getDuration("handoff-drain"),
        c.getDuration("shutdown-drain"),
        c.getDuration("ready-wait-for-upstreams"),
        c.getDuration("sse-poll-after"),
        c.getDuration("sse-poll-retry"),
        c.getString("upstream-http-client"),
        c.getDuration("upstream-keep-alive-timeout"));
  }
}
