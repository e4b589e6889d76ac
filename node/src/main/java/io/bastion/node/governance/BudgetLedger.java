package io.bastion.node.governance;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.BudgetConfig;
import io.bastion.config.RateLimitConfig;
import io.bastion.node.governance.BudgetEntity.Level;
import io.bastion.node.governance.BudgetEntity.RateUse;
import io.bastion.node.governance.BudgetEntity.Settled;
import io.bastion.node.governance.BudgetEntity.State;
import io.bastion.node.governance.BudgetEntity.Usage;
import io.bastion.node.governance.BudgetEntity.Verdict;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The live side of one {@link BudgetEntity}: the exact spend per level and the rate windows, in
 * memory. Deliberately <em>not</em> the entity's event-sourced {@link State}: calls are admitted
 * from memory and only a reservation (an upper bound) is persisted per block of calls, so the exact
 * spend between two writes exists only here. The entity's event handler stays pure; this class is
 * changed only by the entity's command handler, one message at a time. Not thread-safe.
 */
final class BudgetLedger {

  /** The answer to one admission, and the reservation to persist before answering (or null). */
  record Admission(Verdict verdict, Map<String, Level> reserve) {}

  /** One applicable budget: its level id ({@code key:x}, {@code team:y}, {@code customer:z}). */
  private record Applicable(String kind, String name, BudgetConfig budget) {
    String id() {
      return kind + ":" + name;
    }
  }

  private final Map<String, long[]> spent = new HashMap<>(); // level -> {windowEnd, nanos}
  private final Map<String, RateWindow> rate = new HashMap<>();
  /** Rate windows recovered from the journal, turned into {@link RateWindow}s on first use. */
  private final Map<String, List<Long>> recoveredRate = new HashMap<>();
  private boolean unsettled;
  /** Calls admitted since the last tick, and in the last whole second (sizes the reservation block). */
  private long admittedSinceTick;
  private long admittedLastSecond;

  /**
   * Starts from what was persisted: a crash may have lost calls after the last write, never more
   * than the reservation, so the reservation is the spend.
   */
  void recover(State state) {
    state.levels().forEach((level, l) -> spent.put(level, new long[] {l.windowEnd(), l.nanos()}));
    recoveredRate.putAll(state.recoveredRateCounts());
  }

  /**
   * The spend per level in the current windows, and every rate window with calls in it, counted
   * under the limit now in force ({@code keys} gives it: a window saved on a graceful stop is
   * rebuilt here as on the key's next call).
   */
  Usage usage(long now, Function<String, Optional<KeyDirectory.Key>> keys) {
    Map<String, Double> m = new HashMap<>();
    Map<String, Long> ends = new HashMap<>();
    spent.forEach((level, v) -> {
      m.put(level, v[0] > now ? v[1] / BudgetEntity.NANOS : 0.0);
      if (v[0] > now) {
        ends.put(level, v[0]);
      }
    });
    Set<String> ids = new HashSet<>(rate.keySet());
    ids.addAll(recoveredRate.keySet());
    Map<String, RateUse> rates = new HashMap<>();
    for (String id : ids) {
      RateLimitConfig.Limit limit = limitOf(id, keys);
      if (limit == null) {
        continue; // the key or its limit is gone: the window no longer limits anything
      }
      RateWindow w = window(id, now, limit);
      long used = w.count(now);
      if (used > 0) {
        rates.put(id, new RateUse(used, now + w.retryAfterMs(now), now + w.clearAfterMs(now)));
      }
    }
    return new Usage(m, ends, rates);
  }

  /** The limit in force for a window id {@code key:<name>} or {@code key:<name>|tool:<tool>}, or null. */
  private static RateLimitConfig.Limit limitOf(String id, Function<String, Optional<KeyDirectory.Key>> keys) {
    if (!id.startsWith("key:")) {
      return null;
    }
    int t = id.indexOf("|tool:");
    String keyName = id.substring(4, t < 0 ? id.length() : t);
    RateLimitConfig rl = keys.apply(keyName).map(k -> k.config().rateLimit()).orElse(null);
    if (rl == null) {
      return null;
    }
    return t < 0 ? rl.overall() : rl.forTool(id.substring(t + 6));
  }

  /** Once a second: the exact spend to persist, if it changed since the last time. */
  Optional<Settled> tick() {
    admittedLastSecond = admittedSinceTick;
    admittedSinceTick = 0;
    if (!unsettled) {
      return Optional.empty();
    }
    unsettled = false;
    return Optional.of(new Settled(exact(), null, null));
  }

  /** On a graceful stop: the exact spend and the rate windows. */
  Settled settleForStop(long now) {
    Map<String, List<Long>> windows = new HashMap<>(recoveredRate);
    rate.forEach((id, w) -> windows.put(id, w.snapshot(now)));
    windows.values().removeIf(List::isEmpty);
    return new Settled(exact(), null, windows);
  }

  private Map<String, Level> exact() {
    Map<String, Level> m = new HashMap<>();
    spent.forEach((level, v) -> m.put(level, new Level(v[0], v[1])));
    return m;
  }

  /**
   * Checks the rate limits and every applicable budget of {@code key} for one call costing {@code
   * costNanos}; if all pass, charges every level and records the call in the rate windows.
   */
  Admission admit(State persisted, KeyDirectory.Key key, String tool, long costNanos, long now) {
    // 1. Rate limits (overall, then the tool's own).
    RateLimitConfig rl = key.config().rateLimit();
    RateWindow overall = null;
    RateWindow perTool = null;
    if (rl != null) {
      if (rl.overall() != null) {
        overall = window("key:" + key.name(), now, rl.overall());
        Verdict v = rateCheck(overall, rl.overall(), now, "key", null);
        if (v != null) {
          return new Admission(v, null);
        }
      }
      RateLimitConfig.Limit tl = rl.forTool(tool);
      if (tl != null) {
        perTool = window("key:" + key.name() + "|tool:" + tool, now, tl);
        Verdict v = rateCheck(perTool, tl, now, "tool", tool);
        if (v != null) {
          return new Admission(v, null);
        }
      }
    }

    // 2. Budgets at every level.
    List<Applicable> levels = applicable(key);
    long[][] counters = new long[levels.size()][];
    for (int i = 0; i < levels.size(); i++) {
      Applicable a = levels.get(i);
      long[] v = spent.computeIfAbsent(a.id(), x -> new long[] {0, 0});
      if (now >= v[0]) {
        v[0] = a.budget().reset().nextReset(Instant.ofEpochMilli(now)).toEpochMilli();
        v[1] = 0;
      }
      counters[i] = v;
      if (v[1] + costNanos > limitNanos(a.budget())) {
        return new Admission(overBudget(a, v, costNanos), null);
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
    long block = Math.max(BudgetEntity.BLOCK_CALLS, 2 * admittedLastSecond);
    Map<String, Level> reserve = null;
    for (int i = 0; i < counters.length; i++) {
      long[] v = counters[i];
      v[1] += costNanos;
      String id = levels.get(i).id();
      if (v[1] > persisted.bound(id, v[0])) {
        long ahead = Math.min(limitNanos(levels.get(i).budget()), v[1] + costNanos * block);
        if (reserve == null) {
          reserve = new HashMap<>();
        }
        reserve.put(id, new Level(v[0], Math.max(ahead, v[1])));
      }
    }
    if (counters.length > 0 && costNanos > 0) {
      unsettled = true;
    }
    return new Admission(Verdict.OK, reserve);
  }

  private static List<Applicable> applicable(KeyDirectory.Key key) {
    List<Applicable> levels = new ArrayList<>(3);
    if (key.config().budget() != null) {
      levels.add(new Applicable("key", key.name(), key.config().budget()));
    }
    if (key.team() != null && key.team().budget() != null) {
      levels.add(new Applicable("team", key.team().name(), key.team().budget()));
    }
    if (key.customer() != null && key.customer().budget() != null) {
      levels.add(new Applicable("customer", key.customer().name(), key.customer().budget()));
    }
    return levels;
  }

  private static long limitNanos(BudgetConfig b) {
    return Math.round(b.maxUsd() * BudgetEntity.NANOS);
  }

  private static Verdict overBudget(Applicable a, long[] v, long costNanos) {
    BudgetConfig b = a.budget();
    double nanos = BudgetEntity.NANOS;
    ObjectNode data = Json.object().put("level", a.kind()).put("name", a.name())
        .put("limitUsd", b.maxUsd()).put("usageUsd", v[1] / nanos).put("costUsd", costNanos / nanos)
        .put("reset", b.reset().yamlName()).put("resetAt", Instant.ofEpochMilli(v[0]).toString());
    return Verdict.refused(ErrorCodes.BUDGET_EXCEEDED, "Budget exceeded: the " + a.kind() + " " + a.name()
        + " has spent $" + (v[1] / nanos) + " of $" + b.maxUsd() + " until " + Instant.ofEpochMilli(v[0]),
        data, "over_budget");
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
    return Verdict.refused(ErrorCodes.RATE_LIMITED, "Rate limited: at most " + limit.requests()
        + " calls per " + limit.per() + (tool == null ? "" : " to " + tool) + "; retry in " + retry + " ms",
        data, "rate_limited");
  }
}
