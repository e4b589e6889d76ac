package io.bastion.node.governance;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.persistence.CborSerializable;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.LWWRegisterKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The admin API's changes to keys, teams, customers and tool groups: one sharded, event-sourced
 * entity for the whole cluster (id {@value #ID}), so changes are serialized and persisted in the
 * journal (they survive restarts of any or all nodes). After each persisted change, and after
 * recovery, it writes its whole state ({@link Overlay}, small) to a Distributed Data register
 * replicated to every node ({@code WriteAll}, then gossip); every node's {@link
 * GovernanceDefinitions} subscribes to it and rebuilds its key directory and access policy. The
 * register's clock is the overlay's version (the journal sequence number), so a newer overlay
 * always wins whatever the nodes' wall clocks say.
 */
public final class GovernanceRegistry
    extends EventSourcedBehavior<GovernanceRegistry.Command, GovernanceRegistry.Event, GovernanceRegistry.Overlay> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "GovernanceRegistry");
  static final String ID = "registry";
  static final Key<LWWRegister<Overlay>> KEY = LWWRegisterKey.create("bastion-governance");
  static final LWWRegister.Clock<Overlay> CLOCK = (current, value) -> value.version();

  /** Kinds of definitions. */
  public static final String KEYS = "keys";
  public static final String TEAMS = "teams";
  public static final String CUSTOMERS = "customers";
  public static final String GROUPS = "groups";

  /**
   * One definition set through the API: its JSON (the YAML field names; never a key's value), a
   * key's SHA-256 in hex (keys only), or a tombstone ({@code deleted}) that hides a definition of
   * the config file.
   */
  public record Entry(ObjectNode definition, String keyHash, boolean deleted) implements CborSerializable {}

  /** Every API change, per kind and name; {@code version} grows with every change. */
  public record Overlay(long version, Map<String, Map<String, Entry>> kinds) implements CborSerializable {
    static final Overlay EMPTY = new Overlay(0, Map.of());

    public Map<String, Entry> of(String kind) {
      return kinds.getOrDefault(kind, Map.of());
    }

    Overlay with(long version, String kind, String name, Entry e) {
      Map<String, Map<String, Entry>> copy = new TreeMap<>(kinds);
      Map<String, Entry> k = new TreeMap<>(of(kind));
      if (e == null) {
        k.remove(name);
      } else {
        k.put(name, e);
      }
      copy.put(kind, k);
      return new Overlay(version, copy);
    }
  }

  public sealed interface Command extends CborSerializable permits Put, Remove, Get {}

  /** Sets {@code kind/name} ({@code entry.deleted}: hides it); answers with the new overlay. */
  public record Put(String kind, String name, Entry entry, ActorRef<Overlay> replyTo) implements Command {}

  /** Drops the API's entry for {@code kind/name} (the config's definition, if any, applies again). */
  public record Remove(String kind, String name, ActorRef<Overlay> replyTo) implements Command {}

  public record Get(ActorRef<Overlay> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable permits Defined, Dropped {}

  public record Defined(String kind, String name, Entry entry) implements Event {}

  public record Dropped(String kind, String name) implements Event {}

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY,
        ctx -> Behaviors.setup(c -> new GovernanceRegistry(c))));
  }

  public static EntityRef<Command> ref(ActorSystem<?> system) {
    return ClusterSharding.get(system).entityRefFor(ENTITY_TYPE_KEY, ID);
  }

  private final ActorContext<Command> ctx;
  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;

  private GovernanceRegistry(ActorContext<Command> ctx) {
    super(PersistenceId.of("GovernanceRegistry", ID));
    this.ctx = ctx;
    this.replicator = DistributedData.get(ctx.getSystem()).replicator();
    this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
  }

  @Override
  public Overlay emptyState() {
    return Overlay.EMPTY;
  }

  @Override
  public CommandHandler<Command, Event, Overlay> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Put.class, (state, c) -> Effect().persist(new Defined(c.kind(), c.name(), c.entry()))
            .thenRun(s -> publishAndReply(s, c.replyTo())))
        .onCommand(Remove.class, (state, c) -> {
          if (!state.of(c.kind()).containsKey(c.name())) {
            c.replyTo().tell(state);
            return Effect().none();
          }
          return Effect().persist(new Dropped(c.kind(), c.name())).thenRun(s -> publishAndReply(s, c.replyTo()));
        })
        .onCommand(Get.class, (state, c) -> {
          c.replyTo().tell(state);
          return Effect().none();
        })
        .build();
  }

  private void publishAndReply(Overlay s, ActorRef<Overlay> replyTo) {
    publish(s);
    replyTo.tell(s);
  }

  private void publish(Overlay s) {
    replicator.tell(new Replicator.Update<>(KEY, LWWRegister.create(self, Overlay.EMPTY, CLOCK),
        new Replicator.WriteAll(Duration.ofSeconds(2)), ctx.getSystem().ignoreRef(),
        r -> r.withValue(self, s, CLOCK)));
  }

  @Override
  public EventHandler<Overlay, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Defined.class, (s, e) -> s.with(s.version() + 1, e.kind(), e.name(), e.entry()))
        .onEvent(Dropped.class, (s, e) -> s.with(s.version() + 1, e.kind(), e.name(), null))
        .build();
  }

  @Override
  public SignalHandler<Overlay> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::publish).build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
