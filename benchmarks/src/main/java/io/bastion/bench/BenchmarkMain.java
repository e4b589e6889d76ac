package io.bastion.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.GatewayConfig;
import io.bastion.config.ServerConfig;
import io.bastion.config.StoreConfig;
import io.bastion.config.TransportType;
import io.bastion.node.BastionNode;
import io.bastion.node.NodeConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Runs the benchmark scenarios side by side in one invocation and writes a markdown report.
 *
 * <pre>
 * BenchmarkMain [--smoke] [--scenarios direct,nginx,bastion,stdio,init,governance,cluster,memory]
 *               [--in-process] [--rate R] [--gov-rate R] [--cluster-rate R] [--duration S] [--no-search]
 *               [--warmup S | --warmup-min S --warmup-max S --warmup-slice S]
 *               [--sessions N] [--memory-sessions N] [--bastion-jvm-opts "..."] [--out FILE]
 * </pre>
 */
public final class BenchmarkMain {
  static final List<String> ALL = List.of("direct", "nginx", "bastion", "stdio", "init", "governance", "cluster",
      "memory");
  static final double P99_LIMIT_US = 10_000;

  /** Command-line options. */
  public static final class Options {
    boolean smoke;
    Set<String> scenarios = new LinkedHashSet<>(ALL);
    boolean inProcess;
    double rate = 300;
    double stdioRate = 300;
    double initRate = 200;
    // (7) and (4) run two streams at the same time: at half of --rate each the node(s) carry the
    // same total as scenario (3), so neither is measured deep in a queue on 2 cores.
    double govRate = 150;
    double clusterRate = 150;
    // Scenario (4) runs once per value: the upstream's failover setting ("default": none written,
    // so standby for the HTTP mock; active_active: every node calls it over its own connection).
    List<String> clusterFailovers = List.of("default", "active_active");
    // A freshly started JVM needs a few thousand calls before the JIT settles (sequential
    // tools/call through Bastion: p50 ~6 ms after 300 calls, ~2 ms after 3,000 on this box), so
    // each run warms up until the subject's CPU per call is stable from one slice to the next.
    Duration warmupMin = Duration.ofSeconds(5);
    Duration warmupMax = Duration.ofSeconds(60);
    Duration warmupSlice = Duration.ofMillis(2500);
    double warmupTolerance = 0.10;
    // Runs of Bastion below ~1,000 calls/s ((3) at --rate, (7), (4)) start with this burst, so
    // their settle measures a compiled node ({@link LoadDriver.Warmup}); 0 turns it off.
    Duration burst = Duration.ofSeconds(20);
    double burstRate = 1000;
    Duration duration = Duration.ofSeconds(10);
    Duration stepWarmup = Duration.ofMillis(1500);
    Duration stepDuration = Duration.ofSeconds(3);
    boolean search = true;
    int sessions = 8;
    int maxInFlight = 128;
    // 20,000: the heap after a full GC moves by ~1 MB between runs, ±500 B per session at 2,000.
    int memorySessions = 20_000;
    List<String> bastionJvmOpts = new ArrayList<>();
    List<String> mockJvmOpts = new ArrayList<>();
    Path out;

    /** A few seconds per scenario at tiny rates, for CI. */
    public static Options smoke() {
      Options o = new Options();
      o.applySmoke();
      return o;
    }

    void applySmoke() {
      smoke = true;
      rate = 50;
      stdioRate = 50;
      initRate = 20;
      govRate = 50;
      clusterRate = 50;
      warmupMin = Duration.ofMillis(500);
      warmupMax = Duration.ofMillis(1500);
      warmupSlice = Duration.ofMillis(500);
      burst = Duration.ZERO;
      duration = Duration.ofSeconds(2);
      search = false;
      sessions = 2;
      memorySessions = 50;
    }

    LoadDriver.Warmup warmup() {
      return new LoadDriver.Warmup(warmupMin, warmupMax, warmupSlice, warmupTolerance);
    }

    /** {@link #warmup()} after a burst at {@code burstRate} per stream: for runs of Bastion nodes. */
    LoadDriver.Warmup bastionWarmup() {
      return warmup().withBurst(burstRate, burst);
    }

    public Options scenarios(String... names) {
      scenarios = new LinkedHashSet<>(List.of(names));
      return this;
    }

    public Options inProcess(boolean v) {
      inProcess = v;
      return this;
    }

    public Options out(Path p) {
      out = p;
      return this;
    }

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--smoke" -> o.applySmoke();
          case "--scenarios" -> o.scenarios = new LinkedHashSet<>(Arrays.asList(args[++i].split(",")));
          case "--in-process" -> o.inProcess = true;
          case "--rate" -> o.rate = Double.parseDouble(args[++i]);
          case "--stdio-rate" -> o.stdioRate = Double.parseDouble(args[++i]);
          case "--init-rate" -> o.initRate = Double.parseDouble(args[++i]);
          case "--gov-rate" -> o.govRate = Double.parseDouble(args[++i]);
          case "--cluster-rate" -> o.clusterRate = Double.parseDouble(args[++i]);
          case "--cluster-failover" -> o.clusterFailovers = List.of(args[++i].split(","));
          case "--warmup" -> o.warmupMin = o.warmupMax = seconds(args[++i]);
          case "--warmup-min" -> o.warmupMin = seconds(args[++i]);
          case "--warmup-max" -> o.warmupMax = seconds(args[++i]);
          case "--warmup-slice" -> o.warmupSlice = seconds(args[++i]);
          case "--burst" -> o.burst = seconds(args[++i]);
          case "--burst-rate" -> o.burstRate = Double.parseDouble(args[++i]);
          case "--duration" -> o.duration = Duration.ofMillis((long) (Double.parseDouble(args[++i]) * 1000));
          case "--no-search" -> o.search = false;
          case "--sessions" -> o.sessions = Integer.parseInt(args[++i]);
          case "--max-in-flight" -> o.maxInFlight = Integer.parseInt(args[++i]);
          case "--memory-sessions" -> o.memorySessions = Integer.parseInt(args[++i]);
          case "--bastion-jvm-opts" -> o.bastionJvmOpts = java.util.Arrays.stream(args[++i].trim().split("\\s+"))
              .filter(opt -> !opt.isEmpty()).toList(); // "" passes nothing, not an empty argument
          case "--mock-jvm-opts" -> o.mockJvmOpts = List.of(args[++i].trim().split("\\s+"));
          case "--out" -> o.out = Path.of(args[++i]);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (o.warmupMax.compareTo(o.warmupMin) < 0) {
        o.warmupMax = o.warmupMin;
      }
      for (String s : o.scenarios) {
        if (!ALL.contains(s)) {
          throw new IllegalArgumentException("unknown scenario " + s + "; known: " + ALL);
        }
      }
      return o;
    }

    private static Duration seconds(String s) {
      return Duration.ofMillis((long) (Double.parseDouble(s) * 1000));
    }
  }

  /** One line of a table: a measured result, or a skipped scenario with the reason. */
  public record Row(String section, String scenario, LoadDriver.Result result, String note) {
    public boolean skipped() {
      return result == null;
    }
  }

  /** Everything one invocation measured. */
  public static final class Report {
    public final List<Row> rows = new ArrayList<>();
    public final List<Row> search = new ArrayList<>();
    /** Max constant rate on one key with no errors and p99 &lt; 50 ms (scenario 7). */
    public final List<Row> keySearch = new ArrayList<>();
    public final List<String> govNotes = new ArrayList<>();
    /** Scenario (7)'s in-process admissions run: lines, the rate on bench-limited, whether bench-exact was exact. */
    public final List<String> admissions = new ArrayList<>();
    public double admissionRate = -1;
    public boolean admissionExact;
    public final List<String> clusterNotes = new ArrayList<>();
    public final List<String> memory = new ArrayList<>();
    public final List<String> notes = new ArrayList<>();
    String markdown;

    public Row row(String section, String scenario) {
      return rows.stream().filter(r -> r.section().equals(section) && r.scenario().equals(scenario))
          .findFirst().orElse(null);
    }

    public String markdown() {
      return markdown;
    }
  }

  static final String CALL = "tools/call, HTTP upstream";
  static final String STDIO = "tools/call, stdio upstream";
  static final String INIT = "initialize (new session)";
  static final String GOV = "governance";
  static final String CLUSTER = "non-owner node";
  static final Pattern READY = Pattern.compile("Bastion ready: MCP endpoint (\\S+)");

  private BenchmarkMain() {}

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("benchmark: " + e.getMessage());
      System.exit(2);
      return;
    }
    Report r = run(o);
    System.out.println(r.markdown());
    System.exit(0);
  }

  public static Report run(Options o) throws Exception {
    Report report = new Report();
    Path root = repoRoot();
    Path work = Files.createTempDirectory("bastion-bench-");
    String loadStart = loadAvg();
    long t0 = System.nanoTime();
    List<AutoCloseable> closers = new ArrayList<>();
    Duration timeout = Duration.ofSeconds(10);
    String bastionMode = o.inProcess ? "in-process (same JVM as the load driver)" : "separate JVM (io.bastion.node.Main, as ./bastion runs it)";
    try (LoadDriver driver = new LoadDriver(o.maxInFlight, timeout)) {
      HttpClient http = driver.client();
      boolean wantsBastion = o.scenarios.contains("bastion") || o.scenarios.contains("stdio")
          || o.scenarios.contains("init") || o.scenarios.contains("memory");
      boolean wantsMock = wantsBastion || o.scenarios.contains("direct") || o.scenarios.contains("nginx")
          || o.scenarios.contains("governance") || o.scenarios.contains("cluster");

      // The mock upstream: its own JVM unless in-process.
      String mockUrl = null;
      long mockPid = -1;
      if (wantsMock) {
        if (o.inProcess) {
          MockUpstream m = MockUpstream.startHttp(0, 0, 64, 1);
          closers.add(m);
          mockUrl = m.url();
        } else {
          String[] url = new String[1];
          List<String> jvm = new ArrayList<>(MOCK_JVM);
          jvm.addAll(o.mockJvmOpts);
          Procs.Child m = Procs.start("mock", Procs.javaCmd(jvm, MockUpstream.class.getName(),
              "--threads", "1"), work.resolve("mock.log"), Pattern.compile("listening on (\\S+)"),
              Duration.ofSeconds(30), url);
          closers.add(m);
          mockPid = m.pid();
          mockUrl = url[0];
        }
      }
      ProcCpu.Proc mockProc = ProcCpu.Proc.of(MOCK, mockPid);
      URI mock = mockUrl == null ? null : URI.create(mockUrl);

      // nginx in front of the mock.
      URI nginx = null;
      long nginxPid = -1;
      String nginxSkip = null;
      if (o.scenarios.contains("nginx")) {
        if (Procs.which("nginx") == null) {
          nginxSkip = "SKIPPED: nginx not installed (apt-get install -y nginx)";
        } else {
          int port = Procs.freePort();
          Path prefix = Files.createDirectories(work.resolve("nginx"));
          Files.createDirectories(prefix.resolve("logs"));
          Path conf = prefix.resolve("nginx.conf");
          Files.writeString(conf, nginxConf(port, mock.getPort(), prefix));
          Procs.Child n = Procs.start("nginx", List.of(Procs.which("nginx"), "-p", prefix.toString(), "-c",
              conf.toString(), "-g", "daemon off;"), work.resolve("nginx.log"), null, null, null);
          closers.add(n);
          nginxPid = n.pid();
          nginx = URI.create("http://127.0.0.1:" + port + "/mcp");
          waitOpen(http, nginx, Duration.ofSeconds(15));
        }
      }

      // One Bastion node fronting the mock over HTTP and (for scenario 5) the mock over stdio.
      URI bastion = null;
      long bastionPid = -1;
      long idleHeap = -1;
      boolean stdio = o.scenarios.contains("stdio");
      if (wantsBastion) {
        List<String> stdioCmd = Procs.javaCmd(List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
            MockUpstream.class.getName(), "--stdio");
        List<ServerConfig> servers = new ArrayList<>();
        servers.add(ServerConfig.remote("mock", TransportType.HTTP, mock));
        if (stdio) {
          servers.add(ServerConfig.stdio("stdiomock", stdioCmd));
        }
        if (o.inProcess) {
          BastionNode.Running node = startInProcess(servers, work.resolve("data"));
          closers.add(node::stop);
          bastion = URI.create(node.mcpUrl());
        } else {
          Path yaml = work.resolve("bastion.yaml");
          Files.writeString(yaml, bastionYaml(mock, stdio ? stdioCmd : null));
          String[] url = new String[1];
          Procs.Child node = startNodeJvm(o, work, "bastion", yaml, List.of("-Dpekko.remote.artery.canonical.port=0"),
              List.of("--data", work.resolve("data").toString()), url);
          closers.add(node);
          bastionPid = node.pid();
          bastion = URI.create(url[0]);
        }
        String sid = Mcp.open(http, bastion, timeout);
        Mcp.awaitTool(http, bastion, "mock__echo", sid, Duration.ofSeconds(60));
        if (stdio) {
          Mcp.awaitTool(http, bastion, "stdiomock__echo", sid, Duration.ofSeconds(60));
        }
        if (o.scenarios.contains("memory")) {
          idleHeap = heap(o, bastionPid);
        }
      }

      // (1)-(3): the same tools/call at the same constant rate.
      List<Target> targets = new ArrayList<>();
      ProcCpu.Proc bastionProc = ProcCpu.Proc.bastion(BASTION, bastionPid);
      if (o.scenarios.contains("direct")) {
        targets.add(new Target("(1) direct → mock", mock, "echo", watch(o, List.of(mockProc), MOCK)));
      }
      if (o.scenarios.contains("nginx")) {
        if (nginx == null) {
          report.rows.add(new Row(CALL, "(2) nginx proxy_pass → mock", null, nginxSkip));
        } else {
          targets.add(new Target("(2) nginx proxy_pass → mock", nginx, "echo",
              watch(o, List.of(ProcCpu.Proc.tree(NGINX, nginxPid), mockProc), NGINX)));
        }
      }
      if (o.scenarios.contains("bastion")) {
        targets.add(new Target("(3) Bastion → mock", bastion, "mock__echo",
            watch(o, List.of(bastionProc, mockProc), BASTION)));
      }
      // Each run warms up until its subject's CPU per call has settled (driver, mock, nginx and
      // Bastion JIT), so no scenario pays for another's cold start.
      for (Target t : targets) {
        LoadDriver.Call call = Mcp.toolsCall(t.uri, t.tool, sessions(http, t.uri, o.sessions, timeout), timeout);
        LoadDriver.Warmup warmup = t.uri.equals(bastion) ? o.bastionWarmup() : o.warmup();
        report.rows.add(new Row(CALL, t.name, driver.run(call, o.rate, warmup, o.duration, t.watch), null));
      }
      if (o.search) {
        for (Target t : targets) {
          LoadDriver.Call call = Mcp.toolsCall(t.uri, t.tool, sessions(http, t.uri, o.sessions, timeout), timeout);
          List<LoadDriver.Result> steps = driver.searchMax(call, SEARCH_RATES, o.stepWarmup, o.stepDuration,
              P99_LIMIT_US, t.watch);
          report.search.add(new Row(CALL, t.name, LoadDriver.best(steps, P99_LIMIT_US), describe(steps)));
        }
      }

      // (5) stdio upstream: Bastion vs supergateway fronting the same stdio server.
      if (stdio) {
        List<Target> st = new ArrayList<>();
        st.add(new Target("(5) Bastion → stdio mock", bastion, "stdiomock__echo",
            watch(o, List.of(bastionProc, ProcCpu.Proc.children(STDIO_MOCK, bastionPid)), BASTION)));
        Path sg = root.resolve("benchmarks/tools/node_modules/.bin/supergateway");
        if (Files.isExecutable(sg) && Procs.which("node") != null) {
          int port = Procs.freePort();
          String cmd = String.join(" ", Procs.javaCmd(List.of("-Xmx128m", "-XX:+UseSerialGC",
              "-XX:TieredStopAtLevel=1"), MockUpstream.class.getName(), "--stdio"));
          Procs.Child sgChild = Procs.start("supergateway", List.of(sg.toString(), "--stdio", cmd, "--outputTransport",
                  "streamableHttp", "--stateful", "--port", Integer.toString(port), "--logLevel", "info"),
              work.resolve("supergateway.log"), null, null, null);
          closers.add(sgChild);
          URI sgUri = URI.create("http://127.0.0.1:" + port + "/mcp");
          waitOpen(http, sgUri, Duration.ofSeconds(30));
          st.add(new Target("(5) supergateway 4.0.0 → stdio mock", sgUri, "echo", watch(o,
              List.of(ProcCpu.Proc.of(SUPERGATEWAY, sgChild.pid()), ProcCpu.Proc.children(STDIO_MOCK, sgChild.pid())),
              SUPERGATEWAY)));
        } else {
          report.rows.add(new Row(STDIO, "(5) supergateway 4.0.0 → stdio mock", null,
              "SKIPPED: supergateway not installed (cd benchmarks/tools && npm ci)"));
        }
        for (Target t : st) {
          // one session each: supergateway --stateful starts one stdio child per session
          LoadDriver.Call call = Mcp.toolsCall(t.uri, t.tool, sessions(http, t.uri, 1, timeout), timeout);
          report.rows.add(new Row(STDIO, t.name, driver.run(call, o.stdioRate, o.warmup(), o.duration, t.watch), null));
        }
        report.rows.add(new Row(STDIO, "(5) mcp-proxy 6.7.19 → stdio mock", null,
            "NOT RUN: installed by benchmarks/tools but not wired into the harness yet"));
        if (o.search) {
          for (Target t : st) {
            LoadDriver.Call call = Mcp.toolsCall(t.uri, t.tool, sessions(http, t.uri, 1, timeout), timeout);
            List<LoadDriver.Result> steps = driver.searchMax(call, SEARCH_RATES, o.stepWarmup, o.stepDuration,
                P99_LIMIT_US, t.watch);
            report.search.add(new Row(STDIO, t.name, LoadDriver.best(steps, P99_LIMIT_US), describe(steps)));
          }
        }
      }

      // (6) initialize: a new session per request.
      if (o.scenarios.contains("init")) {
        report.rows.add(new Row(INIT, "(6) direct → mock initialize", driver.run(Mcp.initialize(mock, timeout),
            o.initRate, o.warmup(), o.duration, watch(o, List.of(mockProc), MOCK)), null));
        report.rows.add(new Row(INIT, "(6) Bastion initialize", driver.run(Mcp.initialize(bastion, timeout),
            o.initRate, o.warmup(), o.duration, watch(o, List.of(bastionProc, mockProc), BASTION)), null));
      }

      // (7) governance and (4) non-owner node: each starts its own node(s) and stops them after.
      KeyAndClusterScenarios.Ctx ctx = new KeyAndClusterScenarios.Ctx(o, work, driver, mock, mockProc, report,
          timeout);
      if (o.scenarios.contains("governance")) {
        KeyAndClusterScenarios.governance(ctx);
      }
      if (o.scenarios.contains("cluster")) {
        KeyAndClusterScenarios.cluster(ctx);
      }

      // (8) memory: heap at idle, and per idle session.
      if (o.scenarios.contains("memory")) {
        long before = heap(o, bastionPid);
        for (int i = 0; i < o.memorySessions; i++) {
          Mcp.open(http, bastion, timeout);
        }
        long after = heap(o, bastionPid);
        String scope = o.inProcess ? "whole test JVM (driver + mock + node): indicative only" : "Bastion JVM only, via jcmd GC.run + GC.heap_info";
        report.memory.add(String.format(Locale.ROOT, "| heap used at idle (after start, upstream connected, GC) | %s | %s |",
            mb(idleHeap), scope));
        report.memory.add(String.format(Locale.ROOT, "| heap used after the load runs (GC) | %s | %s |", mb(before), scope));
        report.memory.add(String.format(Locale.ROOT, "| heap used with %d more idle sessions (GC) | %s | %s |",
            o.memorySessions, mb(after), scope));
        report.memory.add(String.format(Locale.ROOT, "| **heap per idle session** | **%s** | (after − before) / %d |",
            before < 0 || after < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f B", (after - before) / (double) o.memorySessions),
            o.memorySessions));
      }
    } finally {
      for (int i = closers.size() - 1; i >= 0; i--) {
        try {
          closers.get(i).close();
        } catch (Exception ignored) {
          // best effort
        }
      }
    }
    String loadEnd = loadAvg();
    double minutes = (System.nanoTime() - t0) / 60e9;
    report.markdown = Markdown.render(report, o, bastionMode, loadStart, loadEnd, minutes);
    Path out = o.out != null ? o.out : defaultOut(root, o);
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, report.markdown);
    report.notes.add("written to " + out);
    System.err.println("benchmark: results written to " + out);
    deleteTree(work);
    return report;
  }

  record Target(String name, URI uri, String tool, ProcCpu.Watch watch) {}

  /**
   * JVM flags of the HTTP mock's own JVM: one GC thread, and a heap committed and touched up front
   * so the kernel does not zero fresh pages during the measured runs (seen in {@code perf}).
   */
  static final List<String> MOCK_JVM = List.of("-Xms256m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:+AlwaysPreTouch");

  /** Column labels of the CPU figures. */
  static final String BASTION = "Bastion";
  static final String NGINX = "nginx";
  static final String MOCK = "mock";
  static final String SUPERGATEWAY = "supergateway";
  static final String STDIO_MOCK = "stdio mock";

  /**
   * Max-throughput steps: up to and past the 5,000 calls/s through one node; stops at the
   * first step that misses p99 &lt; 10 ms or has an error.
   */
  static final double[] SEARCH_RATES = {100, 250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 10000,
      12000, 15000};

  /** The processes of a run, plus the driver; {@code subject} is what the warm-up waits for. */
  static ProcCpu.Watch watch(Options o, List<ProcCpu.Proc> procs, String... subject) {
    return o.inProcess ? ProcCpu.Watch.inProcess() : ProcCpu.Watch.of(procs, subject);
  }

  private static List<String> sessions(HttpClient http, URI uri, int n, Duration timeout) throws Exception {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Mcp.open(http, uri, timeout));
    }
    return out;
  }

  private static long heap(Options o, long pid) {
    return o.inProcess || pid < 0 ? Procs.localHeapUsedAfterGc() : Procs.remoteHeapUsedAfterGc(pid);
  }

  private static String mb(long bytes) {
    return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
  }

  static String describe(List<LoadDriver.Result> steps) {
    StringBuilder b = new StringBuilder();
    for (LoadDriver.Result r : steps) {
      if (b.length() > 0) {
        b.append(", ");
      }
      double cpu = r.usage().subjectMicros();
      b.append(String.format(Locale.ROOT, "%.0f→p99 %.1f ms%s%s", r.rate(), r.p99() / 1000.0,
          Double.isNaN(cpu) ? "" : String.format(Locale.ROOT, " (%s %.0f µs/call)",
              String.join("+", r.usage().subject()), cpu),
          r.errors() > 0 ? " (" + r.errors() + " err)" : ""));
    }
    return b.toString();
  }

  private static void waitOpen(HttpClient http, URI uri, Duration max) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        Mcp.open(http, uri, Duration.ofSeconds(5));
        return;
      } catch (IOException e) {
        last = e;
        Thread.sleep(200);
      }
    }
    throw new IOException("no MCP endpoint at " + uri + " within " + max, last);
  }

  /**
   * Starts {@code io.bastion.node.Main} in its own JVM exactly as {@code ./bastion} does (plus
   * {@code --bastion-jvm-opts} and {@code jvmExtra}), on an ephemeral HTTP port without Pekko
   * Management; waits for the ready line and returns its MCP URL through {@code url}.
   */
  static Procs.Child startNodeJvm(Options o, Path work, String name, Path yaml, List<String> jvmExtra,
      List<String> args, String[] url) throws IOException {
    List<String> jvm = new ArrayList<>(o.bastionJvmOpts);
    jvm.addAll(jvmExtra);
    jvm.add("-Dpekko.cluster.jmx.multi-mbeans-in-same-jvm=on");
    List<String> a = new ArrayList<>(List.of("--config", yaml.toString(), "--port", "0", "--management-port", "0"));
    a.addAll(args);
    return Procs.start(name, Procs.javaCmd(jvm, "io.bastion.node.Main", a.toArray(String[]::new)),
        work.resolve(name + ".log"), READY, Duration.ofSeconds(90), url);
  }

  static BastionNode.Running startInProcess(List<ServerConfig> servers, Path data) {
    return startInProcess(new BastionConfig(Path.of("bench.yaml"), GatewayConfig.DEFAULT.withHostPort("127.0.0.1", 0),
        servers, List.of(), List.of(), List.of(), List.of(), null,
        new StoreConfig(StoreConfig.Type.H2, null, null, null, data), null, List.of()));
  }

  static BastionNode.Running startInProcess(BastionConfig c) {
    Config o = NodeConfig.ephemeralRemoting().withFallback(ConfigFactory.parseString(
        "pekko.coordinated-shutdown.exit-jvm = off\n"
            + "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
            + "pekko.loglevel = WARNING"));
    return BastionNode.start(c, o).toCompletableFuture().join();
  }

  static String bastionYaml(URI mock, List<String> stdioCmd) {
    StringBuilder y = new StringBuilder();
    y.append("gateway:\n  host: 127.0.0.1\n  port: 0\n\nmcp:\n  servers:\n");
    y.append("    - name: mock\n      type: http\n      url: \"").append(mock).append("\"\n");
    if (stdioCmd != null) {
      y.append("    - name: stdiomock\n      type: stdio\n      command: [");
      for (int i = 0; i < stdioCmd.size(); i++) {
        y.append(i == 0 ? "" : ", ").append('"').append(stdioCmd.get(i).replace("\\", "\\\\").replace("\"", "\\\""))
            .append('"');
      }
      y.append("]\n");
    }
    return y.toString();
  }

  static String nginxConf(int listen, int upstreamPort, Path prefix) {
    return """
        worker_processes 1;
        pid %1$s/nginx.pid;
        error_log %1$s/logs/error.log warn;
        events { worker_connections 4096; }
        http {
          access_log off;
          client_body_temp_path %1$s/client_body;
          proxy_temp_path %1$s/proxy;
          fastcgi_temp_path %1$s/fastcgi;
          uwsgi_temp_path %1$s/uwsgi;
          scgi_temp_path %1$s/scgi;
          keepalive_requests 1000000;
          upstream mock { server 127.0.0.1:%3$d; keepalive 256; }
          server {
            listen 127.0.0.1:%2$d;
            location / {
              proxy_pass http://mock;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_buffering off;
            }
          }
        }
        """.formatted(prefix.toAbsolutePath(), listen, upstreamPort);
  }

  static Path repoRoot() {
    Path p = Path.of("").toAbsolutePath();
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.exists(q.resolve("benchmarks/pom.xml"))) {
        return q;
      }
      if (Files.exists(q.resolve("pom.xml")) && q.getFileName() != null
          && q.getFileName().toString().equals("benchmarks") && q.getParent() != null) {
        return q.getParent();
      }
    }
    return p;
  }

  static Path defaultOut(Path root, Options o) {
    if (o.smoke) {
      return root.resolve("benchmarks/target/smoke-results.md");
    }
    String sha = Procs.capture(Duration.ofSeconds(10), "git", "-C", root.toString(), "rev-parse", "--short", "HEAD");
    if (sha.isEmpty() || sha.contains(" ")) {
      sha = "nogit";
    }
    return root.resolve("benchmarks/results/" + LocalDate.now() + "-" + sha + ".md");
  }

  static String loadAvg() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "n/a";
    }
  }

  private static void deleteTree(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}
