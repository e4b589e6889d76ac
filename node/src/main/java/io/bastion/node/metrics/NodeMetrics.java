package io.bastion.node.metrics;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The node-local figures that are sampled rather than recorded as they happen. The metrics
 * package is a leaf: it knows no other package of the node. Whoever owns a figure (sessions,
 * streams, the audit queue, upstream states) {@linkplain #register registers} a sampler that
 * reads it and records it through {@link Metrics}; cluster members are sampled here. One per
 * ActorSystem; {@link #start} schedules the sampling on the system's scheduler (every {@code
 * bastion.metrics.sample-interval}), so it stops with the node.
 */
public final class NodeMetrics implements Extension {

  private static final List<String> MEMBER_STATUSES =
      List.of("joining", "weakly_up", "up", "leaving", "exiting", "down", "removed", "preparing_for_shutdown",
          "ready_for_shutdown");

  private final ActorSystem<?> system;
  private final List<Runnable> samplers = new CopyOnWriteArrayList<>();
  private Cancellable task;

  private NodeMetrics(ActorSystem<?> system) {
    this.system = system;
    samplers.add(this::sampleMembers);
  }

  public static NodeMetrics get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** Adds a sampler, run every sample interval on the system's dispatcher; it must be quick. */
  public void register(Runnable sampler) {
    samplers.add(sampler);
  }

  /** Starts sampling this node's gauges. */
  public synchronized void start(Duration interval) {
    if (task != null) {
      return;
    }
    task = system.scheduler().scheduleAtFixedRate(Duration.ZERO, interval, this::sample, system.executionContext());
  }

  private void sample() {
    for (Runnable sampler : samplers) {
      try {
        sampler.run();
      } catch (RuntimeException e) {
        system.log().debug("metrics sampling failed", e);
      }
    }
  }

  private void sampleMembers() {
    Map<String, Long> members = new HashMap<>();
    MEMBER_STATUSES.forEach(st -> members.put(st, 0L));
    for (Member m : Cluster.get(system).state().getMembers()) {
      members.merge(statusName(m), 1L, Long::sum);
    }
    members.merge("unreachable", (long) Cluster.get(system).state().getUnreachable().size(), Long::sum);
    members.forEach(Metrics::clusterMembers);
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
