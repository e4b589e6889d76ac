package io.bastion.node.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamStatus;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** Health probes and the read-only operator API ({@code /api/v1/servers}, {@code /api/v1/cluster}). */
public final class AdminRoutes {
  private final ActorSystem<?> system;
  private final UpstreamDirectory directory;
  private final BooleanSupplier configLoaded;
  private final List<String> upstreams;
  private final long upstreamWaitEndsNanos;
  /** Set once the upstreams no longer hold readiness back (all settled, or the wait is over): it stays set. */
  private volatile boolean upstreamsSettled;

  /** Readiness that does not wait for upstreams (tests of the operator API). */
  public AdminRoutes(ActorSystem<?> system, BooleanSupplier configLoaded) {
    this(system, configLoaded, List.of(), Duration.ZERO);
  }

  /**
   * @param upstreams the configured upstreams whose first connection attempt readiness waits for
   * @param upstreamWait the longest that wait lasts, counted from now (the node's start)
   */
  public AdminRoutes(ActorSystem<?> system, BooleanSupplier configLoaded, List<String> upstreams,
      Duration upstreamWait) {
    this.system = system;
    this.directory = UpstreamDirectory.get(system);
    this.configLoaded = configLoaded;
    this.upstreams = List.copyOf(upstreams);
    this.upstreamWaitEndsNanos = System.nanoTime() + upstreamWait.toNanos();
  }

  public HttpResponse live() {
    return EdgeResponses.json(StatusCodes.OK.intValue(), Json.object().put("status", "live"));
  }

  /**
   * Ready once this node is Up in the cluster (and until it starts to leave), its config is
   * loaded, and every configured upstream has finished its first connection attempt ({@link
   * #firstAttemptPending}) or {@code bastion.node.ready-wait-for-upstreams} has passed since the
   * start. Upstreams hold readiness
   * back only once, after the start: a later reconnect of one upstream does not take the whole
   * node out of a load balancer (its calls fail fast as a tool error instead).
   */
  public HttpResponse ready() {
    boolean up = Cluster.get(system).selfMember().status() == MemberStatus.up()
        && org.apache.pekko.actor.CoordinatedShutdown.get(system).getShutdownReason().isEmpty();
    List<String> pending = upstreamsSettled ? List.of() : firstAttemptPending();
    boolean waitOver = System.nanoTime() - upstreamWaitEndsNanos >= 0;
    if (pending.isEmpty() || waitOver) {
      upstreamsSettled = true;
    }
    boolean ok = up && configLoaded.getAsBoolean() && upstreamsSettled;
    ObjectNode body = Json.object().put("status", ok ? "ready" : "not-ready")
        .put("member", Cluster.get(system).selfMember().status().toString())
        .put("config", configLoaded.getAsBoolean());
    ObjectNode u = body.putObject("upstreams");
    ArrayNode waiting = u.putArray("firstAttemptPending");
    pending.forEach(waiting::add);
    u.put("waitExpired", !pending.isEmpty() && waitOver);
    return EdgeResponses.json(ok ? 200 : 503, body);
  }

  /**
   * The configured upstreams whose first connection attempt has not ended: no status seen yet, or
   * connecting with no failed attempt behind it. Ready, failed, backing off, or connecting again
   * after a failure all count as finished.
   */
  private List<String> firstAttemptPending() {
    Map<String, UpstreamStatus> statuses = directory.statuses();
    List<String> pending = new ArrayList<>();
    for (String name : upstreams) {
      UpstreamStatus s = statuses.get(name);
      if (s == null || (UpstreamStatus.CONNECTING.equals(s.state()) && s.attempts() == 0)) {
        pending.add(name);
      }
    }
    return pending;
  }

  /**
   * This node's view of the cluster: its own address, the members with status, roles and up
   * number, the unreachable members, and which node owns (runs) each upstream.
   */
  public HttpResponse cluster() {
    Cluster cluster = Cluster.get(system);
    var state = cluster.state();
    ObjectNode body = Json.object().put("self", cluster.selfAddress().toString());
    body.put("leader", state.getLeader() == null ? null : state.getLeader().toString());
    ArrayNode members = body.putArray("members");
    state.getMembers().forEach(m -> members.add(member(m)));
    ArrayNode unreachable = body.putArray("unreachable");
    state.getUnreachable().stream()
        .sorted(java.util.Comparator.comparing(m -> m.address().toString()))
        .forEach(m -> unreachable.add(member(m)));
    ArrayNode upstreams = body.putArray("upstreams");
    for (UpstreamStatus s : directory.statuses().values()) {
      upstreams.addObject().put("name", s.name()).put("owner", s.owner()).put("state", s.state());
    }
    return EdgeResponses.json(StatusCodes.OK.intValue(), body);
  }

  private static ObjectNode member(org.apache.pekko.cluster.Member m) {
    ObjectNode o = Json.object().put("address", m.address().toString())
        .put("status", m.status().toString());
    ArrayNode roles = o.putArray("roles");
    new java.util.TreeSet<>(m.getRoles()).forEach(roles::add);
    o.put("upNumber", m.upNumber());
    return o;
  }

  /** Every upstream with its state, last error, owner node and catalog size. */
  public HttpResponse servers() {
    ObjectNode body = Json.object();
    ArrayNode arr = body.putArray("servers");
    FederatedCatalog catalog = directory.catalog();
    for (UpstreamStatus s : directory.statuses().values()) {
      ObjectNode o = arr.addObject().put("name", s.name()).put("state", s.state())
          .put("owner", s.owner()).put("attempts", s.attempts())
          .put("tools", s.catalog().tools().size()).put("resources", s.catalog().resources().size())
          .put("resourceTemplates", s.catalog().resourceTemplates().size())
          .put("prompts", s.catalog().prompts().size())
          .put("updatedAt", java.time.Instant.ofEpochMilli(s.updatedAtMillis()).toString());
      o.put("lastError", s.lastError());
      ArrayNode backoff = o.putArray("recentBackoffMs");
      s.recentBackoffMs().forEach(backoff::add);
      if (s.serverInfo() != null) {
        o.set("serverInfo", s.serverInfo());
      }
    }
    ArrayNode collisions = body.putArray("collisions");
    catalog.collisions().forEach(collisions::add);
    return EdgeResponses.json(StatusCodes.OK.intValue(), body);
  }
}
