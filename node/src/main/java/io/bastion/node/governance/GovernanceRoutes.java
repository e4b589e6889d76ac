package io.bastion.node.governance;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.Json;
import java.nio.charset.StandardCharsets;
import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.http.AdminGuard;
import io.bastion.persistence.audit.AuditLog;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin API behind {@code Authorization: Bearer <admin.token>} ({@link AdminGuard}; without
 * {@code admin.token} in the config it is off: 404 with a message saying so):
 *
 * <ul>
 *   <li>{@code GET /api/v1/audit}, {@code GET /api/v1/audit/summary};
 *   <li>{@code GET /api/v1/keys}, {@code GET|PUT|DELETE /api/v1/keys/<key_name>}, and the same for
 *       {@code teams}, {@code customers} and {@code groups} ({@link GovernanceDefinitions}).
 * </ul>
 */
public final class GovernanceRoutes extends AllDirectives {
  private static final int MAX_LIMIT = 1000;
  private static final long MAX_BODY = 1 << 20;
  private final AuditLog audit;
  private final AdminGuard guard;
  private final GovernanceDefinitions definitions;
  private final ActorSystem<?> system;

  public GovernanceRoutes(AuditLog audit, AdminGuard guard, GovernanceDefinitions definitions, ActorSystem<?> system) {
    this.audit = audit;
    this.guard = guard;
    this.definitions = definitions;
    this.system = system;
  }

  public Route route() {
    return concat(
        path(PathMatchers.segment("api").slash("v1").slash("audit"),
            () -> get(() -> extractRequest(r -> completeWithFuture(guarded(r, () -> auditQuery(r, false)))))),
        path(PathMatchers.segment("api").slash("v1").slash("audit").slash("summary"),
            () -> get(() -> extractRequest(r -> completeWithFuture(guarded(r, () -> auditQuery(r, true)))))),
        definitions("keys", GovernanceDefinitions.KEYS),
        definitions("teams", GovernanceDefinitions.TEAMS),
        definitions("customers", GovernanceDefinitions.CUSTOMERS),
        definitions("groups", GovernanceDefinitions.GROUPS));
  }

  private Route definitions(String segment, GovernanceDefinitions.Kind kind) {
    return concat(
        path(PathMatchers.segment("api").slash("v1").slash(segment), () -> get(() -> extractRequest(r ->
            completeWithFuture(guarded(r, () -> done(json(StatusCodes.OK, definitions.list(kind)))))))),
        path(PathMatchers.segment("api").slash("v1").slash(segment).slash(PathMatchers.segment()), name ->
            extractRequest(r -> completeWithFuture(guarded(r, () -> {
              if (r.method() == HttpMethods.GET) {
                return done(definitions.get(kind, name).map(o -> json(StatusCodes.OK, o))
                    .orElseGet(() -> json(StatusCodes.NOT_FOUND,
                        Json.object().put("error", "no " + kind.singular() + " named " + name))));
              } else if (r.method() == HttpMethods.PUT) {
                return body(r).thenCompose(b -> b == null
                        ? done(new GovernanceDefinitions.Result(400, Json.object().put("error",
                            "the body must be a JSON object (Content-Type: application/json)")))
                        : definitions.put(kind, name, b))
                    .thenApply(res -> json(StatusCodes.get(res.status()), res.body()));
              } else if (r.method() == HttpMethods.DELETE) {
                return definitions.delete(kind, name).thenApply(res -> json(StatusCodes.get(res.status()), res.body()));
              }
              r.discardEntityBytes(system);
              return done(json(StatusCodes.METHOD_NOT_ALLOWED, Json.object().put("error", "use GET, PUT or DELETE"))
                  .addHeader(RawHeader.create("Allow", "GET, PUT, DELETE")));
            })))));
  }

  /** The request's body as JSON, or null when it is not JSON. */
  private CompletionStage<JsonNode> body(HttpRequest r) {
    return r.entity().toStrict(5000, MAX_BODY, system).thenApply(strict -> {
      try {
        return Json.MAPPER.readTree(strict.getData().toArray());
      } catch (java.io.IOException e) {
        return null;
      }
    });
  }

  private CompletionStage<HttpResponse> guarded(HttpRequest r, Supplier<CompletionStage<HttpResponse>> then) {
    Optional<HttpResponse> refused = guard.refuse(r);
    if (refused.isPresent()) {
      r.discardEntityBytes(system);
      return done(refused.get());
    }
    return then.get().exceptionally(t -> {
      system.log().warn("admin API request failed", t);
      return json(StatusCodes.SERVICE_UNAVAILABLE, Json.object().put("error",
          "the request could not be completed: " + t.getClass().getSimpleName()));
    });
  }

  private CompletionStage<HttpResponse> auditQuery(HttpRequest r, boolean summary) {
    AuditLog.Query q;
    try {
      q = parse(r.getUri().query().toMap());
    } catch (IllegalArgumentException e) {
      return done(json(StatusCodes.BAD_REQUEST, Json.object().put("error", e.getMessage())));
    }
    return (summary ? audit.summary(q) : audit.query(q))
        .thenApply(body -> json(StatusCodes.OK, body))
        .exceptionally(t -> json(StatusCodes.INTERNAL_SERVER_ERROR, Json.object().put("error",
            "audit query failed")));
  }

  static AuditLog.Query parse(Map<String, String> p) {
    int limit = intParam(p, "limit", 100);
    int offset = intParam(p, "offset", 0);
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be in 1.." + MAX_LIMIT);
    }
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be >= 0");
    }
    return new AuditLog.Query(p.get("key"), p.get("team"), p.get("customer"), p.get("server"), p.get("tool"),
        p.get("outcome"), time(p, "from"), time(p, "to"), limit, offset);
  }

  private static int intParam(Map<String, String> p, String name, int dflt) {
    String v = p.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer: " + v);
    }
  }

  /** ISO-8601 instant or epoch milliseconds. */
  private static Long time(Map<String, String> p, String name) {
    String v = p.get(name);
    if (v == null) {
      return null;
    }
    try {
      return v.chars().allMatch(Character::isDigit) ? Long.parseLong(v) : Instant.parse(v).toEpochMilli();
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new IllegalArgumentException(name + " must be an ISO-8601 instant or epoch milliseconds: " + v);
    }
  }

  private static HttpResponse json(StatusCode status, ObjectNode body) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, Json.write(body).getBytes(StandardCharsets.UTF_8)));
  }

  private static <T> CompletionStage<T> done(T v) {
    return java.util.concurrent.CompletableFuture.completedFuture(v);
  }
}
