package io.bastion.node;

import com.typesafe.config.ConfigFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigException;
import io.bastion.config.ConfigLoader;
import io.bastion.config.StoreConfig;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamStatus;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;

/**
 * {@code bastion [--config FILE] [--host H] [--port N] [--data DIR]}: loads the config, starts one
 * node, prints one line per upstream and a ready line with the endpoint URL.
 */
public final class Main {
  static final String USAGE = """
      Usage: bastion [options]
        --config FILE   the Bastion YAML config (default: config/bastion.yaml)
        --host H        interface to listen on (default: gateway.host, else 127.0.0.1)
        --port N        HTTP port (default: gateway.port, else 8080; 0 picks a free port)
        --data DIR      directory of the embedded H2 store (default: store.data_dir, else ./data)
        --help          this text
      Pekko settings can be overridden with -D flags, e.g. -Dpekko.remote.artery.canonical.port=25521
      """;

  private Main() {}

  public static void main(String[] args) {
    commonPoolParallelism();
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Futures returned by Pekko (Scala futures seen as CompletionStage) run their follow-up steps
   * on the JDK common pool. On a 2-core machine its parallelism is 1, and below 2 the JDK starts a
   * new thread for every task: ~7 thread starts per tools/call (found with JFR, see
   * docs/benchmarks.md). Raise it unless the operator chose a value.
   */
  static void commonPoolParallelism() {
    String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(key) == null) {
      System.setProperty(key, Integer.toString(Math.max(4, Runtime.getRuntime().availableProcessors())));
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    Path configFile = Path.of("config/bastion.yaml");
    String host = null;
    Integer port = null;
    Path data = null;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--help", "-h" -> {
            out.print(USAGE);
            return 0;
          }
          case "--config" -> configFile = Path.of(value(args, ++i, "--config"));
          case "--host" -> host = value(args, ++i, "--host");
          case "--port" -> port = parsePort(value(args, ++i, "--port"));
          case "--data" -> data = Path.of(value(args, ++i, "--data"));
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
    } catch (IllegalArgumentException e) {
      err.println("bastion: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    BastionConfig config;
    try {
      config = ConfigLoader.load(configFile);
    } catch (ConfigException e) {
      err.println("bastion: invalid configuration\n" + e.getMessage());
      return 2;
    }
    config.warnings().forEach(w -> err.println("bastion: warning: " + w));
    config = override(config, host, port, data);
    // Before the ActorSystem: Kanela instruments Pekko as its classes load (docs/metrics.md).
    // -Dkamon.init.attach-instrumentation=no skips the agent (faster start, Bastion's metrics stay).
    Metrics.initKamon(true);
    BastionNode.Running node;
    try {
      node = BastionNode.start(config, ConfigFactory.systemProperties()
              .withFallback(ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on")))
          .toCompletableFuture().join();
    } catch (CompletionException e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      err.println("bastion: failed to start: " + c.getMessage());
      return 1;
    }
    printUpstreams(node, out);
    out.println("Bastion ready: MCP endpoint " + node.mcpUrl() + " (legacy SSE: "
        + node.mcpUrl().replace("/mcp", "/sse") + ")");
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }

  private static BastionConfig override(BastionConfig c, String host, Integer port, Path data) {
    var gw = c.gateway().withHostPort(host == null ? c.gateway().host() : host,
        port == null ? c.gateway().port() : port);
    StoreConfig store = c.store();
    if (data != null) {
      store = new StoreConfig(store.type(), store.url(), store.user(), store.password(), data);
    }
    return new BastionConfig(c.source(), gw, c.servers(), c.virtualKeys(), c.teams(), c.customers(),
        c.toolGroups(), c.audit(), store, c.adminToken(), c.warnings());
  }

  /** Waits (up to 20 s) until every upstream left "connecting", then prints one line each. */
  private static void printUpstreams(BastionNode.Running node, PrintStream out) {
    UpstreamDirectory dir = UpstreamDirectory.get(node.system());
    long deadline = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < deadline) {
      var statuses = dir.statuses();
      boolean settled = statuses.size() >= node.config().servers().size()
          && statuses.values().stream().noneMatch(s -> UpstreamStatus.CONNECTING.equals(s.state()));
      if (settled) {
        break;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    for (var server : node.config().servers()) {
      UpstreamStatus s = dir.statuses().get(server.name());
      if (s == null) {
        out.printf("upstream %-24s %-11s%n", server.name(), "starting");
      } else {
        out.printf("upstream %-24s %-11s %3d tools%s%n", s.name(), s.state(), s.catalog().tools().size(),
            s.lastError() == null ? "" : "  (" + s.lastError() + ")");
      }
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private static int parsePort(String s) {
    try {
      int p = Integer.parseInt(s);
      if (p < 0 || p > 65535) {
        throw new NumberFormatException();
      }
      return p;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--port expects a number from 0 to 65535, got " + s);
    }
  }
}
