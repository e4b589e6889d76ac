package io.bastion.persistence;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;

/**
 * Creates the journal and snapshot tables if they are missing, using the schema scripts that
 * Pekko Persistence JDBC ships for H2 and PostgreSQL. Several nodes may start at once against one
 * PostgreSQL: a concurrent {@code CREATE TABLE IF NOT EXISTS} can still fail on the catalog's
 * unique index, so the creation is retried a few times.
 */
public final class StoreSchema {
  private StoreSchema() {}

  public static CompletionStage<Done> ensure(ActorSystem<?> system) {
    return attempt(system, 5);
  }

  private static CompletionStage<Done> attempt(ActorSystem<?> system, int left) {
    return SchemaUtils.createIfNotExists(system).handle((done, err) -> {
      if (err == null) {
        return CompletableFuture.completedFuture(Done.getInstance());
      }
      if (left <= 1) {
        return CompletableFuture.<Done>failedFuture(err);
      }
      system.log().info("Schema creation raced or failed ({}); retrying", err.getMessage());
      return Patterns.after(Duration.ofMillis(300), system.classicSystem().scheduler(),
          system.executionContext(), () -> attempt(system, left - 1));
    }).thenCompose(x -> x);
  }
}
