package io.bastion.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bastion.bench.HostileRequests.Hostile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP barrage (docs/fuzzing.md): {@code requests} generated hostile requests
 * ({@link HostileRequests}) from {@code concurrency} workers against a running node's MCP edge,
 * tallied by category and status. Bastion must answer every one without a 5xx (on one healthy
 * node no upstream failure is a 5xx: those are JSON-RPC errors with HTTP 200), and keep serving.
 *
 * <pre>
 * benchmarks/fuzz.sh [--requests N] [--rounds R] [--concurrency C] [--seed S] [--out FILE]
 * </pre>
 * starts one node in its own JVM ({@code io.bastion.node.Main}, as {@code ./bastion} does) fronting
 * the real server-everything over stdio (node/src/test/node/node_modules; the benchmarks' own stdio
 * mock when it is not installed), reads its heap after GC before and after, and prints the figures.
 */
public final class HttpBarrage {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final int BODY_LIMIT = 64 * 1024;

  private HttpBarrage() {}

  /** What a run saw. {@code serverErrors} are 5xx answers; {@code samples} the first few of anything suspicious. */
  record Result(long requests, long millis, Map<Integer, Long> byStatus, Map<String, Map<String, Long>> byCategory,
      long serverErrors, long transportErrors, long timeouts, long rawClosedWithoutStatus, long sessionsOpened,
      long httpLayerAnswers, long sessionsReplaced, List<String> samples) {
    long answered() {
      return byStatus.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** Runs the barrage against {@code mcp} ({@code http://host:port/mcp}). */
  static Result run(URI mcp, int requests, int concurrency, long seed, int maxRequestBytes) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    List<String> sessions = Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 8; i++) {
      sessions.add(Mcp.open(client, mcp, TIMEOUT));
    }
    List<String> tools = listTools(client, mcp, sessions.get(0));
    // The pool is shared with the generator: a generated DELETE or an expired session is replaced
    // (as a client re-initializes after a 404), so the barrage keeps reaching the dispatcher.
    HostileRequests gen = new HostileRequests(tools, sessions, maxRequestBytes);
    Tally tally = new Tally();
    AtomicLong next = new AtomicLong();
    ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "barrage-watchdog");
      t.setDaemon(true);
      return t;
    });
    long start = System.nanoTime();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      Random rnd = new Random(seed * 1_000_003L + w);
      Thread t = new Thread(() -> {
        while (next.getAndIncrement() < requests) {
          Hostile h = gen.next(rnd);
          Answer a = send(client, mcp, h, sessions, tally, watchdog);
          tally.one(h, a);
          if (a.status() == 404) {
            replaceIfPooled(client, mcp, h, sessions, tally);
          }
        }
      }, "barrage-" + w);
      t.start();
      workers.add(t);
    }
    for (Thread t : workers) {
      t.join();
    }
    watchdog.shutdownNow();
    long millis = (System.nanoTime() - start) / 1_000_000;
    return tally.result(requests, millis);
  }

  // ------------------------------------------------------------------ sending

  /** An answer: the status (-1: none), the body's start, and the session a 200 initialize opened. */
  record Answer(int status, String body, String outcome) {}

  static Answer send(HttpClient client, URI mcp, Hostile h, List<String> pooled, Tally tally,
      ScheduledExecutorService watchdog) {
    if (h.raw()) {
      return sendRaw(mcp, h.rawBytes());
    }
    HttpRequest req;
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + mcp.getHost() + ":" + mcp.getPort() + h.path())).timeout(TIMEOUT)
          .method(h.method(), h.body().length == 0 && !h.method().equals("POST")
              ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(h.body()));
      for (String[] header : h.headers()) {
        b.header(header[0], header[1]);
      }
      req = b.build();
    } catch (IllegalArgumentException e) {
      // The JDK client refuses some of what we generate (restricted or non-ASCII headers, odd paths): send it raw.
      return sendRaw(mcp, render(mcp, h));
    }
    try {
      HttpResponse<InputStream> r = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
      String body;
      boolean stream = r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
      try (InputStream in = r.body()) {
        if (stream && "GET".equals(h.method())) {
          body = "";
        } else {
          ScheduledFuture<?> stop = watchdog.schedule(() -> closeQuietly(in), TIMEOUT.toSeconds(), TimeUnit.SECONDS);
          body = readUpTo(in, BODY_LIMIT);
          stop.cancel(false);
        }
      } catch (IOException e) {
        return new Answer(r.statusCode(), "", "body-cut");
      }
      // Any request may be an initialize (random methods include it): a session it opened is
      // deleted at once, so the heap figures are not sessions waiting for their idle timeout.
      String opened = r.statusCode() == 200 ? r.headers().firstValue("Mcp-Session-Id").orElse(null) : null;
      if (opened != null && !pooled.contains(opened)) {
        tally.sessionsOpened.increment();
        delete(client, mcp, opened);
      }
      return new Answer(r.statusCode(), body, null);
    } catch (HttpTimeoutException e) {
      return new Answer(-1, "", "timeout");
    } catch (IOException e) {
      // Bodies over the limit may be refused before the client has sent them all.
      return new Answer(-1, String.valueOf(e), "huge-body".equals(h.category()) ? "refused-early" : "transport-error");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(-1, "", "interrupted");
    }
  }

  /** A pooled session the node no longer knows (a generated DELETE ended it) is replaced by a new one. */
  private static void replaceIfPooled(HttpClient client, URI mcp, Hostile h, List<String> sessions, Tally tally) {
    String used = h.headers().stream().filter(x -> x[0].equalsIgnoreCase("Mcp-Session-Id")).map(x -> x[1])
        .findFirst().orElse(null);
    if (used == null || !sessions.contains(used)) {
      return;
    }
    try {
      String fresh = Mcp.open(client, mcp, TIMEOUT);
      synchronized (sessions) {
        int i = sessions.indexOf(used);
        if (i >= 0) {
          sessions.set(i, fresh);
          tally.sessionsReplaced.increment();
          return;
        }
      }
      delete(client, mcp, fresh);
    } catch (IOException e) {
      tally.transportErrors.increment();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void delete(HttpClient client, URI mcp, String session) {
    try {
      client.send(HttpRequest.newBuilder(mcp).timeout(TIMEOUT).header("Mcp-Session-Id", session).DELETE().build(),
          HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      // counted by the liveness check at the end if it matters
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One request on its own connection, bytes as given; reads the status line of whatever comes back. */
  static Answer sendRaw(URI mcp, byte[] bytes) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(mcp.getHost(), mcp.getPort()), 5_000);
      s.setSoTimeout((int) TIMEOUT.toMillis());
      try {
        OutputStream out = s.getOutputStream();
        out.write(bytes);
        out.flush();
        s.shutdownOutput();
      } catch (IOException e) {
        // the server may answer (and close) before reading everything: read what it said
      }
      String text;
      try {
        text = readUpTo(s.getInputStream(), BODY_LIMIT);
      } catch (SocketTimeoutException e) {
        return new Answer(-1, "", "raw-timeout");
      } catch (IOException e) {
        text = "";
      }
      if (!text.startsWith("HTTP/1.")) {
        return new Answer(-1, text, "raw-closed");
      }
      int status = Integer.parseInt(text.substring(9, 12));
      int bodyAt = text.indexOf("\r\n\r\n");
      return new Answer(status, bodyAt < 0 ? "" : text.substring(bodyAt + 4), null);
    } catch (IOException e) {
      return new Answer(-1, String.valueOf(e), "transport-error");
    }
  }

  /** A request as HTTP/1.1 bytes (for what the JDK client refuses to send). */
  static byte[] render(URI mcp, Hostile h) {
    StringBuilder b = new StringBuilder(h.method()).append(' ').append(h.path().replace(" ", "%20"))
        .append(" HTTP/1.1\r\n");
    boolean host = false;
    for (String[] header : h.headers()) {
      host |= header[0].equalsIgnoreCase("Host");
      b.append(header[0]).append(": ").append(header[1].replace("\r", " ").replace("\n", " ")).append("\r\n");
    }
    if (!host) {
      b.append("Host: ").append(mcp.getHost()).append(':').append(mcp.getPort()).append("\r\n");
    }
    b.append("Content-Length: ").append(h.body().length).append("\r\nConnection: close\r\n\r\n");
    byte[] head = b.toString().getBytes(StandardCharsets.UTF_8);
    byte[] all = java.util.Arrays.copyOf(head, head.length + h.body().length);
    System.arraycopy(h.body(), 0, all, head.length, h.body().length);
    return all;
  }

  static String readUpTo(InputStream in, int limit) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    while (out.size() < limit && (n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // closing is all we wanted
    }
  }

  static List<String> listTools(HttpClient client, URI mcp, String session) throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(mcp).timeout(TIMEOUT)
        .header("Content-Type", "application/json").header("Accept", HostileRequests.BOTH)
        .header("Mcp-Session-Id", session).header("MCP-Protocol-Version", Mcp.PROTOCOL)
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode m = lastMessage(r.body());
    List<String> names = new ArrayList<>();
    if (m != null) {
      m.path("result").path("tools").forEach(t -> names.add(t.path("name").asText()));
    }
    if (names.isEmpty()) {
      throw new IOException("tools/list answered " + r.statusCode() + ": " + r.body());
    }
    return names;
  }

  /** The last JSON-RPC message of a JSON or SSE body, or null. */
  static JsonNode lastMessage(String body) {
    String text = body.trim();
    if (!text.startsWith("{")) {
      String last = null;
      for (String line : text.split("\n")) {
        if (line.startsWith("data:") && !line.substring(5).isBlank()) {
          last = line.substring(5).trim();
        }
      }
      text = last;
    }
    try {
      return text == null ? null : JSON.readTree(text);
    } catch (IOException e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ tally

  static final class Tally {
    final Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
    final Map<String, Map<String, LongAdder>> byCategory = new ConcurrentHashMap<>();
    final LongAdder serverErrors = new LongAdder();
    final LongAdder transportErrors = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder rawClosed = new LongAdder();
    final LongAdder sessionsOpened = new LongAdder();
    final LongAdder httpLayer = new LongAdder();
    final LongAdder sessionsReplaced = new LongAdder();
    final List<String> samples = Collections.synchronizedList(new ArrayList<>());

    void one(Hostile h, Answer a) {
      String key = a.status() >= 0 ? Integer.toString(a.status()) : a.outcome();
      if (a.status() >= 0) {
        byStatus.computeIfAbsent(a.status(), s -> new LongAdder()).increment();
      }
      byCategory.computeIfAbsent(h.category(), c -> new ConcurrentHashMap<>())
          .computeIfAbsent(key, k -> new LongAdder()).increment();
      boolean suspicious = false;
      if (h.raw() && isHttpLayerAnswer(a.status(), new String(h.rawBytes(), StandardCharsets.ISO_8859_1))) {
        httpLayer.increment();
        return;
      }
      if (a.status() >= 500) {
        serverErrors.increment();
        suspicious = true;
      } else if ("transport-error".equals(a.outcome()) || "body-cut".equals(a.outcome())) {
        transportErrors.increment();
        suspicious = true;
      } else if ("timeout".equals(a.outcome()) || "raw-timeout".equals(a.outcome())) {
        timeouts.increment();
      } else if ("raw-closed".equals(a.outcome())) {
        rawClosed.increment();
      }
      if (suspicious && samples.size() < 20) {
        byte[] body = h.raw() ? h.rawBytes() : h.body();
        samples.add(h.category() + " " + (h.raw() ? "raw" : h.method() + " " + h.path()) + " -> " + key + " "
            + abbreviate(a.body()) + " | request: " + abbreviate(new String(body, StandardCharsets.UTF_8)));
      }
    }

    Result result(long requests, long millis) {
      Map<Integer, Long> statuses = new TreeMap<>();
      byStatus.forEach((s, n) -> statuses.put(s, n.sum()));
      Map<String, Map<String, Long>> categories = new TreeMap<>();
      byCategory.forEach((c, m) -> {
        Map<String, Long> inner = new TreeMap<>();
        m.forEach((k, n) -> inner.put(k, n.sum()));
        categories.put(c, inner);
      });
      return new Result(requests, millis, statuses, categories, serverErrors.sum(), transportErrors.sum(),
          timeouts.sum(), rawClosed.sum(), sessionsOpened.sum(), httpLayer.sum(), sessionsReplaced.sum(),
          List.copyOf(samples));
    }
  }

  private static final java.util.Set<String> HTTP_METHODS = java.util.Set.of("GET", "POST", "PUT", "DELETE", "PATCH",
      "HEAD", "OPTIONS", "TRACE", "CONNECT");

  /**
   * The answers RFC 9110 prescribes to what is not an HTTP request Bastion implements, given by
   * Pekko HTTP's request parser before any of Bastion's code runs: 501 Not Implemented for a request
   * line whose method is no HTTP method (§9.1), 505 HTTP Version Not Supported for HTTP/9.9
   * (§15.6.6). Correct answers, counted apart, not failures.
   */
  static boolean isHttpLayerAnswer(int status, String raw) {
    String method = raw.split(" ", 2)[0];
    return (status == 501 && !HTTP_METHODS.contains(method))
        || (status == 505 && raw.startsWith(method + " ") && raw.split("\r\n", 2)[0].endsWith(" HTTP/9.9"));
  }

  static String abbreviate(String s) {
    String t = s == null ? "" : s.replace("\r", "\\r").replace("\n", "\\n");
    return t.length() <= 300 ? t : t.substring(0, 300) + "…";
  }

  static String report(Result r) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "requests: %,d in %.1f s (%,.0f/s); answered with a status: %,d%n",
        r.requests(), r.millis() / 1000.0, r.requests() * 1000.0 / Math.max(1, r.millis()), r.answered()));
    b.append(String.format(Locale.ROOT,
        "5xx from Bastion: %d; transport errors: %d; timeouts (client gave up after 30 s): %d;"
            + " raw requests closed without a status: %d; sessions opened by generated initialize (each deleted at once): %d;"
            + " pooled sessions replaced after a 404 (a generated DELETE ended them): %d%n"
            + "HTTP-layer answers to non-HTTP request lines (RFC 9110: 501 unknown method, 505 HTTP/9.9; not failures): %d%n",
        r.serverErrors(), r.transportErrors(), r.timeouts(), r.rawClosedWithoutStatus(), r.sessionsOpened(),
        r.sessionsReplaced(), r.httpLayerAnswers()));
    b.append("by status: ").append(r.byStatus()).append('\n');
    b.append("| category | requests | outcomes (status or what happened: count) |\n|---|---:|---|\n");
    r.byCategory().forEach((c, m) -> b.append("| ").append(c).append(" | ")
        .append(String.format(Locale.ROOT, "%,d", m.values().stream().mapToLong(Long::longValue).sum()))
        .append(" | ").append(m.toString().replace("{", "").replace("}", "").replace("=", ": ")).append(" |\n"));
    for (String s : r.samples()) {
      b.append("sample: ").append(s).append('\n');
    }
    return b.toString();
  }

  // ------------------------------------------------------------------ the long run

  public static void main(String[] args) throws Exception {
    int requests = 100_000;
    int concurrency = 16;
    int rounds = 4;
    boolean histogram = false;
    long seed = 1;
    Path out = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--requests" -> requests = Integer.parseInt(args[++i]);
        case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--histogram" -> histogram = true;
        case "--out" -> out = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (--requests N --rounds R --concurrency C --seed S --histogram --out FILE)");
      }
    }
    Path work = Files.createTempDirectory("bastion-fuzz-");
    List<String> upstream = upstreamCommand();
    Path yaml = work.resolve("bastion.yaml");
    StringBuilder y = new StringBuilder("gateway:\n  host: 127.0.0.1\n  port: 0\nmcp:\n  servers:\n"
        + "    - name: everything\n      type: stdio\n      command: [");
    for (int i = 0; i < upstream.size(); i++) {
      y.append(i == 0 ? "" : ", ").append(JSON.writeValueAsString(upstream.get(i)));
    }
    Files.writeString(yaml, y.append("]\n").toString());
    String[] url = new String[1];
    System.out.println("upstream: " + String.join(" ", upstream));
    try (Procs.Child node = Procs.start("bastion", Procs.javaCmd(
            List.of("-Xmx512m", "-Dpekko.remote.artery.canonical.port=0", "-Dpekko.cluster.jmx.multi-mbeans-in-same-jvm=on"),
            "io.bastion.node.Main", "--config", yaml.toString(), "--port", "0", "--management-port", "0",
            "--data", work.resolve("data").toString()),
        work.resolve("bastion.log"), BenchmarkMain.READY, Duration.ofSeconds(120), url)) {
      URI mcp = URI.create(url[0]);
      HttpClient client = HttpClient.newHttpClient();
      awaitTools(client, mcp);
      // The barrage runs in rounds with the heap read after GC between them: growth that stops
      // after the first round is caches warming (H2's page cache, the JIT's profile, pools);
      // growth that goes on round after round would be a leak.
      List<Long> heaps = new ArrayList<>(List.of(Procs.remoteHeapUsedAfterGc(node.pid())));
      String before = histogram ? histogram(node.pid()) : "";
      StringBuilder text = new StringBuilder();
      boolean failed = false;
      for (int round = 1; round <= rounds; round++) {
        Result r = run(mcp, requests / rounds, concurrency, seed + round - 1, 4 * 1024 * 1024);
        heaps.add(Procs.remoteHeapUsedAfterGc(node.pid()));
        text.append(String.format(Locale.ROOT, "%n--- round %d of %d (seed %d) ---%n", round, rounds, seed + round - 1))
            .append(report(r));
        failed |= r.serverErrors() > 0 || r.transportErrors() > 0;
      }
      String alive = liveness(client, mcp);
      boolean processAlive = node.process().isAlive();
      if (histogram) {
        text.append(String.format("%nlargest classes on the heap at the start:%n%s%nand at the end:%n%s%n", before,
            histogram(node.pid())));
      }
      StringBuilder h = new StringBuilder();
      for (int i = 0; i < heaps.size(); i++) {
        h.append(i == 0 ? "start " : ", after round " + i + " ").append(String.format(Locale.ROOT, "%.1f MB", heaps.get(i) / 1e6));
      }
      text.append(String.format(Locale.ROOT,
          "%n=== %,d requests in %d rounds, concurrency %d ===%nnode process alive: %s; after the barrage: %s%n"
              + "heap used after GC (jcmd GC.run ×2, GC.heap_info; -Xmx512m): %s%nnode log: %s%n",
          requests, rounds, concurrency, processAlive, alive, h, work.resolve("bastion.log")));
      System.out.print(text);
      if (out != null) {
        Files.writeString(out, text);
      }
      if (failed || !processAlive || !alive.startsWith("ok")) {
        System.exit(1);
      }
    }
  }

  /** The top of {@code jcmd GC.class_histogram} (live objects, after a full GC). */
  static String histogram(long pid) {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    String out = Procs.capture(Duration.ofSeconds(60), jcmd, Long.toString(pid), "GC.class_histogram");
    String[] lines = out.split("\n");
    StringBuilder b = new StringBuilder(String.join("\n", java.util.Arrays.copyOfRange(lines, 0, Math.min(lines.length, 24))));
    b.append("\nBastion's own classes:");
    for (String line : lines) {
      if (line.contains("io.bastion.")) {
        b.append('\n').append(line);
      }
    }
    return b.toString();
  }

  /** server-everything over stdio when node/src/test/node has it installed, else the benchmarks' stdio mock. */
  static List<String> upstreamCommand() {
    String relative = "node/src/test/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
    for (Path script : List.of(Path.of(relative), Path.of("..", relative))) {
      if (Files.isRegularFile(script) && Procs.which("node") != null) {
        return List.of(Procs.which("node"), script.toAbsolutePath().normalize().toString(), "stdio");
      }
    }
    return Procs.javaCmd(List.of("-Xmx128m", "-XX:+UseSerialGC"), MockUpstream.class.getName(), "--stdio");
  }

  static void awaitTools(HttpClient client, URI mcp) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        String s = Mcp.open(client, mcp, TIMEOUT);
        listTools(client, mcp, s);
        delete(client, mcp, s);
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  /** "ok ..." when the node still answers health, initialize, tools/list and a tools/call. */
  static String liveness(HttpClient client, URI mcp) {
    try {
      HttpResponse<String> live = client.send(HttpRequest.newBuilder(mcp.resolve("/health/live")).timeout(TIMEOUT)
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      String s = Mcp.open(client, mcp, TIMEOUT);
      List<String> tools = listTools(client, mcp, s);
      String tool = tools.stream().filter(t -> t.endsWith("echo")).findFirst().orElse(tools.get(0));
      HttpResponse<String> call = client.send(HttpRequest.newBuilder(mcp).timeout(TIMEOUT)
          .header("Content-Type", "application/json").header("Accept", HostileRequests.BOTH)
          .header("Mcp-Session-Id", s).header("MCP-Protocol-Version", Mcp.PROTOCOL)
          .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
              + "{\"name\":\"" + tool + "\",\"arguments\":{\"message\":\"still here\",\"text\":\"still here\"}}}")).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode m = lastMessage(call.body());
      boolean ok = live.statusCode() == 200 && call.statusCode() == 200 && m != null && m.has("result");
      return (ok ? "ok" : "FAILED") + " (health/live " + live.statusCode() + ", " + tools.size() + " tools, "
          + tool + " → " + call.statusCode() + (m != null && m.has("result") ? " result" : " " + abbreviate(call.body()))
          + ")";
    } catch (Exception e) {
      return "FAILED: " + e;
    }
  }
}
