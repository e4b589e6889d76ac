package io.bastion.node.governance;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/audit} and {@code GET /api/v1/audit/summary}, behind {@code Authorization:
 * Bearer <admin.token>} (compared in constant time). Without {@code admin.token} in the config the
 * admin API is off: 404 with a message saying so.
 */
public final class GovernanceRoutes extends AllDirectives {
  private static final int MAX_LIMIT = 1000;
  private final AuditLog audit;
  private final byte[] tokenHash;

  public GovernanceRoutes(AuditLog audit, String adminToken) {
    this.audit = audit;
    this.tokenHash = adminToken == null || adminToken.isEmpty() ? null : KeyDirectory.sha256(adminToken);
  }

  public Route route() {
    return concat(
        path(PathMatchers.segment("api").slash("v1").slash("audit"),
            () -> get(() -> extractRequest(r -> completeWithFuture(guard(r, false))))),
        path(PathMatchers.segment("api").slash("v1").slash("audit").slash("summary"),
            () -> get(() -> extractRequest(r -> completeWithFuture(guard(r, true))))));
  }

  private CompletionStage<HttpResponse> guard(HttpRequest r, boolean summary) {
    if (tokenHash == null) {
      return done(json(StatusCodes.NOT_FOUND, Json.object().put("error",
          "the admin API is disabled: set admin.token in the config to enable it")));
    }
    Optional<String> auth = r.getHeader("Authorization").map(HttpHeader::value);
    String presented = auth.filter(a -> a.regionMatches(true, 0, "Bearer ", 0, 7))
        .map(a -> a.substring(7).trim()).orElse("");
    if (!MessageDigest.isEqual(KeyDirectory.sha256(presented), tokenHash)) {
      return done(json(StatusCodes.UNAUTHORIZED, Json.object().put("error",
              "Unauthorized: the admin API needs Authorization: Bearer <admin token>"))
          .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"bastion-admin\"")));
    }
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
