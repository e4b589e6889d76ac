package io.bastion.node.governance;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.persistence.CborSerializable;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
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
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
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
 *
 * <p>Command → event → state: {@link Put} persists {@link Defined}, {@link Remove} persists {@link
 * Dropped} (or nothing when there is nothing to drop); both answer the new overlay, or a {@code
 * StatusReply} error for a malformed change (unknown kind, blank name, no entry), which persists
 * nothing. The state is named {@link Overlay}, not {@code State}, because it is also the replicated
 * value and the journal's snapshot format: rename nothing without a {@code JacksonMigration} (see
 * {@code GovernanceRegistryTest}).
 */
public final class GovernanceRegistry extends
    EventSourcedBehaviorWithEnforcedReplies<GovernanceRegistry.Command, GovernanceRegistry.Event, GovernanceRegistry.Overlay> {

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
  /** Upstream servers added, changed or removed through the admin API ({@link ServerDefinitions}). */
  public static final String SERVERS = "servers";
  static final Set<String> KINDS = Set.of(KEYS, TEAMS, CUSTOMERS, GROUPS, SERVERS);

  /**
   * One definition set through the API: its JSON (the YAML field names; never a key's value), a
   * key's SHA-256 in hex (keys only), or a tombstone ({@code deleted}) that hides a definition of
   * the config file.
   */
  public record Entry(ObjectNode definition, String keyHash, boolean deleted) implements CborSerializable {}

  /** Every API change, per kind and name; {@code version} grows with every change. Immutable. */
  public record Overlay(long version, Map<String, Map<String, Entry>> kinds) implements CborSerializable {
    static final Overlay EMPTY = new Overlay(0, Map.of());

    public Map<String, Entry> of(String kind) {
      return kinds.getOrDefault(kind, Map.of());
    }

    boolean has(String kind, String name) {
      return of(kind).containsKey(name);
    }

    Overlay defined(Defined e) {
      return with(version + 1, e.kind(), e.name(), e.entry());
    }

    Overlay dropped(Dropped e) {
      return with(version + 1, e.kind(), e.name(), null);
    }

    private Overlay with(long version, String kind, String name, Entry e) {
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
  public record Put(String kind, String name, Entry entry, ActorRef<StatusReply<Overlay>> replyTo)
      implements Command {}

  /** Drops the API's entry for {@code kind/name} (the config's definition, if any, applies again). */
  public record Remove(String kind, String name, ActorRef<StatusReply<Overlay>> replyTo) implements Command {}

  public record Get(ActorRef<Overlay> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable permits Defined, Dropped {}

  public record Defined(String kind, String name, Entry entry) implements Event {}

  public record Dropped(String kind, String name) implements Event {}

  public static void init(ActorSystem<?> system) {
    Consumer<Overlay> publish = replicated(system);
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(publish)));
  }

  public static EntityRef<Command> ref(ActorSystem<?> system) {
    return ClusterSharding.get(system).entityRefFor(ENTITY_TYPE_KEY, ID);
  }

  /** The registry; {@code publish} gets the overlay after recovery and after every change. */
  static Behavior<Command> create(Consumer<Overlay> publish) {
    return new GovernanceRegistry(publish);
  }

  /** Writes the overlay to the replicated register, to all nodes. */
  static Consumer<Overlay> replicated(ActorSystem<?> system) {
    ActorRef<Replicator.Command> replicator = DistributedData.get(system).replicator();
    SelfUniqueAddress self = DistributedData.get(system).selfUniqueAddress();
    return s -> replicator.tell(new Replicator.Update<>(KEY, LWWRegister.create(self, Overlay.EMPTY, CLOCK),
        new Replicator.WriteAll(Duration.ofSeconds(2)), system.ignoreRef(), r -> r.withValue(self, s, CLOCK)));
  }

  /** Hands every overlay the register receives (from any node) to {@code onChange}, on this node. */
  static void subscribe(ActorSystem<?> system, Consumer<Overlay> onChange) {
    subscribe(system, "bastion-governance-definitions", onChange);
  }

  /** As {@link #subscribe(ActorSystem, Consumer)}, with a subscriber actor named {@code actorName}. */
  static void subscribe(ActorSystem<?> system, String actorName, Consumer<Overlay> onChange) {
    system.systemActorOf(Behaviors.<Replicator.SubscribeResponse<LWWRegister<Overlay>>>setup(ctx -> {
      DistributedData.get(system).replicator().tell(new Replicator.Subscribe<>(KEY, ctx.getSelf()));
      return Behaviors.receiveMessage(msg -> {
        if (msg instanceof Replicator.Changed<LWWRegister<Overlay>> changed) {
          onChange.accept(changed.get(KEY).getValue());
        }
        return Behaviors.same();
      });
    }), actorName, Props.empty());
  }

  private final Consumer<Overlay> publish;

  private GovernanceRegistry(Consumer<Overlay> publish) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), ID),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.publish = publish;
  }

  @Override
  public Overlay emptyState() {
    return Overlay.EMPTY;
  }

  @Override
  public CommandHandlerWithReply<Command, Event, Overlay> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Put.class, this::onPut)
        .onCommand(Remove.class, this::onRemove)
        .onCommand(Get.class, (state, c) -> Effect().reply(c.replyTo(), state))
        .build();
  }

  private ReplyEffect<Event, Overlay> onPut(Overlay state, Put c) {
    String problem = c.entry() == null ? "no entry" : invalid(c.kind(), c.name());
    if (problem != null) {
      return Effect().reply(c.replyTo(), StatusReply.error(problem));
    }
    return Effect().persist(new Defined(c.kind(), c.name(), c.entry())).thenRun(publish::accept)
        .thenReply(c.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, Overlay> onRemove(Overlay state, Remove c) {
    String problem = invalid(c.kind(), c.name());
    if (problem != null) {
      return Effect().reply(c.replyTo(), StatusReply.error(problem));
    }
    if (!state.has(c.kind(), c.name())) {
      return Effect().reply(c.replyTo(), StatusReply.success(state));
    }
    return Effect().persist(new Dropped(c.kind(), c.name())).thenRun(publish::accept)
        .thenReply(c.replyTo(), StatusReply::success);
  }

  private static String invalid(String kind, String name) {
    if (!KINDS.contains(kind)) {
      return "unknown kind [" + kind + "]; one of " + KEYS + ", " + TEAMS + ", " + CUSTOMERS + ", " + GROUPS
          + ", " + SERVERS;
    }
    return name == null || name.isBlank() ? "a " + kind + " definition needs a name" : null;
  }

  @Override
  public EventHandler<Overlay, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Defined.class, Overlay::defined)
        .onEvent(Dropped.class, Overlay::dropped)
        .build();
  }

  @Override
  public SignalHandler<Overlay> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), publish::accept).build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
