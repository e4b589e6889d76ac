package io.bastion.node.http;

import io.bastion.node.upstream.KeyedUpstreams;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.node.upstream.UpstreamStatus;
import io.bastion.node.upstream.oauth.OAuthFlows;
import io.bastion.node.upstream.oauth.UpstreamOAuth;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Upstream OAuth's HTTP side (docs/oauth.md):
 *
 * <ul>
 *   <li>{@code GET /oauth/callback?code&state[&iss]}: where the authorization server sends the
 *       operator's browser. Any node serves it: the {@code state} starts with the server's name, so
 *       the code goes to that server's entity wherever it runs, which checks the state against its
 *       pending flow and redeems the code. The page never shows the code or any token.
 *   <li>{@code GET /oauth/client-metadata.json}: Bastion's Client ID Metadata Document, when its
 *       external URL is https ({@code ClientMetadataDocument}).
 *   <li>{@code POST /api/v1/servers/<name>/oauth/reauthorize}: drop the tokens, the client
 *       registration and the discovered metadata, and start a new authorization (admin token).
 *   <li>{@code POST /api/v1/servers/<name>/oauth/revoke}: revoke the tokens at the authorization
 *       server (best effort) and drop them (admin token).
 *   <li>For a {@code per_key} server, the same per virtual key ({@code KeyedUpstreams}, admin token):
 *       {@code GET /api/v1/servers/<name>/oauth/keys/<key>} (state, authorization URL, last error)
 *       and {@code POST /api/v1/servers/<name>/oauth/keys/<key>/reauthorize | revoke}.
 * </ul>
 */
public final class OAuthRoutes extends AllDirectives {

  /** Redeeming a code is a call to the authorization server (10 s read timeout) plus a persist. */
  private static final Duration CALLBACK_TIMEOUT = Duration.ofSeconds(30);

  private final ActorSystem<?> system;
  private final AdminGuard guard;
  private final Predicate<String> configured;

  public OAuthRoutes(ActorSystem<?> system, AdminGuard guard, Predicate<String> configured) {
    this.system = system;
    this.guard = guard;
    this.configured = configured;
  }

  public Route route() {
    return concat(
        path(PathMatchers.segment("oauth").slash("callback"), () -> get(() -> extractRequest(this::callback))),
        path(PathMatchers.segment("oauth").slash("client-metadata.json"), () -> get(this::clientMetadata)),
        path(PathMatchers.segment("api").slash("v1").slash("servers").slash(PathMatchers.segment())
                .slash("oauth").slash(PathMatchers.segment()),
            (name, action) -> post(() -> extractRequest(r -> admin(r, name, action)))),
        pathPrefix(PathMatchers.segment("api").slash("v1").slash("servers").slash(PathMatchers.segment())
                .slash("oauth").slash("keys").slash(PathMatchers.segment()),
            (name, key) -> concat(
                pathEnd(() -> get(() -> extractRequest(r -> keyStatus(r, name, key)))),
                path(PathMatchers.segment(), action -> post(() -> extractRequest(
                    r -> admin(r, KeyedUpstreams.entityId(name, key), action)))))));
  }

  /** A key's connection to a per_key server: its state and, while it needs authorization, the URL. */
  private Route keyStatus(HttpRequest r, String name, String key) {
    Optional<HttpResponse> refused = guard.refuse(r);
    if (refused.isPresent()) {
      return complete(refused.get());
    }
    String id = KeyedUpstreams.entityId(name, key);
    if (!configured.test(id)) {
      return complete(EdgeResponses.json(404, Json.object().put("error",
          "no per_key OAuth server " + name + " with a key " + key)));
    }
    CompletionStage<HttpResponse> answer = ref(id)
        .<UpstreamStatus>ask(UpstreamServer.GetStatus::new, CALLBACK_TIMEOUT)
        .handle((st, err) -> err != null
            ? EdgeResponses.json(503, Json.object().put("server", name).put("key", key).put("error", errorText(err)))
            : EdgeResponses.json(200, Json.object().put("server", name).put("key", key).put("state", st.state())
                .put("authorizationUrl", st.authorizationUrl()).put("lastError", st.lastError())));
    return completeWithFuture(answer);
  }

  private Route callback(HttpRequest r) {
    var q = r.getUri().query();
    String state = q.get("state").orElse(null);
    String server = OAuthFlows.serverOf(state);
    if (server == null || !configured.test(server)) {
      return complete(page(400, "This authorization is unknown to Bastion (missing or foreign state)."));
    }
    String error = q.get("error").orElse(null);
    CompletionStage<HttpResponse> answer = ref(server)
        .<String>askWithStatus(replyTo -> new UpstreamServer.CompleteAuthorization(state, q.get("code").orElse(null),
            q.get("iss").orElse(null), error, replyTo), CALLBACK_TIMEOUT)
        .handle((ok, err) -> err == null ? page(200, ok)
            : page(400, "Authorization of " + server + " failed: " + errorText(err)));
    return completeWithFuture(answer);
  }

  /** Bastion's Client ID Metadata Document (public: authorization servers fetch it), or 404 when not offered. */
  private Route clientMetadata() {
    String doc = UpstreamOAuth.get(system).clientMetadataDocument();
    if (doc == null) {
      return complete(EdgeResponses.json(404, Json.object().put("error", "no client metadata document: it needs an"
          + " https external URL (gateway.public_url or bastion.upstream-oauth.client-metadata-url)")));
    }
    return respondWithHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("Cache-Control",
        "public, max-age=300"), () -> complete(HttpResponse.create().withStatus(200)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, doc))));
  }

  private Route admin(HttpRequest r, String name, String action) {
    Optional<HttpResponse> refused = guard.refuse(r);
    if (refused.isPresent()) {
      return complete(refused.get());
    }
    if (!configured.test(name)) {
      return complete(EdgeResponses.json(404, Json.object().put("error", KeyedUpstreams.isKeyed(name)
          ? "no per_key OAuth server " + KeyedUpstreams.server(name) + " with a key " + KeyedUpstreams.key(name)
          : "no server " + name)));
    }
    if (!action.equals("reauthorize") && !action.equals("revoke")) {
      return complete(EdgeResponses.json(404, Json.object().put("error",
          "unknown OAuth action " + action + "; expected reauthorize or revoke")));
    }
    CompletionStage<HttpResponse> answer = ref(name)
        .<String>askWithStatus(replyTo -> new UpstreamServer.Reauthorize(action.equals("revoke"), replyTo),
            CALLBACK_TIMEOUT)
        .handle((ok, err) -> err == null
            ? EdgeResponses.json(202, Json.object().put("server", name).put("status", ok)
                .put("next", KeyedUpstreams.isKeyed(name)
                    ? "GET /api/v1/servers/" + KeyedUpstreams.server(name) + "/oauth/keys/" + KeyedUpstreams.key(name)
                        + " shows the authorization URL once state is needs_authorization"
                    : "GET /api/v1/servers shows the authorization URL once state is needs_authorization"))
            : EdgeResponses.json(409, Json.object().put("server", name).put("error", errorText(err))));
    return completeWithFuture(answer);
  }

  private EntityRef<UpstreamServer.Command> ref(String name) {
    return ClusterSharding.get(system).entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, name);
  }

  private static String errorText(Throwable err) {
    Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
        ? err.getCause() : err;
    return t instanceof java.util.concurrent.TimeoutException ? "timed out" : String.valueOf(t.getMessage());
  }

  private static HttpResponse page(int status, String text) {
    String body = "<!doctype html><meta charset=\"utf-8\"><title>Bastion</title><p>" + escape(text) + "</p>";
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, body));
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
