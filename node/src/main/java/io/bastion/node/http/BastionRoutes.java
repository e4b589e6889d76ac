package io.bastion.node.http;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;

import io.bastion.node.metrics.Metrics;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** Every HTTP route of a node. */
public final class BastionRoutes extends AllDirectives {
  private final McpEdge mcp;
  private final AdminRoutes admin;
  private final Route[] extra;
  private final AdminGuard guard;

  /** {@code extra}: more routes tried after these (governance's admin API, ...). Operator views open (tests). */
  public BastionRoutes(McpEdge mcp, AdminRoutes admin, Route... extra) {
    this(mcp, admin, new AdminGuard(null, "127.0.0.1"), extra);
  }

  /** {@code guard}: who may read {@code /api/v1/servers} and {@code /api/v1/cluster}. */
  public BastionRoutes(McpEdge mcp, AdminRoutes admin, AdminGuard guard, Route... extra) {
    this.mcp = mcp;
    this.admin = admin;
    this.guard = guard;
    this.extra = extra;
  }

  public Route route() {
    Route core = concat(
        path("mcp", () -> extractRequest(req -> completeWithFuture(mcp.streamable().handle(req, null)))),
        path(PathMatchers.segment("mcp").slash(PathMatchers.segment()),
            group -> extractRequest(req -> completeWithFuture(mcp.streamable().handle(req, group)))),
        path("sse", () -> get(() -> extractRequest(req -> completeWithFuture(mcp.legacy().openStream(req, null))))),
        path(PathMatchers.segment("sse").slash(PathMatchers.segment()),
            group -> get(() -> extractRequest(req -> completeWithFuture(mcp.legacy().openStream(req, group))))),
        path("messages", () -> post(() -> extractRequest(req -> completeWithFuture(mcp.legacy().post(req))))),
        path("metrics", () -> get(() -> complete(metrics()))),
        path(PathMatchers.segment("health").slash("live"), () -> get(() -> complete(admin.live()))),
        path(PathMatchers.segment("health").slash("ready"), () -> get(() -> extractRequest(r -> complete(admin.ready())))),
        path(PathMatchers.segment("api").slash("v1").slash("servers"),
            () -> get(() -> extractRequest(r -> complete(guard.refuseOperator(r).orElseGet(admin::servers))))),
        path(PathMatchers.segment("api").slash("v1").slash("cluster"),
            () -> get(() -> extractRequest(r -> complete(guard.refuseOperator(r).orElseGet(admin::cluster))))));
    return extra.length == 0 ? core : concat(core, extra);
  }

  /**
   * The node's request handler: {@code /mcp}, which carries nearly every request, goes straight to
   * its endpoint; everything else through the routing tree ({@link #route()}, sealed). Walking the
   * route alternatives showed in profiles of a {@code tools/call} at a few per cent of the node's
   * CPU, for a decision one string comparison makes.
   */
  public Function<HttpRequest, CompletionStage<HttpResponse>> handler(ActorSystem<?> system) {
    Function<HttpRequest, CompletionStage<HttpResponse>> routes = route().handler(system);
    return req -> "/mcp".equals(req.getUri().path()) ? mcp.streamable().handle(req, null) : routes.apply(req);
  }

  /** {@code GET /metrics}: Prometheus text exposition format 0.0.4 (docs/metrics.md). */
  static HttpResponse metrics() {
    return HttpResponse.create().withEntity(HttpEntities.create(PROMETHEUS_TEXT, Metrics.scrape()));
  }

  private static final ContentType.WithCharset PROMETHEUS_TEXT = ContentTypes.TEXT_PLAIN_UTF8;
}
