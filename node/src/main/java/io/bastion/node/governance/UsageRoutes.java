package io.bastion.node.governance;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.BudgetConfig;
import io.bastion.config.RateLimitConfig;
import io.bastion.config.VirtualKeyConfig;
import io.bastion.node.http.AdminGuard;
import io.bastion.persistence.audit.AuditLog;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * What was spent, for the admin API (behind the admin token):
 *
 * <ul>
 *   <li>{@code GET /api/v1/budgets}: every budget of a key, team or customer in force, with its
 *       limit, the current spend in its window (asked from the {@link BudgetEntity} that owns it,
 *       exact across the cluster) and when the window resets;
 *   <li>{@code GET /api/v1/rate-limits}: every rate limit of a key in force (overall and per
 *       tool), with the calls its sliding window counts now, what remains, when the oldest of
 *       them leaves the window ({@code nextFreeAt}) and when the window is empty again ({@code
 *       resetAt}); asked from the {@link BudgetEntity} that admits the key's calls;
 *   <li>{@code GET /api/v1/audit/timeseries?bucketMs=&by=key|server|tool|team|customer|outcome}
 *       plus the filters of {@code /api/v1/audit}: calls and cost per time bucket ({@link
 *       AuditLog#timeseries}).
 * </ul>
 */
public final class UsageRoutes extends AllDirectives {
  /** At most this many buckets between {@code from} and {@code to}. */
  static final long MAX_BUCKETS = 10_000;
  private final AdminHttp http;
  private final AuditLog audit;
  private final GovernanceDefinitions definitions;
  private final KeyDirectory keys;
  private final ActorSystem<?> system;
  private final Duration askTimeout;

  public UsageRoutes(AdminGuard guard, AuditLog audit, GovernanceDefinitions definitions, KeyDirectory keys,
      ActorSystem<?> system, Duration askTimeout) {
    this.http = new AdminHttp(guard, system);
    this.audit = audit;
    this.definitions = definitions;
    this.keys = keys;
    this.system = system;
    this.askTimeout = askTimeout;
  }

  public Route route() {
    return concat(
        path(PathMatchers.segment("api").slash("v1").slash("budgets"),
            () -> get(() -> extractRequest(r -> completeWithFuture(http.guarded(r, this::budgets))))),
        path(PathMatchers.segment("api").slash("v1").slash("rate-limits"),
            () -> get(() -> extractRequest(r -> completeWithFuture(http.guarded(r, this::rateLimits))))),
        path(PathMatchers.segment("api").slash("v1").slash("audit").slash("timeseries"),
            () -> get(() -> extractRequest(r -> completeWithFuture(http.guarded(r, () -> timeseries(r)))))));
  }

  private CompletionStage<HttpResponse> timeseries(HttpRequest r) {
    Map<String, String> p = r.getUri().query().toMap();
    AuditLog.Query q = GovernanceRoutes.parse(p);
    long bucket;
    try {
      bucket = Long.parseLong(p.getOrDefault("bucketMs", "60000"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bucketMs must be an integer (milliseconds): " + p.get("bucketMs"));
    }
    if (bucket < 1000) {
      throw new IllegalArgumentException("bucketMs must be at least 1000");
    }
    if (q.fromMillis() != null && (q.toMillis() == null ? System.currentTimeMillis() : q.toMillis())
        - q.fromMillis() > bucket * MAX_BUCKETS) {
      throw new IllegalArgumentException("at most " + MAX_BUCKETS + " buckets: use a larger bucketMs or a shorter range");
    }
    return audit.timeseries(q, bucket, p.get("by")).thenApply(body -> AdminHttp.json(200, body));
  }

  /** One budget of the effective config: its level id is {@code <kind>:<name>}. */
  private record Budget(String kind, String name, BudgetConfig budget) {
    String level() {
      return kind + ":" + name;
    }
  }

  private CompletionStage<HttpResponse> budgets() {
    BastionConfig c = definitions.effective();
    List<Budget> budgets = new ArrayList<>();
    c.customers().stream().filter(x -> x.budget() != null)
        .forEach(x -> budgets.add(new Budget("customer", x.name(), x.budget())));
    c.teams().stream().filter(t -> t.budget() != null).forEach(t -> budgets.add(new Budget("team", t.name(), t.budget())));
    c.virtualKeys().stream().filter(k -> k.budget() != null)
        .forEach(k -> budgets.add(new Budget("key", k.keyName(), k.budget())));
    // The entities that own the counters: one per budget hierarchy in use by a limited key.
    TreeSet<String> roots = new TreeSet<>();
    for (VirtualKeyConfig k : c.virtualKeys()) {
      keys.byName(k.keyName()).filter(KeyDirectory.Key::limited).ifPresent(key -> roots.add(key.budgetRoot()));
    }
    return usage(roots).thenApply(u -> {
      Map<String, Double> spent = u.usd();
      Map<String, Long> resets = u.resetAtMillis();
      Instant now = Instant.now();
      ObjectNode body = Json.object();
      ArrayNode arr = body.putArray("budgets");
      for (Budget b : budgets) {
        Long end = resets.get(b.level());
        Instant resetAt = end != null ? Instant.ofEpochMilli(end) : b.budget().reset().nextReset(now);
        double used = spent.getOrDefault(b.level(), 0.0);
        arr.addObject().put("kind", b.kind()).put("name", b.name()).put("limitUsd", b.budget().maxUsd())
            .put("spentUsd", used).put("remainingUsd", Math.max(0, b.budget().maxUsd() - used))
            .put("reset", b.budget().reset().yamlName()).put("resetAt", resetAt.toString());
      }
      return AdminHttp.json(200, body);
    });
  }

  /** The usage of the given budget entities, merged (their level and window ids do not overlap). */
  private CompletableFuture<BudgetEntity.Usage> usage(Collection<String> roots) {
    ClusterSharding sharding = ClusterSharding.get(system);
    List<CompletableFuture<BudgetEntity.Usage>> asks = roots.stream()
        .map(root -> sharding.entityRefFor(BudgetEntity.ENTITY_TYPE_KEY, root)
            .<BudgetEntity.Usage>ask(BudgetEntity.GetUsage::new, askTimeout).toCompletableFuture())
        .toList();
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(x -> {
      Map<String, Double> usd = new HashMap<>();
      Map<String, Long> resets = new HashMap<>();
      Map<String, BudgetEntity.RateUse> rate = new HashMap<>();
      asks.forEach(a -> {
        usd.putAll(a.join().usd());
        resets.putAll(a.join().resetAtMillis());
        rate.putAll(a.join().rate());
      });
      return new BudgetEntity.Usage(usd, resets, rate);
    });
  }

  private CompletionStage<HttpResponse> rateLimits() {
    List<VirtualKeyConfig> limited = definitions.effective().virtualKeys().stream()
        .filter(k -> k.rateLimit() != null).toList();
    TreeSet<String> roots = new TreeSet<>();
    limited.forEach(k -> keys.byName(k.keyName()).ifPresent(key -> roots.add(key.budgetRoot())));
    return usage(roots).thenApply(u -> {
      ObjectNode body = Json.object();
      ArrayNode arr = body.putArray("rateLimits");
      for (VirtualKeyConfig k : limited) {
        RateLimitConfig rl = k.rateLimit();
        if (rl.overall() != null) {
          rateLimit(arr.addObject().put("key", k.keyName()).putNull("tool"), rl.overall(),
              u.rate().get("key:" + k.keyName()));
        }
        new TreeMap<>(rl.tools()).forEach((tool, limit) -> rateLimit(
            arr.addObject().put("key", k.keyName()).put("tool", tool), limit,
            u.rate().get("key:" + k.keyName() + "|tool:" + tool)));
      }
      return AdminHttp.json(200, body);
    });
  }

  private static void rateLimit(ObjectNode o, RateLimitConfig.Limit limit, BudgetEntity.RateUse use) {
    long used = use == null ? 0 : Math.min(use.used(), limit.requests());
    o.put("requests", limit.requests()).put("perMs", limit.per().toMillis()).put("used", used)
        .put("remaining", limit.requests() - used);
    o.put("nextFreeAt", use == null ? null : Instant.ofEpochMilli(use.nextFreeAtMillis()).toString());
    o.put("resetAt", use == null ? null : Instant.ofEpochMilli(use.clearAtMillis()).toString());
  }
}
