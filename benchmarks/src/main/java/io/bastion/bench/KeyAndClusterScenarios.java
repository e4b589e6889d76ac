package io.bastion.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bastion.config.BastionConfig;
import io.bastion.config.ClusterConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.node.BastionNode;
import io.bastion.node.governance.BudgetEntity;
import org.HdrHistogram.Histogram;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.Locale;
import java.util.Map;

/**
 * Scenario (7), the cost of governance (a key with a budget and a rate limit vs a key with none),
 * and scenario (4), a request entering a node that does not own the upstream (two clustered JVMs
 * on PostgreSQL). Each starts its own node(s) and stops them before the next scenario.
 */
final class KeyAndClusterScenarios {
  private KeyAndClusterScenarios() {}

  static final String UNLIMITED = "(7) key without limits";
  static final String LIMITED = "(7) key with budget + rate limit";
  static final String OWNER = "(4) entering the owner node";
  static final String NON_OWNER = "(4) entering the non-owner node";

  /** The label suffix of scenario (4)'s rows for an upstream with {@code failover} ("" for the default). */
  static String failoverSuffix(String failover) {
    return "default".equals(failover) ? "" : " (failover: " + failover + ")";
  }
  /** CPU columns of (4). */
  static final String OWNER_NODE = "owner node";
  static final String NON_OWNER_NODE = "non-owner node";

  /** p99 limit of the max-throughput-on-one-key search (issue 3 item 6). */
  static final double KEY_P99_LIMIT_US = 50_000;
  /** Calls the bench-exact key's budget has room for. */
  static final int EXACT_CALLS = 2_000;
  /** Asks kept outstanding by the admissions run (closed loop). */
  static final int ADMIT_CONCURRENCY = 64;

  /** PostgreSQL for scenario (4): trust auth on loopback, as the cluster tests use it. */
  static final String PG_HOST_PORT = System.getProperty("bench.pg", "127.0.0.1:5432");
  static final String PG_USER = System.getProperty("bench.pg.user", "postgres");
  static final String PG_PASSWORD = System.getProperty("bench.pg.password", "");

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the scenario needs from the run: options, scratch dir, driver, the mock (and its process), the report. */
  record Ctx(BenchmarkMain.Options o, Path work, LoadDriver driver, URI mock, ProcCpu.Proc mockProc,
      BenchmarkMain.Report report, Duration timeout) {
    HttpClient http() {
      return driver.client();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // (7) governance

  static void governance(Ctx c) throws Exception {
    BenchmarkMain.Options o = c.o();
    String unlimitedKey = "vk-bench-unlimited-" + random();
    String limitedKey = "vk-bench-limited-" + random();
    String admin = "bench-admin-" + random();
    String yaml = governanceYaml(c.mock(), unlimitedKey, limitedKey, admin, c.work().resolve("gov-data"));
    List<AutoCloseable> closers = new ArrayList<>();
    try {
      URI node = startSingle(c, "bastion-governance", yaml, closers);
      ProcCpu.Watch watch = BenchmarkMain.watch(o, List.of(ProcCpu.Proc.bastion(BenchmarkMain.BASTION, lastPid(closers)),
          c.mockProc()), BenchmarkMain.BASTION);
      List<String> unlimitedSessions = sessions(c, node, o.sessions, unlimitedKey);
      List<String> limitedSessions = sessions(c, node, o.sessions, limitedKey);
      Mcp.awaitTool(c.http(), node, "mock__echo", unlimitedSessions.get(0), Duration.ofSeconds(60), unlimitedKey);
      Mcp.awaitTool(c.http(), node, "mock__echo", limitedSessions.get(0), Duration.ofSeconds(60), limitedKey);
      LoadDriver.Call unlimited = Mcp.toolsCall(node, "mock__echo", unlimitedSessions, c.timeout(), unlimitedKey);
      LoadDriver.Call limited = Mcp.toolsCall(node, "mock__echo", limitedSessions, c.timeout(), limitedKey);

      // Both keys at the same rate at the same time, after a warm-up until the node's CPU per call settles.
      List<LoadDriver.Result> rs = c.driver().runTogether(List.of(unlimited, limited), o.govRate, o.bastionWarmup(),
          o.duration, watch);
      c.report().rows.add(new BenchmarkMain.Row(BenchmarkMain.GOV, UNLIMITED, rs.get(0), null));
      c.report().rows.add(new BenchmarkMain.Row(BenchmarkMain.GOV, LIMITED, rs.get(1), null));

      // Max constant rate on the limited key alone with no errors and p99 < 50 ms; the unlimited key
      // alone for reference (what the node and the box manage without the budget entity).
      double[] rates = o.smoke ? new double[] {20}
          : new double[] {250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 10000, 12000};
      Duration stepWarmup = o.smoke ? Duration.ofMillis(300) : o.stepWarmup;
      Duration stepDuration = o.smoke ? Duration.ofSeconds(1) : o.stepDuration;
      if (o.search || o.smoke) {
        var keys = o.smoke ? List.of(Map.entry(LIMITED, limited))
            : List.of(Map.entry(LIMITED, limited), Map.entry(UNLIMITED + " (reference)", unlimited));
        for (var t : keys) {
          List<LoadDriver.Result> steps = c.driver().searchMax(t.getValue(), rates, stepWarmup, stepDuration,
              KEY_P99_LIMIT_US, watch);
          c.report().keySearch.add(new BenchmarkMain.Row(BenchmarkMain.GOV, t.getKey(),
              LoadDriver.best(steps, KEY_P99_LIMIT_US), BenchmarkMain.describe(steps)));
        }
      }
      c.report().govNotes.add(charged(c, node, admin));
    } finally {
      closeAll(closers);
    }
    if (!o.inProcess) { // in-process runs already share the JVM; the admissions run is in-process by design
      admissions(c, governanceYaml(c.mock(), unlimitedKey, limitedKey, admin, c.work().resolve("admit-data")));
    }
  }

  /**
   * The key's own capacity: {@link BudgetEntity.Admit} asks on one key, as the governance gate
   * makes them, against a node started in this JVM (its sharding, its H2 journal with the
   * reservation writes and the per-second settles), without the HTTP legs that cap the
   * end-to-end runs on a 2-core box. Closed loop with {@value #ADMIT_CONCURRENCY} asks
   * outstanding. Then the exactness check: twice {@value #EXACT_CALLS} concurrent asks on a key
   * whose budget has room for exactly {@value #EXACT_CALLS}.
   */
  static void admissions(Ctx c, String yaml) throws Exception {
    BenchmarkMain.Options o = c.o();
    BastionNode.Running node = startInProcess(yaml, "bench-admissions");
    try {
      ClusterSharding sharding = ClusterSharding.get(node.system());
      EntityRef<BudgetEntity.Command> limited = sharding.entityRefFor(BudgetEntity.ENTITY_TYPE_KEY, "key:bench-limited");
      long cost = Math.round(0.0001 * 1e9);
      Duration warm = o.smoke ? Duration.ofMillis(500) : Duration.ofSeconds(5);
      Duration measure = o.smoke ? Duration.ofSeconds(1) : o.duration;
      admitLoop(limited, "bench-limited", cost, warm);
      Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
      long[] counts = admitLoop(limited, "bench-limited", cost, measure, h);
      double rate = counts[0] / (measure.toNanos() / 1e9);
      c.report().admissions.add(String.format(Locale.ROOT,
          "bench-limited (budget + rate limit): **%.0f admitted calls/s** over %d s, %d refused, %d failed asks;"
              + " ask latency p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d asks outstanding)",
          rate, measure.toSeconds(), counts[1], counts[2], h.getValueAtPercentile(50) / 1000.0,
          h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0, ADMIT_CONCURRENCY));
      c.report().admissionRate = rate;

      EntityRef<BudgetEntity.Command> exact = sharding.entityRefFor(BudgetEntity.ENTITY_TYPE_KEY, "key:bench-exact");
      List<CompletableFuture<BudgetEntity.Verdict>> all = new ArrayList<>();
      for (int i = 0; i < 2 * EXACT_CALLS; i++) {
        all.add(io.bastion.node.Stages.direct(exact.<BudgetEntity.Verdict>ask(
            r -> new BudgetEntity.Admit("bench-exact", "mock__echo", cost, r), Duration.ofSeconds(30))));
      }
      long admitted = 0;
      for (CompletableFuture<BudgetEntity.Verdict> f : all) {
        if (f.get(60, TimeUnit.SECONDS).admitted()) {
          admitted++;
        }
      }
      c.report().admissions.add(String.format(Locale.ROOT,
          "bench-exact (budget with room for exactly %d calls): %d of %d concurrent asks admitted (%s)",
          EXACT_CALLS, admitted, 2 * EXACT_CALLS, admitted == EXACT_CALLS ? "exact" : "NOT EXACT"));
      c.report().admissionExact = admitted == EXACT_CALLS;
    } finally {
      node.stop();
    }
  }

  private static long[] admitLoop(EntityRef<BudgetEntity.Command> ref, String key, long cost, Duration d) throws Exception {
    return admitLoop(ref, key, cost, d, null);
  }

  /** {admitted, refused, failed} over {@code d}, {@value #ADMIT_CONCURRENCY} asks outstanding. */
  private static long[] admitLoop(EntityRef<BudgetEntity.Command> ref, String key, long cost, Duration d,
      Histogram h) throws Exception {
    long end = System.nanoTime() + d.toNanos();
    java.util.concurrent.atomic.AtomicLong admitted = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(ADMIT_CONCURRENCY);
    for (int i = 0; i < ADMIT_CONCURRENCY; i++) {
      new Object() {
        void next() {
          if (System.nanoTime() >= end) {
            done.countDown();
            return;
          }
          long t0 = System.nanoTime();
          io.bastion.node.Stages.direct(ref.<BudgetEntity.Verdict>ask(
                  r -> new BudgetEntity.Admit(key, "mock__echo", cost, r), Duration.ofSeconds(10)))
              .whenComplete((v, err) -> {
                if (err != null) {
                  failed.incrementAndGet();
                } else if (v.admitted()) {
                  admitted.incrementAndGet();
                } else {
                  refused.incrementAndGet();
                }
                if (h != null) {
                  synchronized (h) {
                    h.recordValue(Math.min(h.getHighestTrackableValue(), (System.nanoTime() - t0) / 1000));
                  }
                }
                next(); // inline: the next ask is one tell from the replying thread
              });
        }
      }.next();
    }
    done.await(d.toSeconds() + 60, TimeUnit.SECONDS);
    return new long[] {admitted.get(), refused.get(), failed.get()};
  }

  /** What the audit summary says the limited key was charged: evidence the budget path really ran. */
  private static String charged(Ctx c, URI node, String admin) {
    try {
      Thread.sleep(1200); // the audit writer flushes in batches (audit.flush_interval 1s)
      HttpRequest req = HttpRequest.newBuilder(node.resolve("/api/v1/audit/summary?key=bench-limited"))
          .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + admin).GET().build();
      HttpResponse<String> r = c.http().send(req, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return "audit summary of the limited key: HTTP " + r.statusCode();
      }
      JsonNode s = JSON.readTree(r.body());
      return String.format(Locale.ROOT,
          "audit summary of the limited key after the runs: %d calls, %s USD charged to its budget (outcomes %s)",
          s.path("total").asLong(), s.path("costUsd").asText(), s.path("byOutcome"));
    } catch (Exception e) {
      return "audit summary of the limited key unavailable: " + e;
    }
  }

  static String governanceYaml(URI mock, String unlimitedKey, String limitedKey, String admin, Path data) {
    return """
        gateway:
          host: 127.0.0.1
          port: 0
        mcp:
          servers:
            - name: mock
              type: http
              url: "%1$s"
              pricing: {default: 0.0001}
        virtual_keys:
          - key_name: bench-unlimited
            key: %2$s
            mcp_clients:
              - name: mock
                allowed_tools: ["*"]
          # budget and rate limit far above what a run can reach: every check passes, none refuses
          - key_name: bench-limited
            key: %3$s
            mcp_clients:
              - name: mock
                allowed_tools: ["*"]
            budget: {max_usd: 1000000000, reset: 1M}
            rate_limit: {requests: 100000000, per: 1m}
          # room for exactly %6$d calls at 0.0001 USD: the admissions run checks that no more pass
          - key_name: bench-exact
            key: %2$s-exact
            mcp_clients:
              - name: mock
                allowed_tools: ["*"]
            budget: {max_usd: %7$s, reset: 1M}
        audit:
          flush_interval: 1s
        admin:
          token: %4$s
        store:
          type: h2
          data_dir: "%5$s"
        """.formatted(mock, unlimitedKey, limitedKey, admin, data.toAbsolutePath(), EXACT_CALLS,
            java.math.BigDecimal.valueOf(EXACT_CALLS).multiply(new java.math.BigDecimal("0.0001")).toPlainString());
  }

  // ---------------------------------------------------------------------------------------------
  // (4) entering a non-owner node

  static void cluster(Ctx c) throws Exception {
    for (String failover : c.o().clusterFailovers) {
      cluster(c, failover);
    }
  }

  /** Scenario (4) with the upstream's {@code failover} setting ("default": none written). */
  private static void cluster(Ctx c, String failover) throws Exception {
    BenchmarkMain.Options o = c.o();
    BenchmarkMain.Report report = c.report();
    String suffix = failoverSuffix(failover);
    if (o.inProcess) {
      skipCluster(report, suffix, "SKIPPED: needs two separate JVMs (not run with --in-process)");
      return;
    }
    String db = "bastion_bench_" + random().substring(0, 12);
    try {
      adminSql("CREATE DATABASE " + db);
    } catch (SQLException e) {
      skipCluster(report, suffix, "SKIPPED: PostgreSQL unreachable at " + PG_HOST_PORT + " (user " + PG_USER + "): "
          + oneLine(e.getMessage()));
      return;
    }
    List<AutoCloseable> closers = new ArrayList<>();
    try {
      int cp1 = Procs.freePort();
      int cp2 = Procs.freePort();
      while (cp2 == cp1) {
        cp2 = Procs.freePort();
      }
      Path yaml = c.work().resolve("bastion-cluster.yaml");
      Files.writeString(yaml, clusterYaml(c.mock(), db, failover));
      String seed = "127.0.0.1:" + cp1;
      URI n1 = startClusterNode(c, "bastion-node1", yaml, cp1, seed, closers);
      long pid1 = lastPid(closers);
      URI n2 = startClusterNode(c, "bastion-node2", yaml, cp2, seed, closers);
      long pid2 = lastPid(closers);
      String owner = awaitClusterReady(c.http(), n1, n2, Duration.ofSeconds(90));
      URI ownerNode;
      URI otherNode;
      if (owner.endsWith(":" + cp1)) {
        ownerNode = n1;
        otherNode = n2;
      } else if (owner.endsWith(":" + cp2)) {
        ownerNode = n2;
        otherNode = n1;
      } else {
        skipCluster(report, suffix, "SKIPPED: upstream owner " + owner + " is neither node (" + cp1 + ", " + cp2 + ")");
        return;
      }
      // Sessions opened on the node the calls enter (initialize on the non-owner too).
      List<String> ownerSessions = sessions(c, ownerNode, o.sessions, null);
      List<String> otherSessions = sessions(c, otherNode, o.sessions, null);
      Mcp.awaitTool(c.http(), ownerNode, "mock__echo", ownerSessions.get(0), Duration.ofSeconds(60));
      Mcp.awaitTool(c.http(), otherNode, "mock__echo", otherSessions.get(0), Duration.ofSeconds(60));
      LoadDriver.Call viaOwner = Mcp.toolsCall(ownerNode, "mock__echo", ownerSessions, c.timeout());
      LoadDriver.Call viaOther = Mcp.toolsCall(otherNode, "mock__echo", otherSessions, c.timeout());

      ProcCpu.Watch watch = ProcCpu.Watch.of(List.of(
          ProcCpu.Proc.bastion(OWNER_NODE, ownerNode == n1 ? pid1 : pid2),
          ProcCpu.Proc.bastion(NON_OWNER_NODE, ownerNode == n1 ? pid2 : pid1), c.mockProc()),
          OWNER_NODE, NON_OWNER_NODE);
      List<LoadDriver.Result> rs = c.driver().runTogether(List.of(viaOwner, viaOther), o.clusterRate, o.bastionWarmup(),
          o.duration, watch);
      String after = owner(c.http(), n1);
      String moved = owner.equals(after) ? null : "the upstream moved from " + owner + " to " + after
          + " during the run: the split is not clean";
      report.rows.add(new BenchmarkMain.Row(BenchmarkMain.CLUSTER, OWNER + suffix, rs.get(0), null));
      report.rows.add(new BenchmarkMain.Row(BenchmarkMain.CLUSTER, NON_OWNER + suffix, rs.get(1), null));
      report.clusterNotes.add("failover " + failover + ": upstream `mock` owned by " + owner + " (the " + (ownerNode == n1 ? "first" : "second")
          + " node), from `GET /api/v1/cluster`; checked again after the run" + (moved == null ? ": unchanged" : ": " + moved));
    } catch (Exception e) {
      skipCluster(report, suffix, "FAILED: " + oneLine(String.valueOf(e.getMessage())) + " (node logs in the scratch dir)");
      System.err.println("benchmark: scenario 4 failed: " + e);
    } finally {
      closeAll(closers);
      try {
        adminSql("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      } catch (SQLException e) {
        System.err.println("benchmark: could not drop database " + db + ": " + e.getMessage());
      }
    }
  }

  private static void skipCluster(BenchmarkMain.Report report, String suffix, String why) {
    report.rows.add(new BenchmarkMain.Row(BenchmarkMain.CLUSTER, OWNER + " / " + NON_OWNER + suffix, null, why));
  }

  static String clusterYaml(URI mock, String db, String failover) {
    return """
        gateway:
          host: 127.0.0.1
          port: 0
        mcp:
          servers:
            - name: mock
              type: http
              url: "%1$s"
        %6$s
        store:
          type: postgres
          url: jdbc:postgresql://%2$s/%3$s
          user: %4$s
          password: "%5$s"
        """.formatted(mock, PG_HOST_PORT, db, PG_USER, PG_PASSWORD,
        "default".equals(failover) ? "" : "      failover: " + failover);
  }

  private static URI startClusterNode(Ctx c, String name, Path yaml, int clusterPort, String seed,
      List<AutoCloseable> closers) throws IOException {
    String[] url = new String[1];
    closers.add(BenchmarkMain.startNodeJvm(c.o(), c.work(), name, yaml, List.of(), List.of(
        "--data", c.work().resolve(name + "-data").toString(),
        "--cluster-host", "127.0.0.1", "--cluster-port", Integer.toString(clusterPort), "--seed", seed), url));
    return URI.create(url[0]);
  }

  /** Waits until both nodes see two Up members and agree on a ready owner of {@code mock}; returns it. */
  private static String awaitClusterReady(HttpClient http, URI n1, URI n2, Duration max) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        JsonNode a = clusterView(http, n1);
        JsonNode b = clusterView(http, n2);
        String oa = upstreamOwner(a);
        String ob = upstreamOwner(b);
        last = "node1 " + a + " / node2 " + b;
        if (upMembers(a) == 2 && upMembers(b) == 2 && oa != null && oa.equals(ob)) {
          return oa;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(250);
    }
    throw new IOException("the two nodes did not form a cluster with a ready upstream within " + max + "; last: "
        + LoadDriver.abbreviate(last));
  }

  private static String owner(HttpClient http, URI node) {
    try {
      return upstreamOwner(clusterView(http, node));
    } catch (Exception e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  private static JsonNode clusterView(HttpClient http, URI node) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(node.resolve("/api/v1/cluster"))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET /api/v1/cluster answered " + r.statusCode());
    }
    return JSON.readTree(r.body());
  }

  private static int upMembers(JsonNode view) {
    int n = 0;
    for (JsonNode m : view.path("members")) {
      if ("Up".equalsIgnoreCase(m.path("status").asText())) {
        n++;
      }
    }
    return view.path("unreachable").size() == 0 ? n : -1;
  }

  private static String upstreamOwner(JsonNode view) {
    for (JsonNode u : view.path("upstreams")) {
      if ("mock".equals(u.path("name").asText()) && "ready".equals(u.path("state").asText())
          && !u.path("owner").asText().isEmpty()) {
        return u.path("owner").asText();
      }
    }
    return null;
  }

  private static void adminSql(String sql) throws SQLException {
    try (Connection conn = DriverManager.getConnection("jdbc:postgresql://" + PG_HOST_PORT + "/postgres?connectTimeout=5",
        PG_USER, PG_PASSWORD); Statement s = conn.createStatement()) {
      s.execute(sql);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** The pid of the node JVM started last among {@code closers}, or -1 (in-process). */
  private static long lastPid(List<AutoCloseable> closers) {
    for (int i = closers.size() - 1; i >= 0; i--) {
      if (closers.get(i) instanceof Procs.Child child) {
        return child.pid();
      }
    }
    return -1;
  }

  /** A node in this JVM from {@code yaml}, without Pekko Management (no fixed port to take). */
  private static BastionNode.Running startInProcess(String yaml, String name) {
    BastionConfig cfg = ConfigLoader.parse(yaml, Path.of(name + ".yaml"), Map.of());
    ClusterConfig.Management m = cfg.cluster().management();
    cfg = cfg.withCluster(cfg.cluster().withManagement(new ClusterConfig.Management(m.host(), m.port(), false)));
    return BenchmarkMain.startInProcess(cfg);
  }

  private static URI startSingle(Ctx c, String name, String yaml, List<AutoCloseable> closers) throws Exception {
    if (c.o().inProcess) {
      BastionNode.Running node = startInProcess(yaml, name);
      closers.add(node::stop);
      return URI.create(node.mcpUrl());
    }
    Path file = c.work().resolve(name + ".yaml");
    Files.writeString(file, yaml);
    String[] url = new String[1];
    closers.add(BenchmarkMain.startNodeJvm(c.o(), c.work(), name, file,
        List.of("-Dpekko.remote.artery.canonical.port=0"), List.of(), url));
    return URI.create(url[0]);
  }

  private static List<String> sessions(Ctx c, URI uri, int n, String key) throws Exception {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Mcp.open(c.http(), uri, c.timeout(), key));
    }
    return out;
  }

  private static void closeAll(List<AutoCloseable> closers) {
    for (int i = closers.size() - 1; i >= 0; i--) {
      try {
        closers.get(i).close();
      } catch (Exception ignored) {
        // best effort
      }
    }
  }

  private static String random() {
    byte[] b = new byte[12];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replace('\n', ' ').replace('|', '/');
  }
}
