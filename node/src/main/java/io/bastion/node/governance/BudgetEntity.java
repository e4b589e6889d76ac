package io.bastion.node.governance;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.BudgetConfig;
import io.bastion.config.RateLimitConfig;
import io.bastion.persistence.CborSerializable;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
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
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
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
 */
public final class BudgetEntity
    extends EventSourcedBehavior<BudgetEntity.Command, BudgetEntity.Event, BudgetEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Budget");

  /**
   * Calls' worth of cost reserved ahead per journal write, at least: a busy key reserves two
   * seconds of its last second's traffic instead, so that journal writes stay at a few per second
   * whatever the rate (one write per 100 calls capped a key at ~2,000 calls/s on H2).
   */
  static final int BLOCK_CALLS = 100;
  /** USD are counted in nano-dollars so that sums are exact. */
  static final double NANOS = 1e9;

  public sealed interface Command extends CborSerializable permits Admit, GetUsage, Tick, Stop {}

  /** Check the rate limits and budgets of {@code keyName} for one call of {@code tool} (client-visible name). */
  public record Admit(String keyName, String tool, long costNanos, ActorRef<Verdict> replyTo) implements Command {}

  /** The spend per level ({@code key:x}, {@code team:y}, {@code customer:z}) in the current windows. */
  public record GetUsage(ActorRef<Usage> replyTo) implements Command {}

  public record Usage(Map<String, Double> usd) implements CborSerializable {}

  enum Tick implements Command { INSTANCE }

  /** Sharding's stop message: settle exactly, then stop. */
  public enum Stop implements Command { INSTANCE }

  /** The answer to {@link Admit}: admitted, or refused with a JSON-RPC error. */
  public record Verdict(boolean admitted, int code, String message, ObjectNode data, String outcome)
      implements CborSerializable {
    static final Verdict OK = new Verdict(true, 0, null, null, "ok");
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

  /** What was persisted: per level the bound on its spend, and rate windows saved on a graceful stop. */
  public record State(Map<String, Level> levels, Map<String, List<Long>> rateWindows,
      Map<String, List<Long>> rateCounts) implements CborSerializable {
    static final State EMPTY = new State(Map.of(), Map.of(), Map.of());
  }

  public static void init(ActorSystem<?> system, KeyDirectory keys) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), keys::byName))
            .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(String root, Function<String, Optional<KeyDirectory.Key>> keys) {
    return Behaviors.withTimers(timers -> new BudgetEntity(root, keys, timers));
  }

  private final String root;
  private final Function<String, Optional<KeyDirectory.Key>> keys;
  private final TimerScheduler<Command> timers;

  // In memory, authoritative while the entity runs.
  private final Map<String, long[]> spent = new HashMap<>(); // level -> {windowEnd, nanos}
  private final Map<String, RateWindow> rate = new HashMap<>();
  /** Rate windows recovered from the journal, turned into {@link RateWindow}s on first use. */
  private final Map<String, List<Long>> recoveredRate = new HashMap<>();
  private boolean unsettled;
  /** Calls admitted since the last tick, and in the last whole second (sizes the reservation block). */
  private long admittedSinceTick;
  private long admittedLastSecond;

  private BudgetEntity(String root, Function<String, Optional<KeyDirectory.Key>> keys,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), root),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.root = root;
    this.keys = keys;
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
        .onEvent(Reserved.class, (s, e) -> {
          Map<String, Level> m = new HashMap<>(s.levels());
          m.putAll(e.levels());
          return new State(m, s.rateWindows(), s.rateCounts());
        })
        .onEvent(Settled.class, (s, e) -> {
          Map<String, Level> m = new HashMap<>(s.levels());
          m.putAll(e.levels());
          return new State(m, e.rateWindows() == null ? Map.of() : e.rateWindows(),
              e.rateCounts() == null ? Map.of() : e.rateCounts());
        })
        .build();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
      // A crash may have lost calls after the last write, never more than the reservation: start from it.
      state.levels().forEach((level, l) -> spent.put(level, new long[] {l.windowEnd(), l.nanos()}));
      // Older journals saved one timestamp per call; both formats become (time, calls) pairs.
      if (state.rateWindows() != null) {
        state.rateWindows().forEach((id, times) -> {
          List<Long> pairs = new ArrayList<>(times.size() * 2);
          times.forEach(t -> {
            pairs.add(t);
            pairs.add(1L);
          });
          recoveredRate.put(id, pairs);
        });
      }
      if (state.rateCounts() != null) {
        recoveredRate.putAll(state.rateCounts());
      }
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(1));
    }).build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Admit.class, this::admit)
        .onCommand(GetUsage.class, (s, c) -> {
          long now = System.currentTimeMillis();
          Map<String, Double> m = new HashMap<>();
          spent.forEach((level, v) -> m.put(level, v[0] > now ? v[1] / NANOS : 0.0));
          return Effect().reply(c.replyTo(), new Usage(m));
        })
        .onCommand(Tick.class, (s, c) -> {
          admittedLastSecond = admittedSinceTick;
          admittedSinceTick = 0;
          if (!unsettled) {
            return Effect().none();
          }
          unsettled = false;
          return Effect().persist(new Settled(exact(), null, null));
        })
        .onCommand(Stop.class, (s, c) -> {
          long now = System.currentTimeMillis();
          Map<String, List<Long>> windows = new HashMap<>(recoveredRate);
          rate.forEach((id, w) -> windows.put(id, w.snapshot(now)));
          windows.values().removeIf(List::isEmpty);
          return Effect().persist(new Settled(exact(), null, windows)).thenStop();
        })
        .build();
  }

  private Map<String, Level> exact() {
    Map<String, Level> m = new HashMap<>();
    spent.forEach((level, v) -> m.put(level, new Level(v[0], v[1])));
    return m;
  }

  private Effect<Event, State> admit(State state, Admit c) {
    Optional<KeyDirectory.Key> found = keys.apply(c.keyName());
    if (found.isEmpty() || !found.get().budgetRoot().equals(root)) {
      return Effect().reply(c.replyTo(), new Verdict(false, ErrorCodes.GATEWAY_ERROR,
          "Unknown virtual key", null, "denied"));
    }
    KeyDirectory.Key key = found.get();
    long now = System.currentTimeMillis();

    // 1. Rate limits (overall, then the tool's own).
    RateLimitConfig rl = key.config().rateLimit();
    RateWindow overall = null;
    RateWindow perTool = null;
    if (rl != null) {
      if (rl.overall() != null) {
        overall = window("key:" + key.name(), now, rl.overall());
        Verdict v = rateCheck(overall, rl.overall(), now, "key", null);
        if (v != null) {
          return Effect().reply(c.replyTo(), v);
        }
      }
      RateLimitConfig.Limit tl = rl.forTool(c.tool());
      if (tl != null) {
        perTool = window("key:" + key.name() + "|tool:" + c.tool(), now, tl);
        Verdict v = rateCheck(perTool, tl, now, "tool", c.tool());
        if (v != null) {
          return Effect().reply(c.replyTo(), v);
        }
      }
    }

    // 2. Budgets at every level.
    List<String[]> levels = new ArrayList<>(3); // {levelKind, name}
    List<BudgetConfig> budgets = new ArrayList<>(3);
    if (key.config().budget() != null) {
      levels.add(new String[] {"key", key.name()});
      budgets.add(key.config().budget());
    }
    if (key.team() != null && key.team().budget() != null) {
      levels.add(new String[] {"team", key.team().name()});
      budgets.add(key.team().budget());
    }
    if (key.customer() != null && key.customer().budget() != null) {
      levels.add(new String[] {"customer", key.customer().name()});
      budgets.add(key.customer().budget());
    }
    long[][] counters = new long[levels.size()][];
    for (int i = 0; i < levels.size(); i++) {
      BudgetConfig b = budgets.get(i);
      String id = levels.get(i)[0] + ":" + levels.get(i)[1];
      long[] v = spent.computeIfAbsent(id, x -> new long[] {0, 0});
      if (now >= v[0]) {
        v[0] = b.reset().nextReset(Instant.ofEpochMilli(now)).toEpochMilli();
        v[1] = 0;
      }
      counters[i] = v;
      long limit = Math.round(b.maxUsd() * NANOS);
      if (v[1] + c.costNanos() > limit) {
        ObjectNode data = Json.object().put("level", levels.get(i)[0]).put("name", levels.get(i)[1])
            .put("limitUsd", b.maxUsd()).put("usageUsd", v[1] / NANOS).put("costUsd", c.costNanos() / NANOS)
            .put("reset", b.reset().yamlName()).put("resetAt", Instant.ofEpochMilli(v[0]).toString());
        return Effect().reply(c.replyTo(), new Verdict(false, ErrorCodes.BUDGET_EXCEEDED,
            "Budget exceeded: the " + levels.get(i)[0] + " " + levels.get(i)[1] + " has spent $"
                + (v[1] / NANOS) + " of $" + b.maxUsd() + " until " + Instant.ofEpochMilli(v[0]),
            data, "over_budget"));
      }
    }

    // 3. Admit: charge every level and record the call in the rate windows.
    if (overall != null) {
      overall.record(now, 1);
    }
    if (perTool != null) {
      perTool.record(now, 1);
    }
    admittedSinceTick++;
    long block = Math.max(BLOCK_CALLS, 2 * admittedLastSecond);
    Map<String, Level> reserve = null;
    for (int i = 0; i < counters.length; i++) {
      long[] v = counters[i];
      v[1] += c.costNanos();
      String id = levels.get(i)[0] + ":" + levels.get(i)[1];
      Level persisted = state.levels().get(id);
      long bound = persisted == null || persisted.windowEnd() != v[0] ? 0 : persisted.nanos();
      if (v[1] > bound) {
        long limit = Math.round(budgets.get(i).maxUsd() * NANOS);
        long ahead = Math.min(limit, v[1] + c.costNanos() * block);
        if (reserve == null) {
          reserve = new HashMap<>();
        }
        reserve.put(id, new Level(v[0], Math.max(ahead, v[1])));
      }
    }
    if (counters.length > 0 && c.costNanos() > 0) {
      unsettled = true;
    }
    if (reserve == null) {
      return Effect().reply(c.replyTo(), Verdict.OK);
    }
    // Admitted only once the reservation is durable; later commands are stashed meanwhile.
    return Effect().persist(new Reserved(reserve)).thenReply(c.replyTo(), s -> Verdict.OK);
  }

  /** The window of one limit; rebuilt (keeping what it counted) when the admin API changed the limit. */
  private RateWindow window(String id, long now, RateLimitConfig.Limit limit) {
    long perMs = limit.per().toMillis();
    RateWindow w = rate.get(id);
    if (w == null || !w.sameLimit(limit.requests(), perMs)) {
      RateWindow fresh = new RateWindow(limit.requests(), perMs);
      List<Long> carried = w != null ? w.snapshot(now) : recoveredRate.remove(id);
      if (carried != null) {
        fresh.restore(carried);
      }
      rate.put(id, fresh);
      w = fresh;
    }
    return w;
  }

  private static Verdict rateCheck(RateWindow w, RateLimitConfig.Limit limit, long now, String scope,
      String tool) {
    if (w.allows(now)) {
      return null;
    }
    long retry = w.retryAfterMs(now);
    ObjectNode data = Json.object().put("retryAfterMs", retry).put("scope", scope)
        .put("requests", limit.requests()).put("perMs", limit.per().toMillis());
    if (tool != null) {
      data.put("tool", tool);
    }
    return new Verdict(false, ErrorCodes.RATE_LIMITED, "Rate limited: at most " + limit.requests()
        + " calls per " + limit.per() + (tool == null ? "" : " to " + tool) + "; retry in " + retry + " ms",
        data, "rate_limited");
  }
}
