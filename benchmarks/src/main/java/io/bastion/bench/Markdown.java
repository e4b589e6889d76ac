package io.bastion.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** Renders a {@link BenchmarkMain.Report} as the markdown results file. */
final class Markdown {
  private Markdown() {}

  static String render(BenchmarkMain.Report r, BenchmarkMain.Options o, String bastionMode, String loadStart,
      String loadEnd, double minutes) {
    StringBuilder b = new StringBuilder();
    b.append("# Bastion benchmark results").append(o.smoke ? " (SMOKE: numbers meaningless)" : "").append("\n\n");
    b.append("- date: ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append('\n');
    b.append("- commit: ").append(Procs.capture(Duration.ofSeconds(10), "git", "-C", BenchmarkMain.repoRoot().toString(),
        "rev-parse", "--short", "HEAD")).append('\n');
    b.append("- machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs (nproc), ")
        .append(memTotal()).append(" RAM, ").append(cpuModel()).append('\n');
    b.append("- java: ").append(System.getProperty("java.vm.name")).append(' ')
        .append(System.getProperty("java.runtime.version")).append('\n');
    String nginx = Procs.which("nginx") == null ? "not installed"
        : Procs.capture(Duration.ofSeconds(5), Procs.which("nginx"), "-v").replace("nginx version: ", "");
    b.append("- nginx: ").append(nginx).append(" (1 worker, upstream keepalive)").append('\n');
    b.append("- Bastion: ").append(bastionMode).append(", default JVM flags")
        .append(o.bastionJvmOpts.isEmpty() ? "" : " plus " + String.join(" ", o.bastionJvmOpts)).append('\n');
    b.append("- mock upstream: ").append(o.inProcess ? "in the driver's JVM" : "its own JVM")
        .append(" (Netty, 1 event loop, 0 ms latency, 64-byte payload)\n");
    b.append("- load: constant arrival rate, latency from the intended send time (coordinated omission corrected), ")
        .append(String.format(Locale.ROOT, "%s, %.1f s measured, %d sessions round-robin, ≤ %d connections per stream,"
                + " Netty HTTP/1.1 keep-alive, one event loop",
            warmupPolicy(o), o.duration.toMillis() / 1000.0, o.sessions, o.maxInFlight)).append('\n');
    b.append(String.format(Locale.ROOT, "- CPU per call: utime + stime of each process from /proc/<pid>/stat (all threads;"
        + " nginx master + workers; a gateway's stdio child in \"stdio mock\"), sampled at the start and end of the measured"
        + " window, divided by the calls completed in it; clock tick %d ms%n", ProcCpu.TICK_NS / 1_000_000));
    b.append("- **shared box**: other engineers' builds and tests ran on the same 2 cores. Load average (1/5/15 min) at start `")
        .append(loadStart).append("`, at end `").append(loadEnd).append("`. Compare ratios, not absolute figures.\n");
    b.append(String.format(Locale.ROOT, "- run took %.1f min; load generator, mock, nginx and Bastion all share the machine%n%n", minutes));

    table(b, r, BenchmarkMain.CALL, "(1) direct → mock", "(2) nginx proxy_pass → mock",
        String.format(Locale.ROOT, "## tools/call through an HTTP upstream, %.0f req/s each", o.rate));
    added(b, r);
    table(b, r, BenchmarkMain.STDIO, null, null,
        String.format(Locale.ROOT, "## tools/call to a stdio upstream, %.0f req/s, one session", o.stdioRate));
    table(b, r, BenchmarkMain.INIT, "(6) direct → mock initialize", null,
        String.format(Locale.ROOT, "## initialize, %.0f new sessions/s", o.initRate));
    governance(b, r, o);
    cluster(b, r, o);
    if (!r.search.isEmpty()) {
      b.append("## Max throughput with p99 < 10 ms and no errors\n\n");
      b.append(String.format(Locale.ROOT, "Stepped rates, %.1f s warm-up + %.1f s per step; stops at the first step with p99 ≥ 10 ms or errors.%n%n",
          o.stepWarmup.toMillis() / 1000.0, o.stepDuration.toMillis() / 1000.0));
      b.append("| scenario | best rate (req/s) | achieved | p50 ms | p99 ms | × direct | × nginx | CPU µs/call at the best step | steps |\n");
      b.append("|---|---:|---:|---:|---:|---:|---:|---|---|\n");
      LoadDriver.Result direct = find(r.search, "(1) direct → mock");
      LoadDriver.Result ng = find(r.search, "(2) nginx proxy_pass → mock");
      for (BenchmarkMain.Row row : r.search) {
        LoadDriver.Result x = row.result();
        if (x == null) {
          b.append("| ").append(row.scenario()).append(" | none met the limit | | | | | | | ").append(row.note()).append(" |\n");
          continue;
        }
        b.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %s | %s | %s | %s | %s | %s |%n", row.scenario(), x.rate(),
            x.achievedRps(), ms(x.p50()), ms(x.p99()),
            BenchmarkMain.CALL.equals(row.section()) ? ratio(x.achievedRps(), direct == null ? 0 : direct.achievedRps()) : "",
            BenchmarkMain.CALL.equals(row.section()) ? ratio(x.achievedRps(), ng == null ? 0 : ng.achievedRps()) : "",
            cpuInline(x.usage()), row.note()));
      }
      LoadDriver.Result bs = find(r.search, "(5) Bastion → stdio mock");
      LoadDriver.Result sg = find(r.search, "(5) supergateway 4.0.0 → stdio mock");
      if (bs != null && sg != null) {
        b.append(String.format(Locale.ROOT, "%nstdio: Bastion sustains **%s** supergateway's rate at p99 < 10 ms (target ≥ 3×).%n",
            ratio(bs.achievedRps(), sg.achievedRps())));
      }
      b.append('\n');
    }
    if (!r.memory.isEmpty()) {
      b.append("## Memory (Bastion heap)\n\n| measure | value | how |\n|---|---:|---|\n");
      r.memory.forEach(l -> b.append(l).append('\n'));
      b.append('\n');
    }
    b.append("""
        ## How to read this
        - Latencies are in milliseconds, from when each request *should* have been sent at the constant rate to
          when its full answer arrived, so queueing in the driver counts against the system under test.
        - "× direct" / "× nginx" divide this row's p50 by the p50 of the direct / nginx row of the same table;
          "added" subtracts the direct p50: that is what one hop costs.
        - Every row of a table ran in this same invocation, one after the other, on the same machine, except
          (7) and (4): their two rows ran *at the same time*, so they share the same noise.
        - (7): limited / unlimited p50 is what the budget + rate-limit check costs per call (target ≤ 1.2×);
          the one-key search is the highest constant rate with no errors and p99 < 50 ms (target ≥ 5,000/s).
        - (4): extra p50 = non-owner p50 − owner p50, the cost of the hop to the node that runs the upstream
          (target ≤ 300 µs).
        - "<process> µs/call": CPU time (user + system, all threads, JIT and GC included) that process used per
          call completed in the measured window, from /proc/<pid>/stat. Less sensitive to a busy box than
          latency: compare Bastion's figure with nginx's, the mock's and the driver's. "all" × rate = cores used.
          In (7) and (4) the two rows share one measurement (per call of both streams).
        - "warm-up": unrecorded load before the window; "settled" when the subject's CPU per call was stable
          between two slices, "max" if it never was within the maximum.
        """);
    return b.toString();
  }

  private static void table(StringBuilder b, BenchmarkMain.Report r, String section, String directName,
      String nginxName, String title) {
    List<BenchmarkMain.Row> rows = r.rows.stream().filter(x -> x.section().equals(section)).toList();
    if (rows.isEmpty()) {
      return;
    }
    LoadDriver.Result direct = directName == null ? null : find(rows, directName);
    LoadDriver.Result ng = nginxName == null ? null : find(rows, nginxName);
    b.append(title).append("\n\n");
    List<String> labels = cpuLabels(rows);
    boolean ctx = rows.stream().anyMatch(x -> x.result() != null && !x.result().usage().cpu().ctx().isEmpty());
    b.append("| scenario | ok | errors | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | p50 × direct | p50 × nginx |");
    labels.forEach(l -> b.append(' ').append(l).append(" µs/call |"));
    b.append(" all µs/call |").append(ctx ? " Bastion ctx sw/call | of which Bastion's JIT µs/call |" : "")
        .append(" warm-up |\n");
    b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|").append("---:|".repeat(labels.size() + 1))
        .append(ctx ? "---:|---:|" : "").append("---|\n");
    double worst = 0;
    for (BenchmarkMain.Row row : rows) {
      LoadDriver.Result x = row.result();
      if (x == null) {
        b.append("| ").append(row.scenario()).append(" | ").append(row.note()).append(" |")
            .append(" |".repeat(11 + labels.size() + (ctx ? 2 : 0))).append('\n');
        continue;
      }
      b.append(String.format(Locale.ROOT, "| %s | %d | %d | %.0f | %s | %s | %s | %s | %s | %s | %s |", row.scenario(),
          x.ok(), x.errors(), x.achievedRps(), ms(x.p50()), ms(x.p90()), ms(x.p99()), ms(x.p999()), ms(x.max()),
          direct == null ? "" : ratio(x.p50(), direct.p50()), ng == null ? "" : ratio(x.p50(), ng.p50())));
      b.append(cpuCells(x.usage(), labels, ctx)).append('\n');
      worst = Math.max(worst, x.usage().cpu().resolutionMicros());
    }
    if (rows.stream().anyMatch(x -> x.result() != null)) {
      b.append(String.format(Locale.ROOT, "%nCPU per call of each process over the measured window (µs; resolution"
          + " ±%.1f µs per figure or better: one clock tick over the window's calls)%s; warm-up: how long until the"
          + " CPU per call of %s settled (or the maximum).%n", worst,
          rows.stream().filter(x -> x.result() != null).map(x -> x.result().usage()).distinct().count()
              < rows.stream().filter(x -> x.result() != null).count()
              ? ". **The rows ran at the same time through the same processes: their CPU figures are one"
                  + " measurement, per call of both streams together**" : "",
          rows.stream().filter(x -> x.result() != null).map(x -> String.join(" + ", x.result().usage().subject()))
              .distinct().collect(java.util.stream.Collectors.joining(" / "))));
    }
    for (BenchmarkMain.Row row : rows) {
      if (row.result() != null && row.result().firstError() != null) {
        b.append("\nfirst error of ").append(row.scenario()).append(": `").append(row.result().firstError()).append("`\n");
      }
    }
    b.append('\n');
  }

  /** Scenario (7): both keys side by side, the ratio, and the max-throughput-on-one-key search. */
  private static void governance(StringBuilder b, BenchmarkMain.Report r, BenchmarkMain.Options o) {
    if (r.rows.stream().noneMatch(x -> x.section().equals(BenchmarkMain.GOV))) {
      return;
    }
    table(b, r, BenchmarkMain.GOV, null, null, String.format(Locale.ROOT,
        "## (7) Governance: a key with budget + rate limit vs a key without, one node, %.0f req/s each at the same time",
        o.govRate));
    LoadDriver.Result u = find(r.rows, KeyAndClusterScenarios.UNLIMITED);
    LoadDriver.Result l = find(r.rows, KeyAndClusterScenarios.LIMITED);
    if (u != null && l != null) {
      b.append(String.format(Locale.ROOT,
          "Limited / unlimited: p50 **%s** (target ≤ 1.2×; %+.0f µs), p99 %s (%+.0f µs).%n%n",
          ratio(l.p50(), u.p50()), l.p50() - u.p50(), ratio(l.p99(), u.p99()), l.p99() - u.p99()));
    }
    r.govNotes.forEach(n -> b.append("- ").append(n).append('\n'));
    if (!r.govNotes.isEmpty()) {
      b.append('\n');
    }
    if (!r.keySearch.isEmpty()) {
      b.append(String.format(Locale.ROOT, "### Max throughput on one key: no errors and p99 < %.0f ms%n%n",
          KeyAndClusterScenarios.KEY_P99_LIMIT_US / 1000));
      b.append("Each key alone, stepped constant rates; stops at the first step with p99 ≥ 50 ms or any error.\n\n");
      b.append("| key | best rate (calls/s) | achieved | p50 ms | p99 ms | CPU µs/call at the best step | steps |\n"
          + "|---|---:|---:|---:|---:|---|---|\n");
      for (BenchmarkMain.Row row : r.keySearch) {
        LoadDriver.Result x = row.result();
        if (x == null) {
          b.append("| ").append(row.scenario()).append(" | none met the limit | | | | | ").append(row.note()).append(" |\n");
        } else {
          b.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %s | %s | %s | %s |%n", row.scenario(), x.rate(),
              x.achievedRps(), ms(x.p50()), ms(x.p99()), cpuInline(x.usage()), row.note()));
        }
      }
      LoadDriver.Result best = find(r.keySearch, KeyAndClusterScenarios.LIMITED);
      b.append(String.format(Locale.ROOT, "%nLimited key, end to end over HTTP: **%s calls/s** sustained"
              + " (driver, mock and node share the 2 cores; the unlimited key's row shows what the node manages"
              + " without any budget ask).%n%n",
          best == null ? "none" : String.format(Locale.ROOT, "%.0f", best.achievedRps())));
    }
    if (!r.admissions.isEmpty()) {
      b.append("### Admissions on one key: the key's BudgetEntity alone (node in the driver's JVM)\n\n");
      b.append("What one key can authorize per second on one node, without the HTTP legs: `BudgetEntity.Admit`"
          + " asks as the governance gate makes them (rate-limit check, budget check, charge, reservation"
          + " writes to the H2 journal every 100 calls, a settle per second), closed loop.\n\n");
      r.admissions.forEach(n -> b.append("- ").append(n).append('\n'));
      if (r.admissionRate >= 0) {
        b.append(String.format(Locale.ROOT, "%nAuthorized calls/s on one key (target ≥ 5,000): **%.0f** — %s.%n%n",
            r.admissionRate, r.admissionRate >= 5000 ? "met" : "not met"));
      }
    }
  }

  /** Scenario (4): the same rate into the owner and into the non-owner node, and the extra p50. */
  private static void cluster(StringBuilder b, BenchmarkMain.Report r, BenchmarkMain.Options o) {
    if (r.rows.stream().noneMatch(x -> x.section().equals(BenchmarkMain.CLUSTER))) {
      return;
    }
    table(b, r, BenchmarkMain.CLUSTER, null, null, String.format(Locale.ROOT,
        "## (4) Entering a node that does not own the upstream: 2 clustered JVMs on PostgreSQL, %.0f req/s into each at the same time",
        o.clusterRate));
    for (String failover : o.clusterFailovers) {
      String suffix = KeyAndClusterScenarios.failoverSuffix(failover);
      LoadDriver.Result own = find(r.rows, KeyAndClusterScenarios.OWNER + suffix);
      LoadDriver.Result other = find(r.rows, KeyAndClusterScenarios.NON_OWNER + suffix);
      if (own != null && other != null) {
        b.append(String.format(Locale.ROOT,
            "Extra p50 for entering the non-owner node (failover: %s): **%.0f µs** (target ≤ 300 µs); p99 %+.0f µs;"
                + " p50 ratio %s.%n%n", failover, other.p50() - own.p50(), other.p99() - own.p99(),
            ratio(other.p50(), own.p50())));
      }
    }
    r.clusterNotes.forEach(n -> b.append("- ").append(n).append('\n'));
    if (!r.clusterNotes.isEmpty()) {
      b.append('\n');
    }
  }

  private static void added(StringBuilder b, BenchmarkMain.Report r) {
    LoadDriver.Result d = find(r.rows, "(1) direct → mock");
    LoadDriver.Result n = find(r.rows, "(2) nginx proxy_pass → mock");
    LoadDriver.Result x = find(r.rows, "(3) Bastion → mock");
    if (d == null || x == null) {
      return;
    }
    double bastionAdds = x.p50() - d.p50();
    b.append(String.format(Locale.ROOT, "Added p50 over direct: Bastion **%.0f µs**", bastionAdds));
    if (n != null) {
      double nginxAdds = n.p50() - d.p50();
      b.append(String.format(Locale.ROOT, ", nginx %.0f µs: Bastion adds **%s** what nginx adds (target ≤ 2×)",
          nginxAdds, ratio(bastionAdds, nginxAdds)));
    }
    b.append(".\n\n");
    Double bc = x.usage().cpu().cpuMicros().get(BenchmarkMain.BASTION);
    Double nc = n == null ? null : n.usage().cpu().cpuMicros().get(BenchmarkMain.NGINX);
    if (bc != null) {
      b.append(String.format(Locale.ROOT, "CPU per call: Bastion **%.0f µs**", bc));
      if (nc != null) {
        b.append(String.format(Locale.ROOT, ", nginx %.0f µs: **%s** nginx's (target ≤ 2×; and ≤ 150 µs at 2,000 calls/s)",
            nc, ratio(bc, nc)));
      }
      b.append(".\n\n");
    }
  }

  /** The CPU columns of a table: every process label of its rows, in order of appearance. */
  private static List<String> cpuLabels(List<BenchmarkMain.Row> rows) {
    java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
    for (BenchmarkMain.Row row : rows) {
      if (row.result() != null) {
        out.addAll(row.result().usage().cpu().cpuMicros().keySet());
      }
    }
    // the driver last, whatever the order the rows had
    if (out.remove(ProcCpu.DRIVER)) {
      out.add(ProcCpu.DRIVER);
    }
    return List.copyOf(out);
  }

  private static String cpuCells(LoadDriver.Usage u, List<String> labels, boolean ctx) {
    StringBuilder b = new StringBuilder();
    for (String l : labels) {
      Double v = u.cpu().cpuMicros().get(l);
      b.append(' ').append(v == null ? "" : String.format(Locale.ROOT, "%.0f", v)).append(" |");
    }
    b.append(String.format(Locale.ROOT, " %.0f |", u.cpu().total()));
    if (ctx) {
      double c = u.cpu().ctx().values().stream().mapToDouble(Double::doubleValue).sum();
      b.append(u.cpu().ctx().isEmpty() ? " |" : String.format(Locale.ROOT, " %.1f |", c));
      double j = u.cpu().jitMicros().values().stream().mapToDouble(Double::doubleValue).sum();
      b.append(u.cpu().jitMicros().isEmpty() ? " |" : String.format(Locale.ROOT, " %.0f |", j));
    }
    b.append(' ').append(warmup(u)).append(" |");
    return b.toString();
  }

  /** "Bastion 95 · mock 20 · driver 15" (µs per call). */
  static String cpuInline(LoadDriver.Usage u) {
    StringBuilder b = new StringBuilder();
    u.cpu().cpuMicros().forEach((l, v) -> b.append(b.length() == 0 ? "" : " · ")
        .append(String.format(Locale.ROOT, "%s %.0f", l, v)));
    u.cpu().ctx().forEach((l, v) -> b.append(String.format(Locale.ROOT, " · %s ctx sw %.1f", l, v)));
    u.cpu().jitMicros().forEach((l, v) -> b.append(String.format(Locale.ROOT, " · %s JIT %.0f", l, v)));
    return b.toString();
  }

  private static String warmup(LoadDriver.Usage u) {
    return String.format(Locale.ROOT, "%.1f s %s", u.warmupSeconds(), u.warmupEnd());
  }

  private static String warmupPolicy(BenchmarkMain.Options o) {
    LoadDriver.Warmup w = o.warmup();
    if (w.isFixed()) {
      return String.format(Locale.ROOT, "warm-up %.1f s discarded", w.min().toMillis() / 1000.0);
    }
    return String.format(Locale.ROOT, "warm-up discarded, in %.1f s slices until the subject's CPU per call differs"
            + " by < %.0f %% between two slices (min %.1f s, max %.1f s)", w.slice().toMillis() / 1000.0,
        w.tolerance() * 100, w.min().toMillis() / 1000.0, w.max().toMillis() / 1000.0)
        + (o.burst.isZero() ? "" : String.format(Locale.ROOT, "; runs of Bastion below %.0f calls/s"
            + " per stream first run %d s at %.0f/s, unrecorded, so the JIT has compiled the hot path",
            o.burstRate, o.burst.toSeconds(), o.burstRate));
  }

  static LoadDriver.Result find(List<BenchmarkMain.Row> rows, String scenario) {
    return rows.stream().filter(x -> x.scenario().equals(scenario) && x.result() != null)
        .map(BenchmarkMain.Row::result).findFirst().orElse(null);
  }

  static String ms(double micros) {
    return String.format(Locale.ROOT, "%.3f", micros / 1000.0);
  }

  static String ratio(double a, double b) {
    return b <= 0 ? "n/a" : String.format(Locale.ROOT, "%.2f×", a / b);
  }

  private static String memTotal() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (l.startsWith("MemTotal:")) {
          long kb = Long.parseLong(l.replaceAll("\\D+", ""));
          return String.format(Locale.ROOT, "%.1f GiB", kb / 1048576.0);
        }
      }
    } catch (Exception ignored) {
      // fall through
    }
    return "? GiB";
  }

  private static String cpuModel() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (Exception ignored) {
      // fall through
    }
    return "unknown CPU";
  }
}
