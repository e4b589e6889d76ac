package io.bastion.persistence;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.pattern.Patterns;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the store's schema to the current version with Flyway: the Pekko Persistence JDBC journal
 * and snapshot tables and the audit table, from the versioned scripts in
 * {@code db/migration/<vendor>/} of this module (vendor from the JDBC URL: {@code h2} or
 * {@code postgresql}). Flyway records what it applied in {@value #HISTORY_TABLE}.
 *
 * <p>A store created before the migrations existed (tables made by persistence-jdbc's
 * {@code SchemaUtils} and the node's inline audit DDL, no history table) is adopted: Flyway
 * baselines it at version 0 and then runs every migration, which are written with
 * {@code IF NOT EXISTS} so that they complete whatever the old store already has.
 *
 * <p>Several nodes may start at once against one PostgreSQL: an advisory lock of Bastion's own,
 * held around the whole migration, serialises them and each finds the work done by the first. Any failure is retried a bounded number
 * of times ({@code bastion.persistence.schema.attempts}, {@code retry-delay}), which also covers a
 * database that is still starting. Migrations run on Pekko's blocking-IO dispatcher, never on the
 * default dispatcher. See docs/persistence.md.
 */
public final class StoreSchema {
  private static final Logger LOG = LoggerFactory.getLogger(StoreSchema.class);

  /** Flyway's history table; Bastion's own name so it cannot clash with another application's. */
  public static final String HISTORY_TABLE = "bastion_schema_history";

  private StoreSchema() {}

  /**
   * Migrates the store configured in {@code system} ({@link StoreDatabase#CONFIG_PATH}) on the
   * blocking-IO dispatcher, retrying as configured; fails with the last error.
   */
  public static CompletionStage<Done> ensure(ActorSystem<?> system) {
    Config root = system.settings().config();
    StoreDatabase db;
    try {
      db = StoreDatabase.fromConfig(root);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    int attempts = Math.max(1, root.getInt("bastion.persistence.schema.attempts"));
    Duration delay = root.getDuration("bastion.persistence.schema.retry-delay");
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    return attempt(system, db, blocking, attempts, delay);
  }

  private static CompletionStage<Done> attempt(ActorSystem<?> system, StoreDatabase db, Executor blocking,
      int left, Duration delay) {
    return CompletableFuture.supplyAsync(() -> {
      migrate(db);
      return Done.getInstance();
    }, blocking).handle((done, err) -> {
      if (err == null) {
        return CompletableFuture.completedFuture(done);
      }
      if (left <= 1) {
        return CompletableFuture.<Done>failedFuture(err);
      }
      LOG.info("Store migration failed ({}); retrying in {} ms ({} attempts left)",
          err.getCause() != null ? err.getCause().getMessage() : err.getMessage(), delay.toMillis(), left - 1);
      return Patterns.after(delay, system.classicSystem().scheduler(), system.executionContext(),
          () -> attempt(system, db, blocking, left - 1, delay));
    }).thenCompose(x -> x);
  }

  /**
   * Migrates {@code db} now, on the calling thread (blocking: never call it on an actor's
   * dispatcher). Returns Flyway's result; throws Flyway's exception on failure.
   */
  public static MigrateResult migrate(StoreDatabase db) {
    MigrateResult result = exclusively(db, () -> flyway(db).migrate());
    if (result.migrationsExecuted > 0) {
      LOG.info("Store schema migrated from version {} to {} ({} migrations) on {}",
          result.initialSchemaVersion == null ? "(none)" : result.initialSchemaVersion,
          result.targetSchemaVersion, result.migrationsExecuted, db);
    } else {
      LOG.debug("Store schema up to date (version {}) on {}", result.initialSchemaVersion, db);
    }
    return result;
  }

  /** Key of the PostgreSQL advisory lock that serialises Bastion's migrations across nodes. */
  static final long LOCK_KEY = 0x42617374696f6eL; // "Bastion"

  /**
   * Runs {@code migration} while no other Bastion migrates the same store. Flyway takes its own
   * lock only once its history table exists, so nodes starting together on a store from before
   * the migrations raced to baseline it ("Unable to baseline schema history table … as it already
   * exists, and is empty"). On PostgreSQL a session-level advisory lock, held on a connection of
   * its own for the whole migration, serialises the nodes (closing the connection releases it,
   * however the migration ends); an H2 file belongs to one process, where a JVM lock does.
   */
  private static MigrateResult exclusively(StoreDatabase db, Supplier<MigrateResult> migration) {
    if (db.vendor() != StoreDatabase.Vendor.POSTGRESQL) {
      synchronized (StoreSchema.class) {
        return migration.get();
      }
    }
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        Statement st = c.createStatement()) {
      st.execute("SELECT pg_advisory_lock(" + LOCK_KEY + ")");
      try {
        return migration.get();
      } finally {
        st.execute("SELECT pg_advisory_unlock(" + LOCK_KEY + ")");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot lock the store for migration: " + e.getMessage(), e);
    }
  }

  /** The Flyway instance Bastion uses for {@code db} (also for inspection: {@code info()}, tests). */
  public static Flyway flyway(StoreDatabase db) {
    return Flyway.configure(StoreSchema.class.getClassLoader())
        .dataSource(db.url(), db.user(), db.password())
        .locations("classpath:db/migration/" + db.vendor().folder())
        .table(HISTORY_TABLE)
        // A store from before the migrations (tables, no history table): record baseline 0 and run
        // every migration over it; they are written to be idempotent (IF NOT EXISTS).
        .baselineOnMigrate(true)
        .baselineVersion("0")
        .baselineDescription("store created before Flyway (SchemaUtils and inline DDL)")
        .load();
  }
}
