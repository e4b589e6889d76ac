package io.bastion.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real JVMs started by {@code deploy/cluster.sh} on PostgreSQL, server-everything over stdio as the
 * upstream, and a steady load of {@code tools/call everything__echo} from 4 clients, each sending
 * round-robin to every live node with the session it initialized on one of them. Then:
 * (a) {@code cluster.sh add} — no failed request; (b) {@code cluster.sh leave} of the node owning
 * the upstream, through management HTTP — no failed request (a client whose session lived on the
 * leaving node gets 404 and re-initializes: counted apart); (c) {@code kill -9} of the node that
 * owns the upstream — only the calls it was running fail (within a bounded window); calls that
 * arrive meanwhile are held and served once the upstream is ready on a survivor.
 *
 * <p>The clients' rotation drops a node when the test stops or kills it, as a load balancer with
 * health checks would: the failures counted are those of requests sent to live nodes. Counts and
 * windows are printed and written to {@code deploy/target/multi-jvm/report.txt} (node logs beside it).
 */
class MultiJvmClusterTest {
  static final Path ROOT = DeployFilesTest.DEPLOY.getParent();
  static final Path SCRIPT = ROOT.resolve("deploy/cluster.sh");
  static final Path NODE_MODULES = ROOT.resolve("node/src/test/node/node_modules");
  static final Path EVERYTHING = NODE_MODULES.resolve("@modelcontextprotocol/server-everything/dist/index.js");
  static final ObjectMapper JSON = new ObjectMapper();
  static final int CLIENTS = 4;
  static final String DB = "bastion_multijvm_test";

  /** Cluster state and node logs stay here after the run, for diagnosis. */
  static Path tmp;
  static int httpBase;
  static int arteryBase;
  static int mgmtBase;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  static final List<String> report = new ArrayList<>();

  /** Live nodes in the clients' rotation: node number → HTTP port. */
  final CopyOnWriteArrayList<Integer> rotation = new CopyOnWriteArrayList<>();
  final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
  final AtomicBoolean running = new AtomicBoolean(true);
  final AtomicInteger rr = new AtomicInteger();

  /** A request: sent at {@code at}, answered (or failed) at {@code end}. */
  record Event(long at, long end, Kind kind, String detail) {}

  enum Kind { OK, FAIL, REINIT }

  @BeforeAll
  static void prerequisites() throws Exception {
    tmp = DeployFilesTest.DEPLOY.resolve("target/multi-jvm");
    if (Files.isDirectory(tmp.resolve("cluster"))) {
      script(Duration.ofSeconds(60), "stop"); // a previous run that did not finish
    }
    deleteRecursively(tmp);
    Files.createDirectories(tmp);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 5432), 2000);
    } catch (IOException e) {
      fail("PostgreSQL does not answer on 127.0.0.1:5432 (" + e.getMessage() + "). This test needs it: run "
          + "`bash deploy/ensure-postgres.sh` (as .ci/run does), then the tests again.");
    }
    if (!Files.isRegularFile(EVERYTHING)) {
      run(Duration.ofMinutes(5), List.of("bash", ROOT.resolve("node/src/test/node/install.sh").toString()));
    }
    assertThat(EVERYTHING).as("server-everything (node/src/test/node/install.sh)").isRegularFile();
    // all below Linux's ephemeral range (32768+), so no outgoing connection takes one meanwhile
    httpBase = freeBase(20000);
    arteryBase = freeBase(24000);
    mgmtBase = freeBase(28000);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (tmp != null && Files.isDirectory(tmp.resolve("cluster"))) {
      Result r = script(Duration.ofSeconds(60), "stop");
      log("cluster.sh stop:%n%s", r.output);
    }
    if (tmp != null) {
      Files.write(tmp.resolve("report.txt"), report);
    }
  }

  @Test
  void addLeaveAndKillUnderSteadyLoad() throws Exception {
    Path config = tmp.resolve("bastion.yaml");
    Files.writeString(config, """
        gateway:
          host: 127.0.0.1
        store:
          type: postgres
          url: ${BASTION_DB_URL}
          user: ${BASTION_DB_USER}
          password: ${BASTION_DB_PASSWORD:-}
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["node", "%s", "stdio"]
              request_timeout: 30s
              health_interval: 5s
              backoff: {initial: 500ms, max: 5s}
        """.formatted(EVERYTHING));

    long t0 = System.currentTimeMillis();
    Result start = script(Duration.ofMinutes(6), "start", "3", "--config", config.toString(), "--db", DB);
    log("cluster.sh start 3 (%d ms, includes the build if needed):%n%s", System.currentTimeMillis() - t0, start.output);
    assertThat(start.code).as("cluster.sh start 3:\n" + start.output).isZero();
    for (int n = 1; n <= 3; n++) {
      rotation.add(n);
    }
    awaitUpstreamReady(Duration.ofSeconds(60), -1);

    List<Thread> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      int id = i;
      Thread t = new Thread(() -> client(id), "load-" + i);
      t.setDaemon(true);
      t.start();
      clients.add(t);
    }
    try {
      // steady state before anything happens
      long warm = System.currentTimeMillis();
      Thread.sleep(4000);
      Window baseline = window(warm, System.currentTimeMillis());
      log("baseline: %s", baseline);
      assertThat(baseline.ok).as("requests succeed before any change").isGreaterThan(20);

      // (a) a node joins
      long aStart = System.currentTimeMillis();
      Result add = script(Duration.ofMinutes(3), "add");
      log("cluster.sh add:%n%s", add.output);
      assertThat(add.code).as("cluster.sh add:\n" + add.output).isZero();
      int added = Integer.parseInt(add.output.strip().lines().reduce((a, b) -> b).orElseThrow().strip());
      rotation.add(added);
      Thread.sleep(5000);
      Window a = window(aStart, System.currentTimeMillis());
      log("(a) add node %d: %s", added, a);
      printStatus();

      // (b) the node owning the upstream leaves through management HTTP
      int owner = awaitUpstreamReady(Duration.ofSeconds(30), -1);
      long bStart = System.currentTimeMillis();
      rotation.remove((Integer) owner);
      Thread.sleep(1000); // requests already sent to it finish; it still serves them
      Result leave = script(Duration.ofMinutes(2), "leave", "" + owner);
      log("cluster.sh leave %d:%n%s", owner, leave.output);
      assertThat(leave.code).as("cluster.sh leave:\n" + leave.output).isZero();
      int newOwner = awaitUpstreamReady(Duration.ofSeconds(30), owner);
      long handOff = System.currentTimeMillis() - bStart;
      Thread.sleep(5000);
      Window b = window(bStart, System.currentTimeMillis());
      log("(b) leave node %d (upstream owner; now on node %d, %d ms after the leave began): %s",
          owner, newOwner, handOff, b);
      printStatus();

      // (c) kill -9 of the node owning the upstream
      int victim = awaitUpstreamReady(Duration.ofSeconds(30), -1);
      rotation.remove((Integer) victim);
      long cStart = System.currentTimeMillis();
      Result kill = script(Duration.ofSeconds(30), "kill", "" + victim);
      log("cluster.sh kill %d:%n%s", victim, kill.output);
      assertThat(kill.code).isZero();
      int survivor = awaitUpstreamReady(Duration.ofSeconds(60), victim);
      long upstreamBack = System.currentTimeMillis() - cStart;
      // full service: 5 s in a row of successes and no failure, within 60 s of the kill
      long backAt = awaitFullService(cStart, Duration.ofSeconds(60), 5000);
      Window c = window(cStart, System.currentTimeMillis());
      // The failure window runs from the kill to the answer of the last failed request; the outage
      // from the kill to the first success answered after it (calls sent meanwhile may wait and succeed).
      long lastFail = c.lastFailEnd < 0 ? 0 : c.lastFailEnd - cStart;
      long firstOk = c.firstOkEnd < 0 ? -1 : c.firstOkEnd - cStart;
      log("(c) kill -9 node %d (upstream owner): upstream ready on node %d after %d ms; failure window %d ms "
          + "(last failed request sent at +%d ms, answered at +%d ms); first success answered at +%d ms; "
          + "full service (5 s without failure) from +%d ms; %s", victim, survivor, upstreamBack, lastFail,
          c.lastFail < 0 ? 0 : c.lastFail - cStart, lastFail, firstOk, backAt < 0 ? -1 : backAt - cStart, c);
      log("(c) per second since the kill: %s", c.perSecond(cStart));
      printStatus();

      assertThat(a.failures).as("(a) failed requests while a node joined: " + a.failureSamples).isZero();
      assertThat(b.failures).as("(b) failed requests while the upstream's owner left: " + b.failureSamples).isZero();
      // Sessions survive both: a shard handed off parks its sessions for the next home.
      assertThat(a.reinits).as("(a) sessions lost while a node joined").isZero();
      assertThat(b.reinits).as("(b) sessions lost while the upstream's owner left").isZero();
      assertThat(backAt).as("(c) full service back within 60 s of the kill").isPositive();
      // Only calls running on the killed node at the kill may fail (one per client at most): the
      // edge holds later calls for the upstream until it runs on a survivor.
      assertThat(c.failures).as("(c) failed requests after kill -9: " + c.failureSamples).isLessThanOrEqualTo(CLIENTS);
      assertThat(lastFail).as("(c) failure window after kill -9 (ms): " + c.failureSamples).isLessThan(20_000);
      assertThat(firstOk).as("(c) first success after kill -9 (ms)").isBetween(0L, 30_000L);
      assertThat(a.ok).isPositive();
      assertThat(b.ok).isPositive();
    } finally {
      running.set(false);
      for (Thread t : clients) {
        t.join(40_000);
      }
    }
  }

  // ------------------------------------------------------------------ load clients

  void client(int id) {
    String session = null;
    int seq = 0;
    while (running.get()) {
      List<Integer> nodes = List.copyOf(rotation);
      if (nodes.isEmpty()) {
        sleep(50);
        continue;
      }
      int node = nodes.get(Math.floorMod(rr.getAndIncrement(), nodes.size()));
      int port = httpBase + node - 1;
      long at = System.currentTimeMillis();
      try {
        if (session == null) {
          session = initialize(port);
          continue;
        }
        String msg = "c" + id + "-" + (++seq);
        String body = """
            {"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"everything__echo","arguments":{"message":"%s"}}}"""
            .formatted(seq, msg);
        HttpResponse<String> r = post(port, session, body);
        if (r.statusCode() == 404) {
          events.add(new Event(at, System.currentTimeMillis(), Kind.REINIT, "client " + id + " node " + node + ": session gone (404)"));
          session = null;
          continue;
        }
        JsonNode resp = message(r, seq);
        if (r.statusCode() != 200 || resp == null) {
          throw new IOException("HTTP " + r.statusCode() + " " + abbreviate(r.body()));
        }
        if (resp.has("error") || resp.path("result").path("isError").asBoolean(false)
            || !resp.path("result").toString().contains(msg)) {
          throw new IOException("bad result " + abbreviate(resp.toString()));
        }
        events.add(new Event(at, System.currentTimeMillis(), Kind.OK, null));
      } catch (Exception e) {
        events.add(new Event(at, System.currentTimeMillis(), Kind.FAIL, "client " + id + " node " + node + ": " + e));
        sleep(100);
      }
      sleep(20);
    }
  }

  String initialize(int port) throws Exception {
    HttpResponse<String> r = post(port, null, """
        {"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},\
        "clientInfo":{"name":"multi-jvm-test","version":"1"}}}""");
    JsonNode resp = message(r, 0);
    String session = r.headers().firstValue("Mcp-Session-Id").orElse(null);
    if (r.statusCode() != 200 || resp == null || !resp.has("result") || session == null) {
      throw new IOException("initialize: HTTP " + r.statusCode() + " " + abbreviate(r.body()));
    }
    HttpResponse<String> n = post(port, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    if (n.statusCode() != 202 && n.statusCode() != 200) {
      throw new IOException("notifications/initialized: HTTP " + n.statusCode());
    }
    return session;
  }

  /** POSTs {@code body} to the node's /mcp; {@code headers} are extra name, value pairs. */
  static HttpResponse<String> post(int port, String session, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/mcp"))
        .timeout(Duration.ofSeconds(40))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    if (session != null) {
      b.header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-11-25");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The JSON-RPC response with the given id, from a JSON or an SSE body. */
  static JsonNode message(HttpResponse<String> r, int id) throws IOException {
    String ct = r.headers().firstValue("Content-Type").orElse("");
    List<String> candidates = new ArrayList<>();
    if (ct.startsWith("text/event-stream")) {
      for (String line : r.body().split("\n")) {
        if (line.startsWith("data:")) {
          candidates.add(line.substring(5).trim());
        }
      }
    } else if (!r.body().isBlank()) {
      candidates.add(r.body());
    }
    for (String c : candidates) {
      JsonNode n = JSON.readTree(c);
      if (n.path("id").asInt(-1) == id && (n.has("result") || n.has("error"))) {
        return n;
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ observation

  final class Window {
    int ok;
    int failures;
    int reinits;
    long firstFail = -1;
    long lastFail = -1;
    long lastFailEnd = -1;
    long firstOkEnd = -1;
    final List<String> failureSamples = new ArrayList<>();
    final List<Event> all = new ArrayList<>();

    String perSecond(long from) {
      Map<Long, int[]> s = new TreeMap<>();
      for (Event e : all) {
        int[] c = s.computeIfAbsent((e.at - from) / 1000, k -> new int[3]);
        c[e.kind.ordinal()]++;
      }
      StringBuilder sb = new StringBuilder();
      s.forEach((sec, c) -> sb.append(String.format("%n  +%02ds ok %3d fail %3d reinit %d", sec, c[0], c[1], c[2])));
      return sb.toString();
    }

    @Override
    public String toString() {
      return "ok=" + ok + " failed=" + failures + " re-initialized(404)=" + reinits
          + (failureSamples.isEmpty() ? "" : " first failures: " + failureSamples);
    }
  }

  Window window(long from, long to) {
    Window w = new Window();
    for (Event e : events) {
      if (e.at < from || e.at >= to) {
        continue;
      }
      w.all.add(e);
      switch (e.kind) {
        case OK -> {
          w.ok++;
          w.firstOkEnd = w.firstOkEnd < 0 ? e.end : Math.min(w.firstOkEnd, e.end);
        }
        case REINIT -> w.reinits++;
        case FAIL -> {
          w.failures++;
          w.firstFail = w.firstFail < 0 ? e.at : Math.min(w.firstFail, e.at);
          w.lastFail = Math.max(w.lastFail, e.at);
          w.lastFailEnd = Math.max(w.lastFailEnd, e.end);
          if (w.failureSamples.size() < 5) {
            w.failureSamples.add(e.detail);
          }
        }
      }
    }
    return w;
  }

  /** The first moment after which {@code quietMs} passed with successes and no failure; -1 on timeout. */
  long awaitFullService(long from, Duration timeout, long quietMs) throws InterruptedException {
    long deadline = from + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      Thread.sleep(500);
      long now = System.currentTimeMillis();
      Window recent = window(now - quietMs, now);
      Window since = window(from, now);
      if (now - from >= quietMs && recent.failures == 0 && recent.ok > 10) {
        return Math.max(from, since.lastFailEnd < 0 ? from : since.lastFailEnd);
      }
    }
    return -1;
  }

  /** Waits until the upstream is ready on a live node other than {@code notOn}; returns that node. */
  int awaitUpstreamReady(Duration timeout, int notOn) throws Exception {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    String last = "";
    while (System.currentTimeMillis() < deadline) {
      for (int node : List.copyOf(rotation)) {
        try {
          HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + (httpBase + node - 1) + "/api/v1/cluster"))
              .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
          last = r.body();
          JsonNode c = JSON.readTree(r.body());
          for (JsonNode u : c.path("upstreams")) {
            if (u.path("name").asText().equals("everything") && u.path("state").asText().equals("ready")) {
              int owner = nodeOf(u.path("owner").asText());
              if (owner > 0 && owner != notOn && rotation.contains(owner)) {
                return owner;
              }
            }
          }
        } catch (IOException e) {
          last = e.toString();
        }
        break; // ask one live node per round
      }
      Thread.sleep(250);
    }
    throw new AssertionError("upstream 'everything' not ready on a live node (other than " + notOn + ") within "
        + timeout + "; last /api/v1/cluster: " + last);
  }

  /** Node number of an owner address such as pekko://bastion@127.0.0.1:35002 (by its Artery port). */
  static int nodeOf(String address) {
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

  void printStatus() throws Exception {
    log("cluster.sh status:%n%s", script(Duration.ofSeconds(30), "status").output);
  }

  static void log(String fmt, Object... args) {
    String s = String.format(fmt, args);
    System.out.println("[multi-jvm] " + s);
    report.add(s);
  }

  // ------------------------------------------------------------------ processes and ports

  record Result(int code, String output) {}

  static Result script(Duration timeout, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    cmd.addAll(List.of(args));
    return run(timeout, cmd);
  }

  static Result run(Duration timeout, List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("BASTION_CLUSTER_DIR", tmp.resolve("cluster").toString());
    env.put("BASTION_HTTP_BASE", "" + httpBase);
    env.put("BASTION_ARTERY_BASE", "" + arteryBase);
    env.put("BASTION_MGMT_BASE", "" + mgmtBase);
    env.put("BASTION_READY_TIMEOUT", "120");
    env.put("BASTION_NODE_HEAP", "256m");
    Path out = Files.createTempFile(tmp, "cmd", ".log");
    pb.redirectOutput(out.toFile());
    Process p = pb.start();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      return new Result(-1, Files.readString(out) + "\n(timed out after " + timeout + ")");
    }
    return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
  }

  /** A base port b such that b..b+5 are all free. */
  static int freeBase(int from) throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = from + ThreadLocalRandom.current().nextInt(0, 3990);
      boolean free = true;
      for (int i = 0; i < 6 && free; i++) {
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
