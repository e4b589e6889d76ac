package io.bastion.node.governance;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.persistence.CborSerializable;
import io.bastion.protocol.ErrorCodes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * Owns the usage counters and rate-limit windows of one budget hierarchy, sharded by its root
 * ({@code customer:<name>}, {@code team:<name>} or {@code key:<name>}, see {@link
 * KeyDirectory.Key#budgetRoot()}). Every key whose limits share a team or customer budget is
 * served by the same entity, so one message checks the rate limits and every applicable budget
 * (key, team, customer) and charges all of them atomically: exact across the cluster, with one
 * ask per call.
 *
 * <p>Persistence is in blocks, never one write per call. The journal holds a <em>reservation</em>
 * per level: an upper bound on what was spent in the current window. A call that would take the
 * in-memory spend past the reservation first persists a new reservation (spend + cost + a block of
 * {@value #BLOCK_CALLS} calls' cost, capped at the limit) and is admitted only once that write
 * succeeded; other calls are admitted from memory. Every second an idle-or-busy entity with
 * unsettled spend persists the exact spend ({@link Settled}), and a graceful stop (hand-off,
 * shutdown) persists the exact spend and the rate windows. After a crash the entity recovers the
 * last reservation as the spend: it can over-count by at most one block (and at most one second of
 * calls since the last settle, whichever is smaller) but never under-counts, so a crash never lets
 * a budget be overspent.
 *
 * <p>Command → event → state: {@link Admit} answers a {@link Verdict} (a refusal is a verdict, never
 * an exception) and may persist {@link Reserved}; {@link Tick} and {@link Stop} persist {@link
 * Settled}; the pure event handler folds both into {@link State}, the persisted bounds. The exact
 * spend between two writes lives in the entity's {@link BudgetLedger}, not in {@link State}: that
 * is what lets most calls be admitted without a write. Persisted class and field names are the
 * journal format (see {@code BudgetEntityRecoveryTest}): rename nothing without a {@code
 * JacksonMigration}.
 */
public final class BudgetEntity
    extends EventSourcedBehaviorWithEnforcedReplies<BudgetEntity.Command, BudgetEntity.Event, BudgetEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Budget");

  /**
   * Calls' worth of cost reserved ahead per journal write, at least: a busy key reserves two
   * seconds of its last second's traffic instead, so that journal writes stay at a few per second
   * whatever the rate (one write per 100 calls capped a key at ~2,000 calls/s on H2).
   */
  static final int BLOCK_CALLS = 100;
  /** USD are counted in nano-dollars so that sums are exact. */
  static final double NANOS = 1e9;
  /** How often unsettled spend is persisted exactly. */
  static final Duration TICK = Duration.ofSeconds(1);

  public sealed interface Command extends CborSerializable permits Admit, GetUsage, Tick, Stop {}

  /**
   * Check the rate limits and budgets of {@code keyName} for one call of {@code tool} (client-visible
   * name). {@code admissionId} (0: none) makes a retry of the same call idempotent: the entity
   * answers an id it has seen (among its last {@link #REMEMBERED_ADMISSIONS}) with the verdict it
   * gave, without counting the call again.
   */
  public record Admit(String keyName, String tool, long costNanos, long admissionId, ActorRef<Verdict> replyTo)
      implements Command {
    public Admit(String keyName, String tool, long costNanos, ActorRef<Verdict> replyTo) {
      this(keyName, tool, costNanos, 0, replyTo);
    }
  }

  /** How many admission ids (with their verdicts) an entity remembers for retries. */
  static final int REMEMBERED_ADMISSIONS = 4096;

  /** The spend per level ({@code key:x}, {@code team:y}, {@code customer:z}) in the current windows. */
  public record GetUsage(ActorRef<Usage> replyTo) implements Command {}

  /**
   * Per level ({@code key:x}, {@code team:y}, {@code customer:z}): the spend in its window and when
   * the window ends (epoch ms); per rate window ({@code key:x}, {@code key:x|tool:t}) with calls in
   * it: what it counts now ({@code rate}).
   */
  public record Usage(Map<String, Double> usd, Map<String, Long> resetAtMillis, Map<String, RateUse> rate)
      implements CborSerializable {
    public Usage {
      usd = usd == null ? Map.of() : Map.copyOf(usd);
      resetAtMillis = resetAtMillis == null ? Map.of() : Map.copyOf(resetAtMillis);
      rate = rate == null ? Map.of() : Map.copyOf(rate);
    }

    public Usage(Map<String, Double> usd, Map<String, Long> resetAtMillis) {
      this(usd, resetAtMillis, null);
    }
  }

  /**
   * One rate window now: {@code used} calls counted against the next call, {@code nextFreeAtMillis}
   * when the oldest of them leaves the window (one more call is admitted then if the window is
   * full), {@code clearAtMillis} when the last of them leaves it (epoch ms).
   */
  public record RateUse(long used, long nextFreeAtMillis, long clearAtMillis) implements CborSerializable {}

  /** Persist the exact spend if it changed (every {@link #TICK}). */
  enum Tick implements Command { INSTANCE }

  /** Sharding's stop message: settle exactly, then stop. */
  public enum Stop implements Command { INSTANCE }

  /**
   * The answer to {@link Admit}: admitted, or refused with a JSON-RPC error ({@code code}, {@code
   * message}, {@code data}) and the audit {@code outcome}. A typed rejection rather than a {@code
   * StatusReply}: the gate needs the code and data, not only a message.
   */
  public record Verdict(boolean admitted, int code, String message, ObjectNode data, String outcome)
      implements CborSerializable {
    static final Verdict OK = new Verdict(true, 0, null, null, "ok");
    static final Verdict UNKNOWN_KEY = refused(ErrorCodes.GATEWAY_ERROR, "Unknown virtual key", null, "denied");

    static Verdict refused(int code, String message, ObjectNode data, String outcome) {
      return new Verdict(false, code, message, data, outcome);
    }
  }

  /** One level's amount in the window that ends at {@code windowEnd} (epoch ms). */
  public record Level(long windowEnd, long nanos) implements CborSerializable {}

  public sealed interface Event extends CborSerializable permits Reserved, Settled {}

  /** Upper bounds on the spend, persisted before the spend can pass the previous bound. */
  public record Reserved(Map<String, Level> levels) implements Event {}

  /**
   * The exact spend (and, on a graceful stop, the rate windows). {@code rateWindows} is the format
   * before {@link RateWindow} (one timestamp per call), only read back from older journals; {@code
   * rateCounts} holds pairs {@code [time, calls, …]} per window.
   */
  public record Settled(Map<String, Level> levels, Map<String, List<Long>> rateWindows,
      Map<String, List<Long>> rateCounts) implements Event {}

  /**
   * What was persisted: per level the bound on its spend, and rate windows saved on a graceful
   * stop. Immutable; absent maps read as empty.
   */
  public record State(Map<String, Level> levels, Map<String, List<Long>> rateWindows,
      Map<String, List<Long>> rateCounts) implements CborSerializable {
    static final State EMPTY = new State(Map.of(), Map.of(), Map.of());

    public State {
      levels = levels == null ? Map.of() : Map.copyOf(levels);
      rateWindows = rateWindows == null ? Map.of() : Map.copyOf(rateWindows);
      rateCounts = rateCounts == null ? Map.of() : Map.copyOf(rateCounts);
    }

    State reserved(Reserved e) {
      return new State(merged(e.levels()), rateWindows, rateCounts);
    }

    /** The exact spend replaces the bounds it names; the rate windows are replaced (or cleared). */
    State settled(Settled e) {
      return new State(merged(e.levels()), e.rateWindows(), e.rateCounts());
    }

    private Map<String, Level> merged(Map<String, Level> update) {
      Map<String, Level> m = new HashMap<>(levels);
      m.putAll(update);
      return m;
    }

    /** The persisted bound on {@code level}'s spend in the window ending at {@code windowEnd} (0 if none). */
    long bound(String level, long windowEnd) {
      Level l = levels.get(level);
      return l == null || l.windowEnd() != windowEnd ? 0 : l.nanos();
    }

    /** The saved rate windows as {@code (time, calls)} pairs; older journals saved one timestamp per call. */
    Map<String, List<Long>> recoveredRateCounts() {
      Map<String, List<Long>> out = new HashMap<>();
      rateWindows.forEach((id, times) -> {
        List<Long> pairs = new ArrayList<>(times.size() * 2);
        times.forEach(t -> {
          pairs.add(t);
          pairs.add(1L);
        });
        out.put(id, pairs);
      });
      out.putAll(rateCounts);
      return out;
    }
  }

  public static void init(ActorSystem<?> system, KeyDirectory keys) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), keys::byName))
            .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(String root, Function<String, Optional<KeyDirectory.Key>> keys) {
    return create(root, keys, System::currentTimeMillis, TICK);
  }

  /** With a clock and tick interval of the caller's choosing (tests). */
  static Behavior<Command> create(String root, Function<String, Optional<KeyDirectory.Key>> keys,
      LongSupplier clock, Duration tick) {
    return Behaviors.withTimers(timers -> new BudgetEntity(root, keys, clock, tick, timers));
  }

  private final String root;
  private final Function<String, Optional<KeyDirectory.Key>> keys;
  private final LongSupplier clock;
  private final Duration tick;
  private final TimerScheduler<Command> timers;
  /** The exact spend and rate windows, authoritative while the entity runs. */
  private final BudgetLedger ledger = new BudgetLedger();
  /** The verdicts of the last admissions with an id, for retries of the same call (this incarnation only). */
  private final Map<Long, Verdict> admitted = new java.util.LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Verdict> eldest) {
      return size() > REMEMBERED_ADMISSIONS;
    }
  };

  private BudgetEntity(String root, Function<String, Optional<KeyDirectory.Key>> keys, LongSupplier clock,
      Duration tick, TimerScheduler<Command> timers) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), root),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.root = root;
    this.keys = keys;
    this.clock = clock;
    this.tick = tick;
    this.timers = timers;
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Reserved.class, State::reserved)
        .onEvent(Settled.class, State::settled)
        .build();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
      ledger.recover(state);
      timers.startTimerWithFixedDelay(Tick.INSTANCE, tick);
    }).build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Admit.class, this::onAdmit)
        .onCommand(GetUsage.class, c -> Effect().reply(c.replyTo(), ledger.usage(clock.getAsLong(), keys)))
        .onCommand(Tick.class, c -> ledger.tick().map(e -> Effect().persist(e).thenNoReply())
            .orElseGet(() -> Effect().noReply()))
        .onCommand(Stop.class, c -> Effect().persist(ledger.settleForStop(clock.getAsLong())).thenStop()
            .thenNoReply())
        .build();
  }

  private ReplyEffect<Event, State> onAdmit(State state, Admit c) {
    Verdict seen = c.admissionId() == 0 ? null : admitted.get(c.admissionId());
    if (seen != null) {
      return Effect().reply(c.replyTo(), seen);
    }
    Optional<KeyDirectory.Key> key = keys.apply(c.keyName());
    if (key.isEmpty() || !key.get().budgetRoot().equals(root)) {
      return Effect().reply(c.replyTo(), Verdict.UNKNOWN_KEY);
    }
    BudgetLedger.Admission a = ledger.admit(state, key.get(), c.tool(), c.costNanos(), clock.getAsLong());
    if (c.admissionId() != 0) {
      admitted.put(c.admissionId(), a.verdict());
    }
    if (a.reserve() == null) {
      return Effect().reply(c.replyTo(), a.verdict());
    }
    // Admitted only once the reservation is durable; later commands are stashed meanwhile.
    return Effect().persist(new Reserved(a.reserve())).thenReply(c.replyTo(), s -> a.verdict());
  }
}
