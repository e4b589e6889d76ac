package io.bastion.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.AuditConfig;
import io.bastion.persistence.StoreDatabase;
import io.bastion.persistence.StoreSchema;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The audit store on a migrated H2 store: batched writes, then the queries the admin API serves. */
@Timeout(60)
class AuditLogTest {
  private static final AuditConfig CONFIG =
      new AuditConfig(AuditConfig.Arguments.FULL, 100, 3, Duration.ofMillis(50), List.of());

  @TempDir
  Path dir;
  StoreDatabase db;

  @BeforeEach
  void migrate() {
    db = new StoreDatabase("jdbc:h2:file:" + dir.resolve("bastion").toAbsolutePath() + ";DB_CLOSE_DELAY=-1",
        "sa", "");
    StoreSchema.migrate(db);
  }

  private static AuditRecord rec(long t, String key, String server, String tool, String outcome, double cost,
      String requestId) {
    return new AuditRecord(t, "127.0.0.1:25520", "s-1", key, "team-" + key, null, "client", "1.0", server, tool,
        "{\"q\":1}", outcome, AuditRecord.OK.equals(outcome) ? null : "why", 120, cost, 10, 20, requestId);
  }

  @Test
  void storesTheOAuthSubjectOfATokenCallAndNullForAKeyCall() throws Exception {
    AuditLog log = new AuditLog(db.url(), db.user(), db.password(), CONFIG);
    AuditRecord key = rec(1_000, "a", "fs", "read", AuditRecord.OK, 0, "r-1");
    AuditRecord token = new AuditRecord(2_000, "n", "s-2", "a", null, null, "c", "1", "fs", "read", null,
        AuditRecord.OK, null, 5, 0, 1, 1, "r-2", "ci-agent@example");
    log.record(key);
    log.record(token);
    log.close();

    AuditLog reader = new AuditLog(db, CONFIG);
    try {
      JsonNode records = get(reader.query(query("a", null, null, null, null, 100, 0))).get("records");
      assertThat(records.get(0).get("subject").asText()).isEqualTo("ci-agent@example");
      assertThat(records.get(1).get("subject").isNull()).isTrue();
    } finally {
      reader.close();
    }
  }

  @Test
  void aFullBatchIsWrittenAtOnceAndAPartialOneAtTheFlushIntervalOrAtClose() throws Exception {
    // An hour's flush interval: only a full batch (3 records) may be written while the log is open.
    AuditLog log = new AuditLog(db, new AuditConfig(AuditConfig.Arguments.FULL, 100, 3, Duration.ofHours(1), List.of()));
    log.record(rec(1_000, "a", "fs", "read", AuditRecord.OK, 0, "r-1"));
    log.record(rec(2_000, "a", "fs", "read", AuditRecord.OK, 0, "r-2"));
    Thread.sleep(300);
    assertThat(log.written()).as("a partial batch waits for the flush interval").isZero();
    log.record(rec(3_000, "a", "fs", "read", AuditRecord.OK, 0, "r-3"));
    log.record(rec(4_000, "a", "fs", "read", AuditRecord.OK, 0, "r-4"));
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (log.written() < 3 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(log.written()).as("the third record completed a batch: written without waiting the hour").isEqualTo(3);
    long closing = System.nanoTime();
    log.close();
    assertThat(log.written()).as("close writes the partial batch").isEqualTo(4);
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - closing)).as("close does not wait the hour").isLessThan(20);

    // With a short interval, a partial batch is written without close.
    AuditLog quick = new AuditLog(db, CONFIG);
    try {
      quick.record(rec(5_000, "b", "fs", "read", AuditRecord.OK, 0, "r-5"));
      until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (quick.written() < 1 && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertThat(quick.written()).isEqualTo(1);
    } finally {
      quick.close();
    }
  }

  @Test
  void writesRecordsInBatchesAndQueriesThemBack() throws Exception {
    AuditLog log = new AuditLog(db.url(), db.user(), db.password(), CONFIG);
    log.record(rec(1_000, "a", "fs", "read", AuditRecord.OK, 0.5, "r-1"));
    log.record(rec(2_000, "a", "fs", "write", AuditRecord.DENIED, 0, "r-2"));
    log.record(rec(3_000, "b", "git", "log", AuditRecord.OK, 0.25, "r-3"));
    log.record(rec(4_000, "b", "git", "log", AuditRecord.RATE_LIMITED, 0, "r-4"));
    log.record(rec(5_000, "a", "git", "diff", AuditRecord.OK, 1.0, "r-5"));
    log.close();
    assertThat(log.written()).isEqualTo(5);
    assertThat(log.queued()).isZero();
    assertThat(log.dropped()).isZero();

    // A fresh instance reads what the closed one wrote.
    AuditLog reader = new AuditLog(db, CONFIG);
    try {
      ObjectNode all = get(reader.query(query(null, null, null, null, null, 100, 0)));
      assertThat(all.get("total").asLong()).isEqualTo(5);
      JsonNode newest = all.get("records").get(0);
      assertThat(newest.get("time").asText()).isEqualTo("1970-01-01T00:00:05Z");
      assertThat(newest.get("keyName").asText()).isEqualTo("a");
      assertThat(newest.get("tool").asText()).isEqualTo("diff");
      assertThat(newest.get("requestId").asText()).isEqualTo("r-5");
      assertThat(newest.get("arguments").asText()).isEqualTo("{\"q\":1}");
      assertThat(newest.get("latencyUs").asLong()).isEqualTo(120);
      assertThat(newest.get("costUsd").asDouble()).isEqualTo(1.0);
      assertThat(newest.get("bytesIn").asLong()).isEqualTo(10);
      assertThat(newest.get("bytesOut").asLong()).isEqualTo(20);
      assertThat(newest.get("customer").isNull()).isTrue();

      ObjectNode keyA = get(reader.query(query("a", null, null, null, null, 100, 0)));
      assertThat(keyA.get("total").asLong()).isEqualTo(3);
      ObjectNode gitOk = get(reader.query(query(null, "git", AuditRecord.OK, null, null, 100, 0)));
      assertThat(gitOk.get("total").asLong()).isEqualTo(2);
      ObjectNode window = get(reader.query(query(null, null, null, 2_000L, 4_000L, 100, 0)));
      assertThat(window.get("total").asLong()).isEqualTo(2);
      ObjectNode page = get(reader.query(query(null, null, null, null, null, 2, 1)));
      assertThat(page.get("total").asLong()).isEqualTo(5);
      assertThat(page.get("records")).hasSize(2);
      assertThat(page.get("records").get(0).get("requestId").asText()).isEqualTo("r-4");

      ObjectNode summary = get(reader.summary(query(null, null, null, null, null, 100, 0)));
      assertThat(summary.get("total").asLong()).isEqualTo(5);
      assertThat(summary.get("costUsd").asDouble()).isEqualTo(1.75);
      assertThat(summary.get("byOutcome").get("ok").asLong()).isEqualTo(3);
      assertThat(summary.get("byServer").get("git").asLong()).isEqualTo(3);
      assertThat(summary.get("byTool").get("log").asLong()).isEqualTo(2);
      assertThat(summary.get("byKey").get("a").asLong()).isEqualTo(3);
      assertThat(summary.get("node").get("written").asLong()).isZero();
    } finally {
      reader.close();
    }
  }

  @Test
  void timeseriesCountsCallsAndCostPerBucketAndSeries() throws Exception {
    AuditLog log = new AuditLog(db.url(), db.user(), db.password(), CONFIG);
    log.record(rec(1_000, "a", "fs", "read", AuditRecord.OK, 0.5, "r-1"));
    log.record(rec(1_500, "a", "fs", "write", AuditRecord.DENIED, 0, "r-2"));
    log.record(rec(3_000, "b", "git", "log", AuditRecord.OK, 0.25, "r-3"));
    log.record(rec(5_000, "a", "git", "diff", AuditRecord.OK, 1.0, "r-5"));
    log.close();
    AuditLog reader = new AuditLog(db, CONFIG);
    try {
      ObjectNode byKey = get(reader.timeseries(query(null, null, null, null, null, 100, 0), 2_000, "key"));
      assertThat(byKey.get("bucketMs").asLong()).isEqualTo(2_000);
      assertThat(byKey.get("series")).hasSize(2);
      JsonNode a = byKey.get("series").get(0);
      assertThat(a.get("name").asText()).isEqualTo("a");
      // a: bucket 0 (t=1000, 1500: two calls, $0.5), bucket 4000 (t=5000: one call, $1).
      assertThat(a.get("points")).hasSize(2);
      assertThat(a.get("points").get(0).get("t").asLong()).isEqualTo(0);
      assertThat(a.get("points").get(0).get("calls").asLong()).isEqualTo(2);
      assertThat(a.get("points").get(0).get("costUsd").asDouble()).isEqualTo(0.5);
      assertThat(a.get("points").get(1).get("t").asLong()).isEqualTo(4_000);
      assertThat(a.get("points").get(1).get("costUsd").asDouble()).isEqualTo(1.0);
      assertThat(byKey.get("series").get(1).get("points").get(0).get("t").asLong()).isEqualTo(2_000);

      ObjectNode all = get(reader.timeseries(query(null, "git", null, null, null, 100, 0), 10_000, null));
      assertThat(all.get("series")).hasSize(1);
      assertThat(all.get("series").get(0).get("name").asText()).isEqualTo("all");
      assertThat(all.get("series").get(0).get("points").get(0).get("calls").asLong()).isEqualTo(2);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> reader.timeseries(
          query(null, null, null, null, null, 100, 0), 1_000, "arguments"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("by must be one of");
    } finally {
      reader.close();
    }
  }

  @Test
  void cutsOverlongValuesToTheColumnWidths() throws Exception {
    AuditLog log = new AuditLog(db, CONFIG);
    String huge = "x".repeat(150_000);
    log.record(new AuditRecord(1, "n", "s", "k", null, null, "c".repeat(300), null, "srv", "t".repeat(2_000),
        huge, AuditRecord.OK, null, 1, 0, 0, 0, "r".repeat(200)));
    log.close();
    AuditLog reader = new AuditLog(db, CONFIG);
    try {
      JsonNode r = get(reader.query(query(null, null, null, null, null, 10, 0))).get("records").get(0);
      assertThat(r.get("arguments").asText()).hasSize(100_000);
      assertThat(r.get("clientName").asText()).hasSize(255);
      assertThat(r.get("tool").asText()).hasSize(1_024);
      assertThat(r.get("requestId").asText()).hasSize(128);
    } finally {
      reader.close();
    }
  }

  @Test
  void refusesAStoreWithoutTheMigrations() {
    StoreDatabase empty = new StoreDatabase("jdbc:h2:mem:audit-unmigrated", "sa", "");
    assertThatThrownBy(() -> new AuditLog(empty, CONFIG)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("bastion_audit").hasMessageContaining("StoreSchema.migrate");
  }

  private static AuditLog.Query query(String key, String server, String outcome, Long from, Long to, int limit,
      int offset) {
    return new AuditLog.Query(key, null, null, server, null, outcome, from, to, limit, offset);
  }

  private static ObjectNode get(java.util.concurrent.CompletionStage<ObjectNode> s) throws Exception {
    return s.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
