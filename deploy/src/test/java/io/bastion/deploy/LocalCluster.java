package io.bastion.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A cluster of real JVMs run by {@code deploy/cluster.sh}, with its state and the scripts' output
 * in a directory of its own and port ranges that were free when it was created. Shared by the
 * multi-JVM test and the chaos scenario; the load they put on it is {@link LoadClients}.
 */
final class LocalCluster {
  static final Path ROOT = DeployFilesTest.DEPLOY.getParent();
  static final Path SCRIPT = ROOT.resolve("deploy/cluster.sh");
  static final Path NODE_MODULES = ROOT.resolve("node/src/test/node/node_modules");
  static final Path EVERYTHING = NODE_MODULES.resolve("@modelcontextprotocol/server-everything/dist/index.js");
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  /** Cluster state (cluster/) and the output of every script run stay here, for diagnosis. */
  final Path dir;
  final int httpBase;
  final int arteryBase;
  final int mgmtBase;
  private final Map<String, String> env;

  /** {@code env}: more variables for cluster.sh, e.g. BASTION_PG_PORT. */
  LocalCluster(Path dir, Map<String, String> env) throws IOException {
    this.dir = dir;
    this.env = Map.copyOf(env);
    // all below Linux's ephemeral range (32768+), so no outgoing connection takes one meanwhile
    this.httpBase = freeBase(20000);
    this.arteryBase = freeBase(24000);
    this.mgmtBase = freeBase(28000);
  }

  int httpPort(int node) {
    return httpBase + node - 1;
  }

  /**
   * Writes the nodes' config, {@code bastion.yaml} in this cluster's directory: the store from the
   * variables cluster.sh exports, then {@code storeExtra} (lines of the store block), server-everything
   * over stdio, then {@code serverExtra} (lines of its block), then {@code rest} (top-level blocks).
   */
  Path writeConfig(String storeExtra, String serverExtra, String rest) throws IOException {
    return writeConfig(storeExtra, serverExtra, "", rest);
  }

  /** {@code moreServers}: further items of {@code mcp.servers} ({@link #everything}), after {@code everything}. */
  Path writeConfig(String storeExtra, String serverExtra, String moreServers, String rest) throws IOException {
    String yaml = """
        gateway:
          host: 127.0.0.1
        store:
          type: postgres
          url: ${BASTION_DB_URL}
          user: ${BASTION_DB_USER}
          password: ${BASTION_DB_PASSWORD:-}
        """ + storeExtra.indent(2) + "mcp:\n  servers:\n" + everything("everything", serverExtra).indent(4)
        + moreServers.indent(4) + rest;
    Path config = dir.resolve("bastion.yaml");
    Files.writeString(config, yaml);
    return config;
  }

  /** One item of {@code mcp.servers}: server-everything over stdio named {@code name}, plus {@code extra} lines. */
  static String everything(String name, String extra) {
    return """
        - name: %s
          type: stdio
          command: ["node", "%s", "stdio"]
          request_timeout: 30s
          health_interval: 5s
          backoff: {initial: 500ms, max: 5s}
        """.formatted(name, EVERYTHING) + extra.indent(2);
  }

  /** {@code cluster.sh start N} with this config and a fresh database {@code db}; fails unless all are ready. */
  String start(int nodes, Path config, String db) throws Exception {
    long t0 = System.currentTimeMillis();
    Result start = script(Duration.ofMinutes(8), "start", "" + nodes, "--config", config.toString(), "--db", db);
    if (start.code() != 0) {
      throw new AssertionError("cluster.sh start " + nodes + ":\n" + start.output());
    }
    return String.format("cluster.sh start %d (%d ms, includes the build if needed):%n%s", nodes,
        System.currentTimeMillis() - t0, start.output());
  }

  /** Fails with how to fix it when PostgreSQL does not answer on 127.0.0.1:5432. */
  static void requirePostgres() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 5432), 2000);
    } catch (IOException e) {
      throw new AssertionError("PostgreSQL does not answer on 127.0.0.1:5432 (" + e.getMessage() + "). This "
          + "needs it: run `bash deploy/ensure-postgres.sh` (as .ci/run does), then again.");
    }
  }

  /** Installs the npm test tools when server-everything is missing; {@code logDir} gets the output. */
  static void ensureEverything(Path logDir) throws Exception {
    if (!Files.isRegularFile(EVERYTHING)) {
      run(logDir, Map.of(), Duration.ofMinutes(5),
          List.of("bash", ROOT.resolve("node/src/test/node/install.sh").toString()));
    }
    if (!Files.isRegularFile(EVERYTHING)) {
      throw new AssertionError("server-everything missing after node/src/test/node/install.sh: " + EVERYTHING);
    }
  }

  /** Stops a cluster a previous run left in this directory, then empties it. */
  void clean() throws Exception {
    if (Files.isDirectory(dir.resolve("cluster"))) {
      script(Duration.ofSeconds(60), "stop"); // a previous run that did not finish
    }
    deleteRecursively(dir);
    Files.createDirectories(dir);
  }

  /** Stops every node of this cluster, if it was started; the script's output. */
  String stop() throws Exception {
    return Files.isDirectory(dir.resolve("cluster")) ? script(Duration.ofSeconds(60), "stop").output() : "";
  }

  String status() throws Exception {
    return script(Duration.ofSeconds(30), "status").output();
  }

  /** {@code cluster.sh add}: the new node's number (the script's last line). */
  int add() throws Exception {
    Result add = script(Duration.ofMinutes(6), "add");
    if (add.code() != 0) {
      throw new AssertionError("cluster.sh add:\n" + add.output());
    }
    return Integer.parseInt(add.output().strip().lines().reduce((a, b) -> b).orElseThrow().strip());
  }

  /**
   * Waits until the upstream {@code name} is ready on one of the {@code live} nodes other than
   * {@code notOn}, asking one live node per round; returns that node.
   */
  int awaitUpstreamReady(String name, Duration timeout, int notOn, Supplier<Collection<Integer>> live)
      throws Exception {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    String last = "";
    while (System.currentTimeMillis() < deadline) {
      Collection<Integer> nodes = live.get();
      for (int node : nodes) {
        try {
          HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + httpPort(node) + "/api/v1/cluster"))
              .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
          last = r.body();
          JsonNode c = JSON.readTree(r.body());
          for (JsonNode u : c.path("upstreams")) {
            if (u.path("name").asText().equals(name) && u.path("state").asText().equals("ready")) {
              int owner = nodeOf(u.path("owner").asText());
              if (owner > 0 && owner != notOn && nodes.contains(owner)) {
                return owner;
              }
            }
          }
        } catch (IOException e) {
          last = e.toString();
        }
        break;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("upstream '" + name + "' not ready on a live node (other than " + notOn + ") within "
        + timeout + "; last /api/v1/cluster: " + last);
  }

  /** Node number of an owner address such as pekko://bastion@127.0.0.1:35002 (by its Artery port). */
  /** The sum over {@code nodes} of a Prometheus series' values whose {@code server} label is {@code server}. */
  long metricSum(String metric, String server, Collection<Integer> nodes) throws Exception {
    long sum = 0;
    for (int node : nodes) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + httpPort(node) + "/metrics")).timeout(Duration.ofSeconds(5)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      for (String line : r.body().split("\n")) {
        if (line.startsWith(metric + "{") && line.contains("server=\"" + server + "\"")) {
          sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
    }
    return sum;
  }

  /**
   * {@link #metricSum}, read again until it is positive or {@code timeout} has passed (then the
   * last reading). A node's /metrics shows Kamon's last snapshot, up to its tick interval (5 s)
   * old, so calls served just before a reading may not be in it yet.
   */
  long awaitPositiveMetricSum(String metric, String server, Collection<Integer> nodes, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    long sum = metricSum(metric, server, nodes);
    while (sum <= 0 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      sum = metricSum(metric, server, nodes);
    }
    return sum;
  }

  int nodeOf(String address) {
    int colon = address.lastIndexOf(':');
    if (colon < 0) {
      return -1;
    }
    try {
      return Integer.parseInt(address.substring(colon + 1).replaceAll("[^0-9]", "")) - arteryBase + 1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  // ------------------------------------------------------------------ processes and ports

  record Result(int code, String output) {}

  Result script(Duration timeout, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    cmd.addAll(List.of(args));
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("BASTION_CLUSTER_DIR", dir.resolve("cluster").toString());
    all.put("BASTION_HTTP_BASE", "" + httpBase);
    all.put("BASTION_ARTERY_BASE", "" + arteryBase);
    all.put("BASTION_MGMT_BASE", "" + mgmtBase);
    all.putIfAbsent("BASTION_READY_TIMEOUT", "120");
    all.putIfAbsent("BASTION_NODE_HEAP", "256m");
    return run(dir, all, timeout, cmd);
  }

  /** Runs {@code cmd} from the checkout's root with {@code env} added; its output goes to a file in {@code logDir}. */
  static Result run(Path logDir, Map<String, String> env, Duration timeout, List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Files.createDirectories(logDir);
    Path out = Files.createTempFile(logDir, "cmd", ".log");
    pb.redirectOutput(out.toFile());
    Process p = pb.start();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      return new Result(-1, Files.readString(out) + "\n(timed out after " + timeout + ")");
    }
    return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
  }

  /** A base port b such that b..b+9 are all free. */
  static int freeBase(int from) throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = from + ThreadLocalRandom.current().nextInt(0, 3990);
      boolean free = true;
      for (int i = 0; i < 10 && free; i++) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new InetSocketAddress("127.0.0.1", base + i));
        } catch (IOException e) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no free port range near " + from);
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * When node {@code node} first logged a line containing {@code phrase} at or after {@code after}
   * (epoch ms), read from its log ({@code HH:mm:ss.SSS} in this machine's zone, as the nodes log);
   * -1 when it has not.
   */
  long loggedAt(int node, String phrase, long after) throws IOException {
    Path log = dir.resolve("cluster/nodes/" + node + "/log");
    if (!Files.exists(log)) {
      return -1;
    }
    ZoneId zone = ZoneId.systemDefault();
    long now = System.currentTimeMillis();
    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      if (line.length() < 12 || !line.contains(phrase)) {
        continue;
      }
      LocalTime t;
      try {
        t = LocalTime.parse(line.substring(0, 12));
      } catch (DateTimeParseException e) {
        continue;
      }
      long at = LocalDate.now(zone).atTime(t).atZone(zone).toInstant().toEpochMilli();
      if (at > now + 3_600_000) {
        at -= 86_400_000; // logged before midnight, read after it
      }
      if (at >= after) {
        return at;
      }
    }
    return -1;
  }

  static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
