package io.bastion.node.upstream;

import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.UpstreamCatalog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * Every node's local, replicated view of all upstreams: their state and catalog, merged into one
 * {@link FederatedCatalog}. Written by {@link UpstreamServer} entities on their owner node,
 * replicated to every node with Distributed Data (an {@code LWWMap} keyed by server name), and
 * read without any ask on every client request.
 *
 * <p>Listeners are told (on the subscriber actor's thread) which servers' catalogs changed, so the
 * edge can send {@code notifications/*_list_changed} to the sessions that see them.
 *
 * <p>Only servers in this node's configuration ({@link #configure}) are served: an entry for any
 * other name (a server removed from the YAML, still in the replicated map) is ignored on read, and
 * removed from the map once no running node can still be writing it (its owner has left the
 * cluster, or is this node). Which of two statuses of one server is newer is decided by
 * {@link UpstreamStatus#version()}, both in the map (as the LWW register's clock) and in the local
 * cache, never by comparing wall clocks of different nodes (docs/cluster.md).
 */
public final class UpstreamDirectory implements Extension {

  /**
   * {@code -v2}: entries are ordered by {@link UpstreamStatus#version()}. The first map used wall
   * clock timestamps, which would beat every version; the two must never merge.
   */
  static final Key<LWWMap<String, UpstreamStatus>> KEY = LWWMapKey.create("bastion-upstreams-v2");

  /** The LWW register's clock: the status's own version, not the writer's wall clock. */
  static final LWWRegister.Clock<UpstreamStatus> VERSION_CLOCK = (current, status) -> status.version();

  /** How often entries of unconfigured servers are checked for removal (besides on every change). */
  private static final Duration SWEEP_INTERVAL = Duration.ofSeconds(5);

  private enum Sweep { INSTANCE }

  /**
   * A catalog change: the servers whose tools, prompts or resources changed, and the
   * {@code notifications/*_list_changed} methods that describe it.
   */
  public interface Listener {
    void catalogChanged(Set<String> servers, Set<String> notifications, FederatedCatalog catalog);
  }

  private record Snapshot(Map<String, UpstreamStatus> statuses, FederatedCatalog catalog) {}

  private final ActorSystem<?> system;
  private final SelfUniqueAddress self;
  private final ActorRef<Replicator.Command> replicator;
  private volatile Snapshot snapshot = new Snapshot(Map.of(), FederatedCatalog.EMPTY);
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final Replicator.WriteConsistency writeConsistency =
      new Replicator.WriteAll(Duration.ofSeconds(2));
  /** The configured server names; null until {@link #configure} (then nothing is filtered). */
  private volatile Set<String> configured;
  /** The replicated map as last seen, unfiltered (what the sweep removes entries from). */
  private volatile Map<String, UpstreamStatus> replicated = Map.of();
  /** Servers whose removal was asked for since the last change (on the subscriber's thread only). */
  private final Set<String> removalAsked = new HashSet<>();

  private UpstreamDirectory(ActorSystem<?> system) {
    this.system = system;
    this.self = DistributedData.get(system).selfUniqueAddress();
    this.replicator = DistributedData.get(system).replicator();
    system.systemActorOf(subscriber(), "bastion-upstream-directory",
        org.apache.pekko.actor.typed.Props.empty());
  }

  public static UpstreamDirectory get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /**
   * The servers this node serves: the names in its configuration (the same on every node of a
   * cluster). Entries for other names are dropped from this node's view at once.
   */
  public void configure(Collection<String> serverNames) {
    configured = Set.copyOf(serverNames);
    apply(Map.of());
  }

  /** Publishes one upstream's status to every node. */
  public void publish(UpstreamStatus status) {
    replicator.tell(new Replicator.Update<>(KEY, LWWMap.create(), writeConsistency,
        system.ignoreRef(), map -> map.put(self, status.name(), status, VERSION_CLOCK)));
    // Apply locally at once: the owner's own edge must not wait for the subscription interval.
    apply(Map.of(status.name(), status));
  }

  public Map<String, UpstreamStatus> statuses() {
    return snapshot.statuses();
  }

  public FederatedCatalog catalog() {
    return snapshot.catalog();
  }

  public void addListener(Listener l) {
    listeners.add(l);
  }

  /** Names in the replicated map, including servers this node does not serve (for tests). */
  Set<String> replicatedNames() {
    return replicated.keySet();
  }

  /**
   * Merges {@code next} into this node's view: an entry replaces the cached one of its server
   * when its version is not older; servers outside the configuration are dropped.
   */
  synchronized void apply(Map<String, UpstreamStatus> next) {
    Snapshot prev = snapshot;
    Set<String> known = configured;
    Map<String, UpstreamStatus> merged = new TreeMap<>(prev.statuses());
    if (known != null) {
      merged.keySet().retainAll(known);
    }
    for (Map.Entry<String, UpstreamStatus> e : next.entrySet()) {
      if (known != null && !known.contains(e.getKey())) {
        continue;
      }
      UpstreamStatus old = merged.get(e.getKey());
      // A stale replica (an older incarnation, or an older write of this one) must not overwrite
      // a newer status, whatever the clocks of the nodes that wrote them say.
      if (old == null || old.version() <= e.getValue().version()) {
        merged.put(e.getKey(), e.getValue());
      }
    }
    Set<String> changed = new java.util.TreeSet<>();
    Set<String> notifications = new java.util.TreeSet<>();
    Set<String> names = new java.util.TreeSet<>(merged.keySet());
    names.addAll(prev.statuses().keySet());
    for (String name : names) {
      UpstreamStatus old = prev.statuses().get(name);
      UpstreamStatus cur = merged.get(name);
      UpstreamCatalog was = old == null ? UpstreamCatalog.empty(name, "") : old.catalog();
      UpstreamCatalog now = cur == null ? UpstreamCatalog.empty(name, was.prefix()) : cur.catalog();
      if (!was.equals(now)) {
        changed.add(name);
        if (!was.tools().equals(now.tools()) || !was.prefix().equals(now.prefix())) {
          notifications.add(io.bastion.protocol.Methods.NOTIFICATION_TOOLS_LIST_CHANGED);
        }
        if (!was.prompts().equals(now.prompts())) {
          notifications.add(io.bastion.protocol.Methods.NOTIFICATION_PROMPTS_LIST_CHANGED);
        }
        if (!was.resources().equals(now.resources()) || !was.resourceTemplates().equals(now.resourceTemplates())) {
          notifications.add(io.bastion.protocol.Methods.NOTIFICATION_RESOURCES_LIST_CHANGED);
        }
      }
    }
    if (changed.isEmpty() && merged.equals(prev.statuses())) {
      return;
    }
    List<UpstreamCatalog> catalogs = new ArrayList<>();
    merged.values().forEach(s -> catalogs.add(s.catalog()));
    FederatedCatalog catalog = changed.isEmpty() ? prev.catalog() : FederatedCatalog.build(catalogs);
    // Sorted by name (not Map.copyOf, whose iteration order changes from JVM to JVM): the operator
    // views list upstreams in a stable order.
    snapshot = new Snapshot(java.util.Collections.unmodifiableMap(merged), catalog);
    if (!changed.isEmpty()) {
      for (Listener l : listeners) {
        try {
          l.catalogChanged(changed, notifications, catalog);
        } catch (RuntimeException e) {
          system.log().warn("catalog listener failed", e);
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private Behavior<Object> subscriber() {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      replicator.tell(new Replicator.Subscribe<>(KEY, ctx.getSelf().narrow()));
      timers.startTimerWithFixedDelay(Sweep.INSTANCE, SWEEP_INTERVAL);
      return Behaviors.receive((c, msg) -> {
        if (msg instanceof Replicator.Changed<?> changed) {
          Map<String, UpstreamStatus> entries =
              ((Replicator.Changed<LWWMap<String, UpstreamStatus>>) changed).get(KEY).getEntries();
          replicated = entries;
          removalAsked.clear();
          apply(entries);
          sweep();
        } else if (msg == Sweep.INSTANCE) {
          sweep();
        }
        return Behaviors.same();
      });
    }));
  }

  /**
   * Removes from the replicated map the entries of servers this node's configuration does not
   * list, once nothing can write them again: their owner is no longer a cluster member, or is
   * this node (which does not run them). An owner that is still a member runs an older config
   * (a rolling change); its entry stays, ignored here, until it leaves.
   */
  private void sweep() {
    Set<String> known = configured;
    if (known == null || replicated.isEmpty()) {
      return;
    }
    org.apache.pekko.cluster.Cluster cluster = org.apache.pekko.cluster.Cluster.get(system);
    String selfAddress = cluster.selfAddress().toString();
    Set<String> members = new HashSet<>();
    cluster.state().getMembers().forEach(m -> members.add(m.address().toString()));
    for (UpstreamStatus s : replicated.values()) {
      if (!known.contains(s.name()) && !removalAsked.contains(s.name())
          && (s.owner() == null || s.owner().equals(selfAddress) || !members.contains(s.owner()))) {
        system.log().info("Removing upstream [{}] from the directory: not in this node's configuration",
            s.name());
        removalAsked.add(s.name());
        replicator.tell(new Replicator.Update<>(KEY, LWWMap.create(), Replicator.writeLocal(),
            system.ignoreRef(), map -> map.remove(self, s.name())));
      }
    }
  }

  /** Registers the directory as a Pekko extension: one per ActorSystem. */
  public static final class Id extends ExtensionId<UpstreamDirectory> {
    static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public UpstreamDirectory createExtension(ActorSystem<?> system) {
      return new UpstreamDirectory(system);
    }
  }

}
