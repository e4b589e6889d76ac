package io.bastion.node.upstream;

import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.UpstreamCatalog;
import java.time.Duration;
import java.util.ArrayList;
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
 */
public final class UpstreamDirectory implements Extension {

  static final Key<LWWMap<String, UpstreamStatus>> KEY = LWWMapKey.create("bastion-upstreams");

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

  /** Publishes one upstream's status to every node. */
  public void publish(UpstreamStatus status) {
    replicator.tell(new Replicator.Update<>(KEY, LWWMap.create(), writeConsistency,
        system.ignoreRef(), map -> map.put(self, status.name(), status)));
    // Apply locally at once: the owner's own edge must not wait for the subscription interval.
    apply(withEntry(snapshot.statuses(), status));
  }

  private static Map<String, UpstreamStatus> withEntry(Map<String, UpstreamStatus> m, UpstreamStatus s) {
    Map<String, UpstreamStatus> copy = new TreeMap<>(m);
    copy.put(s.name(), s);
    return copy;
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

  private synchronized void apply(Map<String, UpstreamStatus> next) {
    Snapshot prev = snapshot;
    // A stale replica must not overwrite a newer local write.
    Map<String, UpstreamStatus> merged = new TreeMap<>(prev.statuses());
    for (Map.Entry<String, UpstreamStatus> e : next.entrySet()) {
      UpstreamStatus old = merged.get(e.getKey());
      if (old == null || old.updatedAtMillis() <= e.getValue().updatedAtMillis()) {
        merged.put(e.getKey(), e.getValue());
      }
    }
    Set<String> changed = new java.util.TreeSet<>();
    Set<String> notifications = new java.util.TreeSet<>();
    for (UpstreamStatus s : merged.values()) {
      UpstreamStatus old = prev.statuses().get(s.name());
      UpstreamCatalog was = old == null ? UpstreamCatalog.empty(s.name(), "") : old.catalog();
      UpstreamCatalog now = s.catalog();
      if (!was.equals(now)) {
        changed.add(s.name());
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

  private Behavior<Replicator.SubscribeResponse<LWWMap<String, UpstreamStatus>>> subscriber() {
    return Behaviors.setup(ctx -> {
      replicator.tell(new Replicator.Subscribe<>(KEY, ctx.getSelf()));
      return Behaviors.receive((c, msg) -> {
        if (msg instanceof Replicator.Changed<LWWMap<String, UpstreamStatus>> changed) {
          apply(changed.get(KEY).getEntries());
        }
        return Behaviors.same();
      });
    });
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
