package io.bastion.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The migrations on PostgreSQL (127.0.0.1:5432, user postgres, trust auth; override with
 * {@code -Dbastion.test.pg.url} / {@code -Dbastion.test.pg.user}), each test on a database of its
 * own that is dropped afterwards. Skipped, saying why, when PostgreSQL is not reachable
 * ({@code bash deploy/ensure-postgres.sh} starts one).
 */
@Timeout(180)
class PostgresStoreSchemaTest {
  private final List<StoreDatabase> created = new ArrayList<>();

  @BeforeAll
  static void needsPostgres() {
    String why = TestStores.pgUnreachable();
    if (why != null) {
      System.err.println("PostgresStoreSchemaTest SKIPPED: " + why);
    }
    assumeTrue(why == null, why);
  }

  @AfterEach
  void drop() throws Exception {
    for (StoreDatabase db : created) {
      TestStores.dropPgDatabase(db);
    }
  }

  private StoreDatabase database() throws Exception {
    StoreDatabase db = TestStores.createPgDatabase();
    created.add(db);
    return db;
  }

  @Test
  void migratesAnEmptyDatabaseToTheSchemaPersistenceJdbcCreates() throws Exception {
    StoreDatabase migrated = database();
    MigrateResult result = StoreSchema.migrate(migrated);
    assertThat(result.migrationsExecuted).isEqualTo(4);
    assertThat(StoreSchema.migrate(migrated).migrationsExecuted).isZero();

    StoreDatabase old = database();
    TestStores.createOldSchema(old, true);
    List<String> expected = TestStores.describe(old);
    assertThat(expected).anyMatch(l -> l.contains("public.event_journal.ordering bigserial"))
        .anyMatch(l -> l.contains("state_tag_idx"));
    assertThat(TestStores.describe(migrated)).filteredOn(l -> !l.contains("bastion_audit.subject"))
        .containsExactlyElementsOf(expected);
  }

  @Test
  void adoptsADatabaseMadeByTheOldCode() throws Exception {
    StoreDatabase db = database();
    TestStores.createOldSchema(db, false);
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO bastion_audit (ts_ms, outcome, tool) VALUES (1000, 'ok', 'echo')");
    }
    List<String> before = TestStores.describe(db);

    MigrateResult result = StoreSchema.migrate(db);

    assertThat(result.migrationsExecuted).isEqualTo(4);
    assertThat(StoreSchemaTest.applied(db)).first().asString().startsWith("0 ");
    assertThat(StoreSchemaTest.count(db, "SELECT COUNT(*) FROM bastion_audit WHERE request_id IS NULL")).isEqualTo(1);
    List<String> after = TestStores.describe(db);
    assertThat(after).containsAll(before);
    assertThat(after).filteredOn(l -> !before.contains(l)).hasSize(2)
        .anyMatch(l -> l.contains("request_id")).anyMatch(l -> l.contains("subject"));
  }

  @Test
  void nodesStartingTogetherMigrateOnceWithoutErrors() throws Exception {
    StoreDatabase fresh = database();
    StoreDatabase old = database();
    TestStores.createOldSchema(old, false);
    for (StoreDatabase db : List.of(fresh, old)) {
      int nodes = 4;
      CyclicBarrier start = new CyclicBarrier(nodes);
      ExecutorService pool = Executors.newFixedThreadPool(nodes);
      try {
        List<CompletableFuture<MigrateResult>> runs = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
          runs.add(CompletableFuture.supplyAsync(() -> {
            try {
              start.await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
            return StoreSchema.migrate(db);
          }, pool));
        }
        int executed = 0;
        for (CompletableFuture<MigrateResult> r : runs) {
          executed += r.get(120, TimeUnit.SECONDS).migrationsExecuted;
        }
        assertThat(executed).as("migrations applied across all nodes").isEqualTo(4);
        assertThat(StoreSchema.flyway(db).info().current().getVersion().getVersion()).isEqualTo("4");
        assertThat(StoreSchema.flyway(db).info().applied()).hasSize(db == old ? 5 : 4);
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
