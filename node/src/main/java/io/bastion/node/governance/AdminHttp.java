package io.bastion.node.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.http.AdminGuard;
import io.bastion.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** What the admin API's route classes share: the token check, JSON bodies in and out. */
final class AdminHttp {
  private static final long MAX_BODY = 1 << 20;
  private final AdminGuard guard;
  private final ActorSystem<?> system;

  AdminHttp(AdminGuard guard, ActorSystem<?> system) {
    this.guard = guard;
    this.system = system;
  }

  /** The refusal when the token is wrong; else {@code then}, with a 503 in words if it fails. */
  CompletionStage<HttpResponse> guarded(HttpRequest r, Supplier<CompletionStage<HttpResponse>> then) {
    Optional<HttpResponse> refused = guard.refuse(r);
    if (refused.isPresent()) {
      r.discardEntityBytes(system);
      return done(refused.get());
    }
    CompletionStage<HttpResponse> out;
    try {
      out = then.get();
    } catch (IllegalArgumentException e) {
      return done(json(400, Json.object().put("error", e.getMessage())));
    }
    return out.exceptionally(t -> {
      system.log().warn("admin API request failed", t);
      return json(503, Json.object().put("error",
          "the request could not be completed: " + t.getClass().getSimpleName()));
    });
  }

  /** The request's body as JSON, or null when it is not JSON. */
  CompletionStage<JsonNode> body(HttpRequest r) {
    return r.entity().toStrict(5000, MAX_BODY, system).thenApply(strict -> {
      try {
        return Json.MAPPER.readTree(strict.getData().toArray());
      } catch (java.io.IOException e) {
        return null;
      }
    });
  }

  static HttpResponse json(int status, ObjectNode body) {
    return HttpResponse.create().withStatus(StatusCodes.get(status))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, Json.write(body).getBytes(StandardCharsets.UTF_8)));
  }

  static HttpResponse json(GovernanceDefinitions.Result r) {
    return json(r.status(), r.body());
  }

  static <T> CompletionStage<T> done(T v) {
    return CompletableFuture.completedFuture(v);
  }
}
