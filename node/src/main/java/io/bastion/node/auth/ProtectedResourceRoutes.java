package io.bastion.node.auth;

import io.bastion.protocol.Json;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /.well-known/oauth-protected-resource[/<resource path>]}: the RFC 9728 metadata of
 * {@code /mcp} and {@code /mcp/<group>} (path-aware, §3.1), and the root form for {@code /mcp}.
 * Public (clients read it before they have a token), cacheable for a few minutes.
 */
public final class ProtectedResourceRoutes extends AllDirectives {
  private final ProtectedResource resource;

  public ProtectedResourceRoutes(ProtectedResource resource) {
    this.resource = resource;
  }

  public Route route() {
    return pathPrefix(PathMatchers.segment(".well-known").slash("oauth-protected-resource"),
        () -> get(() -> extractRequest(req -> complete(answer(req.getUri().path())))));
  }

  HttpResponse answer(String path) {
    String group = resource.groupOfMetadataPath(path);
    if (group == null || resource.resource(null) == null) {
      return HttpResponse.create().withStatus(StatusCodes.NOT_FOUND)
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
              "{\"error\":\"not_found\",\"error_description\":\"no protected resource at this path\"}"));
    }
    return HttpResponse.create().withStatus(StatusCodes.OK)
        .addHeader(RawHeader.create("Cache-Control", "public, max-age=300"))
        .addHeader(RawHeader.create("Access-Control-Allow-Origin", "*"))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
            Json.writeBytes(resource.metadata(group.isEmpty() ? null : group))));
  }
}
