package io.bastion.node.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.http.AdminGuard;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamStatus;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Server management of the admin API (behind the admin token, {@link AdminGuard#refuse}); the list
 * itself is {@code GET /api/v1/servers} ({@code AdminRoutes}):
 *
 * <ul>
 *   <li>{@code GET /api/v1/servers/<name>}: the definition in force (header and env values masked);
 *   <li>{@code PUT /api/v1/servers/<name>}: add or replace, validated by the config file's reader
 *       (400 with its path-precise problems), persisted, in force on every node;
 *   <li>{@code DELETE /api/v1/servers/<name>}: remove (the upstream stops on its owner);
 *   <li>{@code POST /api/v1/servers/<name>/reconnect}: drop the connection and connect again now (202);
 *   <li>{@code GET /api/v1/catalog}: every server's tools (upstream name, the name clients see,
 *       description, input schema), as this node's replicated view has them.
 * </ul>
 */
public final class ServerRoutes extends AllDirectives {
  private final AdminHttp http;
  private final ServerDefinitions servers;
  private final ActorSystem<?> system;

  public ServerRoutes(AdminGuard guard, ServerDefinitions servers, ActorSystem<?> system) {
    this.http = new AdminHttp(guard, system);
    this.servers = servers;
    this.system = system;
  }

  public Route route() {
    return concat(
        path(PathMatchers.segment("api").slash("v1").slash("catalog"),
            () -> get(() -> extractRequest(r -> completeWithFuture(http.guarded(r,
                () -> AdminHttp.done(AdminHttp.json(200, catalog()))))))),
        path(PathMatchers.segment("api").slash("v1").slash("servers").slash(PathMatchers.segment()).slash("reconnect"),
            name -> post(() -> extractRequest(r -> completeWithFuture(http.guarded(r, () -> {
              r.discardEntityBytes(system);
              return AdminHttp.done(AdminHttp.json(servers.reconnect(name)));
            }))))),
        path(PathMatchers.segment("api").slash("v1").slash("servers").slash(PathMatchers.segment()), name ->
            extractRequest(r -> completeWithFuture(http.guarded(r, () -> {
              if (r.method() == HttpMethods.GET) {
                return AdminHttp.done(servers.render(name).map(o -> AdminHttp.json(200, o))
                    .orElseGet(() -> AdminHttp.json(404, Json.object().put("error", "no server named " + name))));
              } else if (r.method() == HttpMethods.PUT) {
                return http.body(r).thenCompose(b -> servers.put(name, b)).thenApply(AdminHttp::json);
              } else if (r.method() == HttpMethods.DELETE) {
                r.discardEntityBytes(system);
                return servers.delete(name).thenApply(AdminHttp::json);
              }
              r.discardEntityBytes(system);
              return AdminHttp.done(AdminHttp.json(405, Json.object().put("error", "use GET, PUT or DELETE"))
                  .addHeader(RawHeader.create("Allow", "GET, PUT, DELETE")));
            })))));
  }

  private ObjectNode catalog() {
    ObjectNode body = Json.object();
    ArrayNode arr = body.putArray("servers");
    java.util.Map<FederatedCatalog.Target, String> exposed = new java.util.HashMap<>();
    UpstreamDirectory.get(system).catalog().tools().forEach(e -> exposed.put(e.target(), e.exposed()));
    for (UpstreamStatus st : UpstreamDirectory.get(system).statuses().values()) {
      ObjectNode o = arr.addObject().put("name", st.name()).put("state", st.state());
      ArrayNode tools = o.putArray("tools");
      for (JsonNode t : st.catalog().tools()) {
        String name = t.path("name").asText();
        ObjectNode tool = tools.addObject().put("name", name)
            .put("exposed", exposed.get(new FederatedCatalog.Target(st.name(), name)));
        tool.put("description", t.path("description").asText(""));
        if (t.has("inputSchema")) {
          tool.set("inputSchema", t.get("inputSchema"));
        }
      }
    }
    return body;
  }
}
