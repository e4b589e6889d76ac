package io.bastion.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The store's Flyway migrations on H2: a new store, a store made by the old code, and a second run. */
@Timeout(120)
class StoreSchemaTest {
  @TempDir
  Path dir;

  @Test
  void migratesAnEmptyStoreToTheCurrentVersion() throws Exception {
    StoreDatabase db = TestStores.h2(dir);
    MigrateResult result = StoreSchema.migrate(db);

    assertThat(result.migrationsExecuted).isEqualTo(4);
    assertThat(result.targetSchemaVersion).isEqualTo("4");
    assertThat(applied(db)).containsExactly("1 journal and snapshot", "2 audit", "3 audit request id",
        "4 audit subject");
    assertThat(count(db, "SELECT COUNT(*) FROM bastion_audit")).isZero();
    assertThat(count(db, "SELECT COUNT(*) FROM \"event_journal\"")).isZero();
  }

  @Test
  void aSecondRunChangesNothing() throws Exception {
    StoreDatabase db = TestStores.h2(dir);
    StoreSchema.migrate(db);
    MigrateResult again = StoreSchema.migrate(db);

    assertThat(again.migrationsExecuted).isZero();
    assertThat(again.initialSchemaVersion).isEqualTo("4");
  }

  @Test
  void producesTheSchemaPersistenceJdbcCreates() throws Exception {
    StoreDatabase old = TestStores.h2(dir.resolve("old"));
    TestStores.createOldSchema(old, true);
    StoreDatabase migrated = TestStores.h2(dir.resolve("new"));
    StoreSchema.migrate(migrated);

    List<String> expected = TestStores.describe(old);
    assertThat(expected).anyMatch(l -> l.contains("event_journal.ordering"))
        .anyMatch(l -> l.contains("BASTION_AUDIT.REQUEST_ID"));
    // V4 adds the OAuth subject column, which the old code never had.
    assertThat(TestStores.describe(migrated)).filteredOn(l -> !l.contains("BASTION_AUDIT.SUBJECT"))
        .containsExactlyElementsOf(expected);
    assertThat(TestStores.describe(migrated)).anyMatch(l -> l.contains("BASTION_AUDIT.SUBJECT"));
  }

  @Test
  void adoptsAStoreMadeByTheOldCodeKeepingItsRows() throws Exception {
    StoreDatabase db = TestStores.h2(dir);
    // A store from the first release of the audit table: no request_id column yet.
    TestStores.createOldSchema(db, false);
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"writer\", "
          + "\"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\") "
          + "VALUES ('p-1', 1, 'w', 1, '', X'00', 1, 'm')");
      st.execute("INSERT INTO bastion_audit (ts_ms, outcome, tool) VALUES (1000, 'ok', 'echo')");
    }
    List<String> before = TestStores.describe(db);

    MigrateResult result = StoreSchema.migrate(db);

    assertThat(result.migrationsExecuted).isEqualTo(4);
    assertThat(applied(db)).containsExactly("0 store created before Flyway (SchemaUtils and inline DDL)",
        "1 journal and snapshot", "2 audit", "3 audit request id", "4 audit subject");
    assertThat(count(db, "SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = 'p-1'")).isEqualTo(1);
    assertThat(count(db, "SELECT COUNT(*) FROM bastion_audit WHERE tool = 'echo' AND request_id IS NULL"))
        .isEqualTo(1);
    List<String> after = TestStores.describe(db);
    assertThat(after).containsAll(before);
    assertThat(after).filteredOn(l -> !before.contains(l)).hasSize(2)
        .anyMatch(l -> l.contains("BASTION_AUDIT.REQUEST_ID")).anyMatch(l -> l.contains("BASTION_AUDIT.SUBJECT"));
    StoreDatabase fresh = TestStores.h2(dir.resolve("fresh"));
    StoreSchema.migrate(fresh);
    assertThat(after).containsExactlyElementsOf(TestStores.describe(fresh));
  }

  @Test
  void adoptsAStoreThatAlreadyHasTheRequestIdColumn() throws Exception {
    StoreDatabase db = TestStores.h2(dir);
    TestStores.createOldSchema(db, true);
    List<String> before = TestStores.describe(db);

    assertThat(StoreSchema.migrate(db).targetSchemaVersion).isEqualTo("4");
    assertThat(TestStores.describe(db)).filteredOn(l -> !l.contains("BASTION_AUDIT.SUBJECT"))
        .containsExactlyElementsOf(before);
  }

  @Test
  void anOlderNodeStillStartsOnAStoreANewerOneMigrated() throws Exception {
    StoreDatabase db = TestStores.h2(dir);
    StoreSchema.migrate(db);
    // What a newer release would leave behind: a V99 this code does not know.
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO \"" + StoreSchema.HISTORY_TABLE + "\" (\"installed_rank\", \"version\", "
          + "\"description\", \"type\", \"script\", \"checksum\", \"installed_by\", \"execution_time\", "
          + "\"success\") VALUES (99, '99', 'from the future', 'SQL', 'V99__from_the_future.sql', 1, 'sa', 1, TRUE)");
    }

    MigrateResult result = StoreSchema.migrate(db);

    assertThat(result.migrationsExecuted).isZero();
    assertThat(result.initialSchemaVersion).isEqualTo("99");
  }

  @Test
  void refusesAnUnknownDatabase() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new StoreDatabase("jdbc:mysql://h/db", "u", "p"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jdbc:h2:");
  }

  static List<String> applied(StoreDatabase db) {
    List<String> out = new ArrayList<>();
    for (MigrationInfo i : StoreSchema.flyway(db).info().applied()) {
      out.add(i.getVersion() + " " + i.getDescription());
    }
    return out;
  }

  static long count(StoreDatabase db, String sql) throws SQLException {
    try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
