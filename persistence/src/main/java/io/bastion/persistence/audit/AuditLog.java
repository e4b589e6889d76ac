package io.bastion.persistence.audit;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import io.bastion.config.AuditConfig;
import io.bastion.persistence.StoreDatabase;
import io.bastion.persistence.StoreSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-local audit writer: {@link #record} puts a record on a bounded queue (never blocks a
 * caller); one writer thread takes up to {@code batch_size} records at a time, waiting at most
 * {@code flush_interval} for a batch to fill, and inserts them in one JDBC batch into
 * {@code bastion_audit} on the node's store (the same H2 file or PostgreSQL database as the
 * journal, through its own connection). When the queue is full the record is dropped and counted
 * ({@link #dropped()}, a WARN line at most every 10 s, and {@code dropped} in the summary).
 * While the store is unreachable the writer keeps its batch and retries with backoff, so a store
 * outage costs no record unless it outlasts the queue ({@link #write}).
 * {@link #close()} drains the queue and writes everything before returning.
 *
 * <p>The table belongs to the store's migrations ({@code db/migration/<vendor>/V2__audit.sql} and
 * later, run by {@link StoreSchema}); this class only checks at construction that it is there.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
  /** The width of {@code bastion_audit.arguments} (V2__audit.sql); longer arguments are cut. */
  private static final int MAX_ARGUMENTS_CHARS = 100_000;
  static final String TABLE = "bastion_audit";
  private static final String COLUMNS = "ts_ms, node, session_id, key_name, team, customer, client_name, "
      + "client_version, server, tool, arguments, outcome, error_type, latency_us, cost_usd, bytes_in, bytes_out, request_id, subject";

  private final StoreDatabase db;
  private final AuditConfig config;
  private final ArrayBlockingQueue<AuditRecord> queue;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile long lastDropLog;
  private volatile boolean closing;
  /** The writer is parked on an empty queue: the next {@link #record} wakes it. */
  private volatile boolean idle;
  private final Thread writer;
  private final ExecutorService queries = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "bastion-audit-query");
    t.setDaemon(true);
    return t;
  });
  private Connection connection;

  public AuditLog(String url, String user, String password, AuditConfig config) {
    this(new StoreDatabase(url, user, password), config);
  }

  /** The audit log on {@code db}, whose schema {@link StoreSchema#migrate} has brought up to date. */
  public AuditLog(StoreDatabase db, AuditConfig config) {
    this.db = db;
    this.config = config;
    this.queue = new ArrayBlockingQueue<>(config.queueSize());
    try (Connection c = connect(); Statement st = c.createStatement()) {
      st.executeQuery("SELECT " + COLUMNS + " FROM " + TABLE + " WHERE 1=0").close();
    } catch (SQLException e) {
      throw new IllegalStateException("the audit table " + TABLE + " is missing or incomplete (the store's "
          + "migrations create it: StoreSchema.migrate): " + e.getMessage(), e);
    }
    this.writer = new Thread(this::run, "bastion-audit-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /** The audit log on the store the journal uses ({@code pekko-persistence-jdbc.shared-databases.bastion.db}). */
  public static AuditLog forStore(Config root, AuditConfig config) {
    return new AuditLog(StoreDatabase.fromConfig(root), config);
  }

  private Connection connect() throws SQLException {
    return db.connect();
  }

  /** Queues a record; drops (and counts) it when the queue is full. Never blocks. */
  public void record(AuditRecord r) {
    if (queue.offer(r)) {
      if (idle || queue.size() >= config.batchSize()) {
        LockSupport.unpark(writer);
      }
    } else {
      LockSupport.unpark(writer);
      long n = dropped.incrementAndGet();
      long now = System.currentTimeMillis();
      if (now - lastDropLog > 10_000) {
        lastDropLog = now;
        LOG.warn("audit queue full ({} records): dropped {} audit records so far", config.queueSize(), n);
      }
    }
  }

  public long dropped() {
    return dropped.get();
  }

  /** Records waiting for the writer. */
  public int queued() {
    return queue.size();
  }

  public long written() {
    return written.get();
  }

  /**
   * The writer's loop. It is woken once per batch, not once per record: while the queue is empty it
   * parks until {@link #record} queues the first record of a batch (or {@link #close}); then it
   * parks until the flush interval has passed, or until {@code record} sees a full batch queued, or
   * until {@code close}. (Waiting on the queue itself would wake it, and make the recording thread
   * pay a wake-up, for every record: at 2,000 calls/s that was one context switch per call on each
   * side.) It is never interrupted: an interrupt would close H2's file channel under a write.
   */
  private void run() {
    List<AuditRecord> batch = new ArrayList<>(config.batchSize());
    long interval = TimeUnit.MILLISECONDS.toNanos(Math.max(1, config.flushInterval().toMillis()));
    while (true) {
      try {
        AuditRecord first = queue.poll();
        if (first == null) {
          if (closing) {
            return;
          }
          idle = true;
          if (queue.isEmpty() && !closing) {
            LockSupport.parkNanos(this, interval);
          }
          idle = false;
          continue;
        }
        batch.add(first);
        long deadline = System.nanoTime() + interval;
        while (!closing && queue.size() + 1 < config.batchSize()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          LockSupport.parkNanos(this, left);
        }
        queue.drainTo(batch, config.batchSize() - 1);
        write(batch);
        batch.clear();
      } catch (RuntimeException e) {
        LOG.error("audit writer: unexpected failure", e);
        batch.clear();
      }
    }
  }

  /**
   * Writes one batch. While the store is unreachable (a connection-class failure: SQL state 08xxx
   * or 57Pxx, or a connection exception), the batch is kept and tried again with backoff (100 ms
   * doubling to 5 s) until the store is back: the queue buffers new records meanwhile and drops
   * them (counted) only once full. Any other failure, or an outage while closing, is tried three
   * times; then the batch is given up and counted as failed.
   */
  private void write(List<AuditRecord> batch) {
    long backoff = 100;
    boolean outage = false;
    for (int attempt = 1; ; attempt++) {
      try {
        if (connection == null || connection.isClosed()) {
          connection = connect();
        }
        connection.setAutoCommit(false);
        try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + TABLE + " (" + COLUMNS
            + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
          for (AuditRecord r : batch) {
            int i = 1;
            ps.setLong(i++, r.timeMillis());
            ps.setString(i++, r.node());
            ps.setString(i++, r.sessionId());
            ps.setString(i++, r.keyName());
            ps.setString(i++, r.team());
            ps.setString(i++, r.customer());
            ps.setString(i++, cut(r.clientName(), 255));
            ps.setString(i++, cut(r.clientVersion(), 255));
            ps.setString(i++, r.server());
            ps.setString(i++, cut(r.tool(), 1024));
            ps.setString(i++, cut(r.arguments(), MAX_ARGUMENTS_CHARS));
            ps.setString(i++, r.outcome());
            ps.setString(i++, cut(r.errorType(), 255));
            ps.setLong(i++, r.latencyMicros());
            ps.setDouble(i++, r.costUsd());
            ps.setLong(i++, r.bytesIn());
            ps.setLong(i++, r.bytesOut());
            ps.setString(i++, cut(r.requestId(), 128));
            ps.setString(i++, cut(r.subject(), 255));
            ps.addBatch();
          }
          ps.executeBatch();
        }
        connection.commit();
        written.addAndGet(batch.size());
        if (outage) {
          LOG.info("audit writer: the store is back; writing the buffered records ({} still queued)", queue.size());
        }
        return;
      } catch (SQLException e) {
        try {
          if (connection != null) {
            connection.close();
          }
        } catch (SQLException ignored) {
          // reconnect next time
        }
        connection = null;
        if (isOutage(e) && !closing) {
          if (!outage) {
            LOG.warn("audit writer: the store is unreachable ({}); keeping {} records, {} queued, retrying",
                e.getMessage(), batch.size(), queue.size());
            outage = true;
          }
          try {
            Thread.sleep(backoff);
          } catch (InterruptedException ie) {
            // closing: the next attempt is one of the last three
          }
          backoff = Math.min(backoff * 2, 5_000);
          attempt = 0;
          continue;
        }
        LOG.warn("audit writer: writing {} records failed (attempt {}): {}", batch.size(), attempt, e.getMessage());
        if (attempt >= 3) {
          failed.addAndGet(batch.size());
          LOG.error("audit writer: gave up on {} records ({} lost so far)", batch.size(), failed.get());
          return;
        }
      }
    }
  }

  /** Whether {@code e} says the store cannot be reached (rather than that the batch is wrong). */
  static boolean isOutage(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLTransientConnectionException
          || t instanceof java.sql.SQLNonTransientConnectionException
          || t instanceof java.sql.SQLRecoverableException
          || t instanceof java.io.IOException) {
        return true;
      }
      if (t instanceof SQLException s && s.getSQLState() != null
          && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P"))) {
        return true;
      }
    }
    return false;
  }

  private static String cut(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max);
  }

  /** Writes everything queued so far and stops the writer (graceful stop). */
  @Override
  public void close() {
    closing = true;
    LockSupport.unpark(writer);
    try {
      writer.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      if (connection != null) {
        connection.close();
      }
    } catch (SQLException ignored) {
      // closing anyway
    }
    queries.shutdown();
    LOG.info("audit log closed: {} records written, {} dropped, {} failed", written.get(), dropped.get(), failed.get());
  }

  // ------------------------------------------------------------------ queries

  /** Filters of {@code GET /api/v1/audit}; null fields do not filter. */
  public record Query(String key, String team, String customer, String server, String tool, String outcome,
      Long fromMillis, Long toMillis, int limit, int offset) {}

  private record Where(String sql, List<Object> args) {}

  private static Where where(Query q) {
    StringBuilder sb = new StringBuilder(" WHERE 1=1");
    List<Object> args = new ArrayList<>();
    Map<String, String> eq = new LinkedHashMap<>();
    eq.put("key_name", q.key());
    eq.put("team", q.team());
    eq.put("customer", q.customer());
    eq.put("server", q.server());
    eq.put("tool", q.tool());
    eq.put("outcome", q.outcome());
    eq.forEach((col, v) -> {
      if (v != null) {
        sb.append(" AND ").append(col).append(" = ?");
        args.add(v);
      }
    });
    if (q.fromMillis() != null) {
      sb.append(" AND ts_ms >= ?");
      args.add(q.fromMillis());
    }
    if (q.toMillis() != null) {
      sb.append(" AND ts_ms < ?");
      args.add(q.toMillis());
    }
    return new Where(sb.toString(), args);
  }

  public CompletionStage<ObjectNode> query(Query q) {
    return CompletableFuture.supplyAsync(() -> {
      Where w = where(q);
      try (Connection c = connect()) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + TABLE + w.sql())) {
          bind(ps, w.args());
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            body.put("total", rs.getLong(1));
          }
        }
        body.put("limit", q.limit()).put("offset", q.offset());
        ArrayNode rows = body.putArray("records");
        try (PreparedStatement ps = c.prepareStatement("SELECT id, " + COLUMNS + " FROM " + TABLE + w.sql()
            + " ORDER BY ts_ms DESC, id DESC LIMIT ? OFFSET ?")) {
          List<Object> args = new ArrayList<>(w.args());
          args.add(q.limit());
          args.add(q.offset());
          bind(ps, args);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              ObjectNode o = rows.addObject();
              o.put("id", rs.getLong("id"));
              o.put("time", Instant.ofEpochMilli(rs.getLong("ts_ms")).toString());
              for (String col : List.of("node", "session_id", "key_name", "team", "customer", "client_name",
                  "client_version", "server", "tool", "arguments", "outcome", "error_type", "request_id", "subject")) {
                o.put(camel(col), rs.getString(col));
              }
              o.put("latencyUs", rs.getLong("latency_us"));
              o.put("costUsd", rs.getDouble("cost_usd"));
              o.put("bytesIn", rs.getLong("bytes_in"));
              o.put("bytesOut", rs.getLong("bytes_out"));
            }
          }
        }
        return body;
      } catch (SQLException e) {
        throw new IllegalStateException("audit query failed: " + e.getMessage(), e);
      }
    }, queries);
  }

  /** Counts by outcome, server and tool (same filters, paging ignored). */
  public CompletionStage<ObjectNode> summary(Query q) {
    return CompletableFuture.supplyAsync(() -> {
      Where w = where(q);
      try (Connection c = connect()) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), COALESCE(SUM(cost_usd), 0) FROM "
            + TABLE + w.sql())) {
          bind(ps, w.args());
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            body.put("total", rs.getLong(1)).put("costUsd", rs.getDouble(2));
          }
        }
        for (String[] g : new String[][] {{"byOutcome", "outcome"}, {"byServer", "server"}, {"byTool", "tool"},
            {"byKey", "key_name"}}) {
          ObjectNode m = body.putObject(g[0]);
          try (PreparedStatement ps = c.prepareStatement("SELECT " + g[1] + ", COUNT(*) FROM " + TABLE + w.sql()
              + " GROUP BY " + g[1] + " ORDER BY 2 DESC")) {
            bind(ps, w.args());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                String k = rs.getString(1);
                m.put(k == null ? "(none)" : k, rs.getLong(2));
              }
            }
          }
        }
        body.putObject("node").put("queued", queue.size()).put("written", written.get())
            .put("dropped", dropped.get()).put("failed", failed.get());
        return body;
      } catch (SQLException e) {
        throw new IllegalStateException("audit summary failed: " + e.getMessage(), e);
      }
    }, queries);
  }

  /** The columns {@link #timeseries} may split by. */
  public static final Map<String, String> SERIES_BY = Map.of("key", "key_name", "server", "server", "tool", "tool",
      "team", "team", "customer", "customer", "outcome", "outcome");

  /**
   * Calls and cost per time bucket of {@code bucketMillis}, split by {@code by} (a key of {@link
   * #SERIES_BY}, or null for one series named {@code all}); same filters as {@link #query}, paging
   * ignored. Answers {@code {bucketMs, by, series: [{name, points: [{t, calls, costUsd}]}]}} with
   * points in time order (empty buckets are absent).
   */
  public CompletionStage<ObjectNode> timeseries(Query q, long bucketMillis, String by) {
    if (bucketMillis < 1) {
      throw new IllegalArgumentException("bucket must be positive");
    }
    String col = by == null ? null : SERIES_BY.get(by);
    if (by != null && col == null) {
      throw new IllegalArgumentException("by must be one of " + new java.util.TreeSet<>(SERIES_BY.keySet()));
    }
    return CompletableFuture.supplyAsync(() -> {
      Where w = where(q);
      String bucket = "(ts_ms / " + bucketMillis + ") * " + bucketMillis;
      String group = col == null ? "'all'" : col;
      String sql = "SELECT " + bucket + " AS b, " + group + " AS g, COUNT(*), COALESCE(SUM(cost_usd), 0) FROM "
          + TABLE + w.sql() + " GROUP BY " + bucket + ", " + group + " ORDER BY 1";
      try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
        bind(ps, w.args());
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("bucketMs", bucketMillis);
        body.put("by", by);
        Map<String, ArrayNode> series = new java.util.TreeMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String name = rs.getString(2) == null ? "(none)" : rs.getString(2);
            series.computeIfAbsent(name, n -> JsonNodeFactory.instance.arrayNode()).addObject()
                .put("t", rs.getLong(1)).put("calls", rs.getLong(3)).put("costUsd", rs.getDouble(4));
          }
        }
        ArrayNode arr = body.putArray("series");
        series.forEach((name, points) -> arr.addObject().put("name", name).set("points", points));
        return body;
      } catch (SQLException e) {
        throw new IllegalStateException("audit timeseries failed: " + e.getMessage(), e);
      }
    }, queries);
  }

  private static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      Object a = args.get(i);
      if (a instanceof String s) {
        ps.setString(i + 1, s);
      } else if (a instanceof Long l) {
        ps.setLong(i + 1, l);
      } else if (a instanceof Integer n) {
        ps.setInt(i + 1, n);
      } else {
        ps.setNull(i + 1, Types.VARCHAR);
      }
    }
  }

  private static String camel(String col) {
    StringBuilder sb = new StringBuilder();
    boolean up = false;
    for (char ch : col.toCharArray()) {
      if (ch == '_') {
        up = true;
      } else {
        sb.append(up ? Character.toUpperCase(ch) : ch);
        up = false;
      }
    }
    return sb.toString();
  }
}
