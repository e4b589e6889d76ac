package io.bastion.node.metrics;

import io.bastion.node.http.StreamRegistry;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamStatus;
import io.bastion.persistence.audit.AuditLog;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The node-local figures that are sampled rather than recorded as they happen: open sessions and
 * streams, the audit queue, upstream states and cluster members. One per ActorSystem; {@link
 * #start} schedules the sampling on the system's scheduler (every {@code
 * bastion.metrics.sample-interval}), so it stops with the node.
 */
public final class NodeMetrics implements Extension {

  private static final List<String> UPSTREAM_STATES = List.of(UpstreamStatus.CONNECTING, UpstreamStatus.READY,
      UpstreamStatus.BACKING_OFF, UpstreamStatus.FAILED);
  private static final List<String> MEMBER_STATUSES =
      List.of("joining", "weakly_up", "up", "leaving", "exiting", "down", "removed", "preparing_for_shutdown",
          "ready_for_shutdown");

  private final ActorSystem<?> system;
  private final AtomicLong sessionsOpen = new AtomicLong();
  private long lastDropped;
  private Cancellable task;

  private NodeMetrics(ActorSystem<?> system) {
    this.system = system;
  }

  public static NodeMetrics get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** A session entity on this node opened ({@code +1}) or went away ({@code -1}). */
  public void sessionDelta(int delta) {
    sessionsOpen.addAndGet(delta);
  }

  public long sessionsOpen() {
    return sessionsOpen.get();
  }

  /** Starts sampling this node's gauges. */
  public synchronized void start(StreamRegistry streams, AuditLog audit, Duration interval) {
    if (task != null) {
      return;
    }
    task = system.scheduler().scheduleAtFixedRate(Duration.ZERO, interval,
        () -> sample(streams, audit), system.executionContext());
  }

  private void sample(StreamRegistry streams, AuditLog audit) {
    try {
      Metrics.sessionsOpen(sessionsOpen.get());
      Metrics.streamsOpen(streams.openStreams());
      Metrics.auditQueueDepth(audit.queued());
      long dropped = audit.dropped();
      Metrics.auditDropped(dropped - lastDropped);
      lastDropped = dropped;
      for (UpstreamStatus s : UpstreamDirectory.get(system).statuses().values()) {
        for (String state : UPSTREAM_STATES) {
          Metrics.upstreamState(s.name(), state, state.equals(s.state()));
        }
      }
      Map<String, Long> members = new HashMap<>();
      MEMBER_STATUSES.forEach(st -> members.put(st, 0L));
      for (Member m : Cluster.get(system).state().getMembers()) {
        members.merge(statusName(m), 1L, Long::sum);
      }
      members.merge("unreachable", (long) Cluster.get(system).state().getUnreachable().size(), Long::sum);
      members.forEach(Metrics::clusterMembers);
    } catch (RuntimeException e) {
      system.log().debug("metrics sampling failed", e);
    }
  }

  /** Pekko's MemberStatus ({@code Up}, {@code WeaklyUp}, ...) as a label value ({@code up}, {@code weakly_up}). */
  static String statusName(Member m) {
    String s = m.status().toString();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isUpperCase(c) && i > 0) {
        sb.append('_');
      }
      sb.append(Character.toLowerCase(c));
    }
    return sb.toString().toLowerCase(Locale.ROOT);
  }

  /** One per ActorSystem. */
  public static final class Id extends ExtensionId<NodeMetrics> {
    static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public NodeMetrics createExtension(ActorSystem<?> system) {
      return new NodeMetrics(system);
    }
  }
}
