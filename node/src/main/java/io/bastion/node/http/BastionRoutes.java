package io.bastion.node.http;

import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** Every HTTP route of a node. */
public final class BastionRoutes extends AllDirectives {
  private final McpEdge mcp;
  private final AdminRoutes admin;

  public BastionRoutes(McpEdge mcp, AdminRoutes admin) {
    this.mcp = mcp;
    this.admin = admin;
  }

  public Route route() {
    return concat(
        path("mcp", () -> extractRequest(req -> completeWithFuture(mcp.handleMcp(req, null)))),
        path(PathMatchers.segment("mcp").slash(PathMatchers.segment()),
            group -> extractRequest(req -> completeWithFuture(mcp.handleMcp(req, group)))),
        path("sse", () -> get(() -> extractRequest(req -> completeWithFuture(mcp.handleLegacyStream(req, null))))),
        path(PathMatchers.segment("sse").slash(PathMatchers.segment()),
            group -> get(() -> extractRequest(req -> completeWithFuture(mcp.handleLegacyStream(req, group))))),
        path("messages", () -> post(() -> extractRequest(req -> completeWithFuture(mcp.handleLegacyPost(req))))),
        path(PathMatchers.segment("health").slash("live"), () -> get(() -> complete(admin.live()))),
        path(PathMatchers.segment("health").slash("ready"), () -> get(() -> extractRequest(r -> complete(admin.ready())))),
        path(PathMatchers.segment("api").slash("v1").slash("servers"), () -> get(() -> extractRequest(r -> complete(admin.servers())))),
        path(PathMatchers.segment("api").slash("v1").slash("cluster"), () -> get(() -> extractRequest(r -> complete(admin.cluster())))));
  }
}
