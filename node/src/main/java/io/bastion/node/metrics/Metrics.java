package io.bastion.node.metrics;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bastion.protocol.Methods;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import kamon.Kamon;
import kamon.metric.Counter;
import kamon.metric.Gauge;
import kamon.metric.Histogram;
import kamon.metric.MeasurementUnit;
import kamon.metric.Metric;
import kamon.prometheus.PrometheusReporter;
import kamon.tag.TagSet;

/**
 * Bastion's metrics, recorded with the Kamon API and served in Prometheus text format at {@code
 * GET /metrics} from the scrape data of a {@link PrometheusReporter} (its embedded HTTP server is
 * off). Names and labels are documented in {@code docs/metrics.md}.
 *
 * <p>Kamon is JVM-wide: every node in one JVM (tests only) shares one registry, so {@code
 * /metrics} of any of them shows the same figures. {@link #initKamon(boolean)} is called by
 * {@code Main} before the ActorSystem exists (with Kanela's automatic instrumentation); {@link
 * #install(Config)} by every node start (without instrumentation when Kamon is not initialized
 * yet, as in the in-process test nodes).
 */
public final class Metrics {

  /** Label value for "no such thing" (anonymous key, unknown tool, no server). */
  public static final String NONE = "none";

  static {
    // Kamon resolves the host name when its object is first touched (environment.host = auto);
    // on machines with a slow resolver that costs seconds. Bastion does not export environment
    // tags, so a fixed name will do unless the operator sets one.
    if (System.getProperty("kamon.environment.host") == null) {
      String host = System.getenv("HOSTNAME");
      System.setProperty("kamon.environment.host", host == null || host.isBlank() ? "localhost" : host);
      ConfigFactory.invalidateCaches();
    }
  }

  private static final Metric.Histogram MCP_DURATION = Kamon.histogram("bastion.mcp.request.duration",
      "Time from receiving an MCP request on the edge to its final answer, by JSON-RPC method",
      MeasurementUnit.time().nanoseconds());
  private static final Metric.Counter TOOL_CALLS = Kamon.counter("bastion.tool.calls",
      "tools/call requests by server, tool, virtual key and outcome");
  private static final Metric.Histogram TOOL_DURATION = Kamon.histogram("bastion.tool.call.duration",
      "tools/call latency seen by the gateway (admission to final answer), by server, tool and outcome",
      MeasurementUnit.time().nanoseconds());
  private static final Metric.Gauge UPSTREAM_STATE = Kamon.gauge("bastion.upstream.state",
      "1 for the state each upstream is in (connecting, ready, backing-off, failed), 0 for the others");
  private static final Metric.Gauge UPSTREAM_IN_FLIGHT = Kamon.gauge("bastion.upstream.in_flight",
      "Requests sent to the upstream and not answered yet (on the node that owns the upstream)");
  private static final Metric.Counter STANDBY_CALLS = Kamon.counter("bastion.upstream.standby.calls",
      "Calls this node served through its own standby connection while the upstream's owner was lost");
  private static final Metric.Counter LOCAL_CALLS = Kamon.counter("bastion.upstream.local.calls",
      "Calls this node served through its own connection to an upstream with failover: active_active");
  private static final Metric.Counter RESENT_CALLS = Kamon.counter("bastion.upstream.resent.calls",
      "Calls sent again because they never reached the upstream's entity (dropped at a shard hand-off)");
  private static final Gauge SESSIONS_OPEN = Kamon.gauge("bastion.sessions.open",
      "MCP sessions whose session entity lives on this node").withoutTags();
  private static final Gauge STREAMS_OPEN = Kamon.gauge("bastion.streams.open",
      "Open GET /mcp and legacy /sse streams held by this node").withoutTags();
  private static final Gauge AUDIT_QUEUE = Kamon.gauge("bastion.audit.queue_depth",
      "Audit records waiting for the audit writer").withoutTags();
  private static final Counter AUDIT_DROPPED = Kamon.counter("bastion.audit.dropped",
      "Audit records dropped because the audit queue was full").withoutTags();
  private static final Metric.Counter REFUSALS = Kamon.counter("bastion.governance.refusals",
      "tools/call refused by governance: rate_limited, over_budget, denied (unknown or hidden tool)");
  private static final Metric.Gauge CLUSTER_MEMBERS = Kamon.gauge("bastion.cluster.members",
      "Cluster members by status, as seen by this node");

  /** The methods that get their own label value; anything else a client sends is "other". */
  private static final Set<String> METHODS = Set.of(Methods.INITIALIZE, Methods.PING, Methods.TOOLS_LIST,
      Methods.TOOLS_CALL, Methods.RESOURCES_LIST, Methods.RESOURCES_READ, Methods.RESOURCES_TEMPLATES_LIST,
      Methods.RESOURCES_SUBSCRIBE, Methods.RESOURCES_UNSUBSCRIBE, Methods.PROMPTS_LIST, Methods.PROMPTS_GET,
      Methods.COMPLETION_COMPLETE, Methods.LOGGING_SET_LEVEL);

  private static final Set<String> REFUSAL_KINDS = Set.of("rate_limited", "over_budget", "denied");

  private static PrometheusReporter reporter;
  private static boolean kamonStarted;
  private static boolean attached;
  private static Duration tickInterval;

  private Metrics() {}

  // ------------------------------------------------------------------ lifecycle

  /**
   * Kamon's configuration as Bastion uses it: the Prometheus reporter is registered by Bastion
   * (not auto-loaded) and its embedded server is off; the status page (an extra HTTP server) is
   * off. {@code -Dkamon.*} system properties win over all of it.
   */
  static Config kamonConfig(boolean attach, Duration tick) {
    Config bastion = ConfigFactory.parseString("""
        kamon.init.hide-banner = yes
        kamon.environment.service = bastion
        kamon.prometheus.start-embedded-http-server = no
        kamon.modules.prometheus-reporter.enabled = no
        kamon.modules.status-page.enabled = no
        # The process module's hiccup monitor wakes every millisecond by default (about 3 % of a
        # core on the 2-core box); pauses shorter than 50 ms are not worth that.
        kamon.instrumentation.system.process.hiccup-monitor-interval = 50 ms
        kamon.prometheus.buckets.time-buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
        """)
        .withValue("kamon.init.attach-instrumentation",
            com.typesafe.config.ConfigValueFactory.fromAnyRef(attach))
        .withValue("kamon.metric.tick-interval",
            com.typesafe.config.ConfigValueFactory.fromAnyRef(tick.toMillis() + "ms"));
    return ConfigFactory.systemProperties().withFallback(bastion).withFallback(ConfigFactory.load());
  }

  /**
   * True when the operator asked for Kanela's automatic instrumentation with {@code
   * -Dkamon.init.attach-instrumentation=yes} (or {@code true}/{@code on}); off by default.
   */
  public static boolean instrumentationRequested() {
    String v = System.getProperty("kamon.init.attach-instrumentation", "no").trim().toLowerCase(java.util.Locale.ROOT);
    return v.equals("yes") || v.equals("true") || v.equals("on");
  }

  /**
   * Initializes Kamon for the production path, before any ActorSystem exists: with {@code
   * attach} Kanela instruments Pekko, Pekko HTTP and JDBC (about +4 s start, +120 MB RSS and a
   * large per-message CPU cost, see {@link #instrumentationRequested}). Loads the bundle's modules
   * (JVM, process and host metrics) either way.
   */
  public static synchronized void initKamon(boolean attach) {
    if (!kamonStarted) {
      tickInterval = defaultTick();
      Kamon.init(kamonConfig(attach, tickInterval));
      kamonStarted = true;
      attached = attach;
    }
  }

  private static Duration defaultTick() {
    return ConfigFactory.load().getDuration("bastion.metrics.tick-interval");
  }

  /**
   * Makes sure Kamon runs (without instrumentation if nobody initialized it) with the node's
   * tick interval, and that Bastion's Prometheus reporter is registered. Idempotent, JVM-wide.
   */
  public static synchronized void install(Config pekkoRoot) {
    Duration tick = pekkoRoot.getDuration("bastion.metrics.tick-interval");
    if (!kamonStarted) {
      tickInterval = tick;
      Kamon.init(kamonConfig(false, tick));
      kamonStarted = true;
    } else if (!tick.equals(tickInterval)) {
      tickInterval = tick;
      Kamon.reconfigure(kamonConfig(attached, tick));
    }
    if (reporter == null) {
      // Present from the start (at 0), so that rate() and alerts see the series before the first refusal.
      REFUSAL_KINDS.forEach(k -> REFUSALS.withTags(TagSet.of("kind", k)));
      reporter = new PrometheusReporter("kamon.prometheus", Kamon.config());
      Kamon.addReporter("bastion-prometheus", reporter);
    }
  }

  /** The Prometheus text exposition of everything Kamon knows, as of the last tick. */
  public static String scrape() {
    PrometheusReporter r;
    synchronized (Metrics.class) {
      r = reporter;
    }
    return r == null ? "" : r.scrapeData();
  }

  // ------------------------------------------------------------------ recording

  /** An MCP request answered at the edge. Unknown method names are folded into "other". */
  public static void mcpRequest(String method, long nanos) {
    String m = method != null && METHODS.contains(method) ? method : "other";
    MCP_BY_METHOD.computeIfAbsent(m, k -> MCP_DURATION.withTags(TagSet.of("method", k)))
        .record(Math.max(0, nanos));
  }

  /** The instruments of one (server, tool, key, outcome): looked up once, not built per call. */
  private record ToolCallSeries(Counter calls, Histogram duration,
      Counter refusals) {}

  private record ToolCallLabels(String server, String tool, String key, String outcome) {}

  private static final Map<String, Histogram> MCP_BY_METHOD = new ConcurrentHashMap<>();
  private static final Map<ToolCallLabels, ToolCallSeries> TOOL_SERIES = new ConcurrentHashMap<>();

  /**
   * One finished tools/call, from the same figures the audit log gets: counts, latency and
   * governance refusals. {@code server} is null for an unknown tool, whose name (whatever the
   * client sent) is never a label value.
   */
  public static void toolCall(String server, String tool, String keyName, String outcome, long latencyMicros) {
    ToolCallLabels labels = new ToolCallLabels(orNone(server), server == null ? NONE : orNone(tool),
        orNone(keyName), orNone(outcome));
    ToolCallSeries series = TOOL_SERIES.computeIfAbsent(labels, l -> new ToolCallSeries(
        TOOL_CALLS.withTags(TagSet.builder().add("server", l.server()).add("tool", l.tool())
            .add("key", l.key()).add("outcome", l.outcome()).build()),
        TOOL_DURATION.withTags(TagSet.builder().add("server", l.server()).add("tool", l.tool())
            .add("outcome", l.outcome()).build()),
        REFUSAL_KINDS.contains(l.outcome()) ? REFUSALS.withTags(TagSet.of("kind", l.outcome())) : null));
    series.calls().increment();
    series.duration().record(Math.max(0, latencyMicros) * 1000);
    if (series.refusals() != null) {
      series.refusals().increment();
    }
  }

  public static void upstreamState(String server, String state, boolean current) {
    UPSTREAM_STATE.withTags(TagSet.builder().add("server", server).add("state", state).build())
        .update(current ? 1 : 0);
  }

  /** The gauge instrument of one upstream's in-flight count (kept by the owner entity). */
  public static Gauge upstreamInFlight(String server) {
    return UPSTREAM_IN_FLIGHT.withTags(TagSet.of("server", server));
  }

  /** The counter of calls this node serves through its standby connection to {@code server}. */
  public static Counter standbyCalls(String server) {
    return STANDBY_CALLS.withTags(TagSet.of("server", server));
  }

  /** The counter of calls this node serves through its active-active connection to {@code server}. */
  public static Counter localCalls(String server) {
    return LOCAL_CALLS.withTags(TagSet.of("server", server));
  }

  /** The counter of calls this node sent again because they never reached {@code server}'s entity. */
  public static Counter resentCalls(String server) {
    return RESENT_CALLS.withTags(TagSet.of("server", server));
  }

  public static void sessionsOpen(long n) {
    SESSIONS_OPEN.update(n);
  }

  public static void streamsOpen(long n) {
    STREAMS_OPEN.update(n);
  }

  public static void auditQueueDepth(long n) {
    AUDIT_QUEUE.update(n);
  }

  public static void auditDropped(long delta) {
    if (delta > 0) {
      AUDIT_DROPPED.increment(delta);
    }
  }

  public static void clusterMembers(String status, long n) {
    CLUSTER_MEMBERS.withTags(TagSet.of("status", status)).update(n);
  }

  private static String orNone(String s) {
    return s == null || s.isEmpty() ? NONE : s;
  }
}
