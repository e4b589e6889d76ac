package io.bastion.node.governance;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.ServerConfig;
import io.bastion.node.NodeSettings;
import io.bastion.node.Stages;
import io.bastion.node.call.Exchange;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.call.ToolCallGate;
import io.bastion.node.call.ToolCallObserver;
import io.bastion.node.metrics.Metrics;
import io.bastion.persistence.audit.AuditLog;
import io.bastion.persistence.audit.AuditRecord;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Governance of {@code tools/call} on one node: the {@link ToolCallGate} that asks the key's
 * {@link BudgetEntity} (only for keys with a limit somewhere in their hierarchy) and records
 * every call, allowed or refused, in the {@link AuditLog}.
 *
 * <p>How a call ended is learned from its {@link Exchange}: the edge tells the completion once,
 * after the answer has been handed to the client, with the answer's {@link Fault} (typed from
 * wherever it happened) and the size of the answer as sent. No actor, no stream, no re-parse or
 * re-serialization per call.
 *
 * <p>Every ending goes to the {@link ToolCallObserver}s: the audit log first, then any added with
 * {@link #addObserver} (metrics).
 */
public final class Governance implements ToolCallGate {

  private final ActorSystem<?> system;
  private final KeyDirectory keys;
  private final AuditLog audit;
  private final ArgumentRedactor redactor;
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final long failoverHoldNanos;
  private final io.bastion.node.upstream.UpstreamRoute route;
  private final Map<String, ServerConfig> servers = new HashMap<>();
  /** Where prices come from: the config's servers until {@link #serversFrom} names the live definitions. */
  private volatile java.util.function.Function<String, Optional<ServerConfig>> serverLookup =
      name -> Optional.ofNullable(servers.get(name));
  private final String node;
  private final List<ToolCallObserver> observers = new CopyOnWriteArrayList<>();
  /** {@code store.limits_on_outage: fail_open}: a limited key's call is forwarded uncounted when its counters do not answer. */
  private final boolean failOpen;
  private final java.util.concurrent.atomic.AtomicLong lastFailOpenWarning = new java.util.concurrent.atomic.AtomicLong();

  public Governance(ActorSystem<?> system, BastionConfig config, KeyDirectory keys, AuditLog audit,
      NodeSettings settings) {
    this.system = system;
    this.keys = keys;
    this.audit = audit;
    this.redactor = new ArgumentRedactor(config.audit());
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = settings.askTimeout();
    this.failoverHoldNanos = settings.failoverHold().toNanos();
    this.route = io.bastion.node.upstream.UpstreamRoute.get(system);
    this.failOpen = config.store().limitsOnOutage() == io.bastion.config.StoreConfig.OnOutage.FAIL_OPEN;
    config.servers().forEach(s -> servers.put(s.name(), s));
    this.node = Cluster.get(system).selfMember().address().hostPort();
    observers.add(this::audit);
  }

  /** Prices calls by the servers in force now (the config overlaid with the admin API's servers). */
  public void serversFrom(java.util.function.Function<String, Optional<ServerConfig>> lookup) {
    this.serverLookup = lookup;
  }

  /** Adds an observer of every finished tools/call (after the audit log). */
  public void addObserver(ToolCallObserver observer) {
    observers.add(observer);
  }

  /** Starts the budget entities and the audit writer of a node; the writer is flushed on a graceful stop. */
  public static Governance start(ActorSystem<?> system, BastionConfig config, KeyDirectory keys,
      NodeSettings settings) {
    BudgetEntity.init(system, keys);
    AuditLog audit = AuditLog.forStore(system.settings().config(), config.audit());
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
        "bastion-audit-flush", () -> CompletableFuture.supplyAsync(() -> {
          audit.close();
          return Done.getInstance();
        }));
    return new Governance(system, config, keys, audit, settings);
  }

  public AuditLog audit() {
    return audit;
  }

  @Override
  public void denied(Call call, Exchange exchange) {
    observe(call, exchange, System.nanoTime(), 0);
  }

  @Override
  public void observed(Call call, Exchange exchange) {
    observe(call, exchange, System.nanoTime(), 0);
  }

  @Override
  public void admit(Call call, Exchange exchange, Consumer<Reply> forward) {
    long started = System.nanoTime();
    Optional<KeyDirectory.Key> key = keys.byName(call.session().keyName());
    double price = serverLookup.apply(call.server())
        .map(s -> s.pricing().priceOf(call.tool())).orElse(0.0);
    if (key.isEmpty() || !key.get().limited()) {
      observe(call, exchange, started, price);
      forward.accept(exchange.reply());
      return;
    }
    long costNanos = Math.round(price * BudgetEntity.NANOS);
    // The verdict is handled inline on the entity's reply (no hop to another thread): forwarding
    // the call is a few tells.
    long admissionId = java.util.concurrent.ThreadLocalRandom.current().nextLong() | 1;
    askAdmit(key.get(), call.name(), costNanos, admissionId, started + failoverHoldNanos)
        .whenComplete((v, err) -> {
          JsonNode id = call.request().id();
          if (err != null && failOpen) {
            // The operator chose availability over exact limits: forwarded, not counted.
            warnFailOpen(key.get().name(), err);
            observe(call, exchange, started, price);
            forward.accept(exchange.reply());
          } else if (err != null) {
            // Fail closed (the default): without an answer from the counters the call is not forwarded.
            observe(call, exchange, started, 0);
            exchange.reply().fail(Fault.GATEWAY_LIMITS_UNAVAILABLE, id, exchange.method(),
                "Bastion could not check this key's limits in time; try again");
          } else if (v.admitted()) {
            observe(call, exchange, started, price);
            forward.accept(exchange.reply());
          } else {
            observe(call, exchange, started, 0);
            exchange.reply().fail(Fault.ofClientCode(v.code()), id, exchange.method(), v.message(), v.data());
          }
        });
  }

  /**
   * Asks the key's budget entity. An ask that times out while a cluster member is or was lost (its
   * shard may be moving: a hand-off drops what the region buffered for it) is asked again within
   * the failover hold, with the same admission id, so a call the entity did count is not counted
   * twice.
   */
  private CompletableFuture<BudgetEntity.Verdict> askAdmit(KeyDirectory.Key key, String tool, long costNanos,
      long admissionId, long holdUntil) {
    return route.askAcrossLoss(n -> Stages.direct(sharding.entityRefFor(BudgetEntity.ENTITY_TYPE_KEY, key.budgetRoot())
        .<BudgetEntity.Verdict>ask(reply -> new BudgetEntity.Admit(key.name(), tool, costNanos, admissionId, reply),
            askTimeout)), holdUntil, false);
  }

  private void warnFailOpen(String key, Throwable err) {
    long now = System.nanoTime();
    long last = lastFailOpenWarning.get();
    if (now - last > java.util.concurrent.TimeUnit.SECONDS.toNanos(10) && lastFailOpenWarning.compareAndSet(last, now)) {
      system.log().warn("Limits of key [{}] unavailable ({}): forwarding calls uncounted (store.limits_on_outage: "
          + "fail_open)", key, io.bastion.node.call.Failures.root(err).toString());
    }
  }

  /**
   * Reports the call to the observers once the exchange has ended, however it ends; {@code price}
   * is what admitting it charged (0 for a refused call).
   */
  private void observe(Call call, Exchange exchange, long started, double price) {
    exchange.onCompletion((answer, fault, bytesOut) -> {
      String[] outcome = Fault.outcomeOf(answer, fault);
      completed(call, started, new ToolCallObserver.Outcome(outcome[0], outcome[1], price), bytesOut);
    });
  }

  /** The one place a finished tools/call is reported. */
  private void completed(Call call, long startedNanos, ToolCallObserver.Outcome outcome, long bytesOut) {
    long latency = System.nanoTime() - startedNanos;
    for (ToolCallObserver observer : observers) {
      try {
        observer.completed(call, outcome, latency, bytesOut);
      } catch (RuntimeException e) {
        system.log().warn("tool-call observer failed", e);
      }
    }
  }

  /** The first observer: the audit log and the metrics see the same record. */
  private void audit(Call call, ToolCallObserver.Outcome o, long latencyNanos, long bytesOut) {
    AuditRecord r = record(call, latencyNanos, o.kind(), o.errorType(), o.costUsd(), call.bytesIn(), bytesOut);
    audit.record(r);
    Metrics.toolCall(r.server(), r.tool(), r.keyName(), r.outcome(), r.latencyMicros());
  }

  private AuditRecord record(Call call, long latencyNanos, String outcome, String errorType, double cost,
      long bytesIn, long bytesOut) {
    SessionInfo s = call.session();
    Optional<KeyDirectory.Key> key = keys.byName(s == null ? null : s.keyName());
    JsonNode client = s == null ? null : s.clientInfo();
    String clientName = client == null ? null : client.path("name").asText(null);
    String clientVersion = client == null ? null : client.path("version").asText(null);
    JsonNode args = call.request().paramsObject().get("arguments");
    return new AuditRecord(System.currentTimeMillis(), node, call.sessionId(),
        s == null ? null : s.keyName(), key.map(KeyDirectory.Key::teamName).orElse(null),
        key.map(KeyDirectory.Key::customerName).orElse(null), clientName, clientVersion,
        call.server(), call.server() == null ? call.name() : call.tool(), redactor.render(args), outcome, errorType,
        latencyNanos / 1000, cost, bytesIn, bytesOut, call.requestId(), s == null ? null : s.subject());
  }
}
