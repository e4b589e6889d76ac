package io.bastion.node.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.ServerConfig;
import io.bastion.node.NodeSettings;
import io.bastion.node.Stages;
import io.bastion.node.http.CallWatch;
import io.bastion.node.http.ToolCallGate;
import io.bastion.node.http.ToolCallObserver;
import io.bastion.node.metrics.Metrics;
import io.bastion.node.session.RequestStream;
import io.bastion.node.session.SessionEntity;
import io.bastion.persistence.audit.AuditLog;
import io.bastion.persistence.audit.AuditRecord;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Governance of {@code tools/call} on one node: the {@link ToolCallGate} that asks the key's
 * {@link BudgetEntity} (only for keys with a limit somewhere in their hierarchy) and records
 * every call, allowed or refused, in the {@link AuditLog}.
 *
 * <p>How a forwarded call ended is learned from the edge: the {@link CallWatch} is told when the
 * final answer passes through the client's stream on this node (no actor, no stream per call).
 * Only a legacy SSE stream held by another node (its POSTs land here, its GET there) still gets a
 * small per-call watcher actor, since the answer never passes through this node.
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
  private final Duration callTimeout;
  private final Map<String, ServerConfig> servers = new HashMap<>();
  private final String node;
  private final AtomicLong watchers = new AtomicLong();
  private final CallWatch watch;
  private final List<ToolCallObserver> observers = new CopyOnWriteArrayList<>();

  public Governance(ActorSystem<?> system, BastionConfig config, KeyDirectory keys, AuditLog audit,
      NodeSettings settings, CallWatch watch) {
    this.system = system;
    this.watch = watch;
    this.keys = keys;
    this.audit = audit;
    this.redactor = new ArgumentRedactor(config.audit());
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = settings.askTimeout();
    this.callTimeout = settings.maxRequestTimeout().plus(settings.askTimeout());
    config.servers().forEach(s -> servers.put(s.name(), s));
    this.node = Cluster.get(system).selfMember().address().hostPort();
    observers.add(this::audit);
  }

  /** Adds an observer of every finished tools/call (after the audit log). */
  public void addObserver(ToolCallObserver observer) {
    observers.add(observer);
  }

  /** Starts the budget entities and the audit writer of a node; the writer is flushed on a graceful stop. */
  public static Governance start(ActorSystem<?> system, BastionConfig config, KeyDirectory keys,
      NodeSettings settings, CallWatch watch) {
    BudgetEntity.init(system, keys);
    AuditLog audit = AuditLog.forStore(system.settings().config(), config.audit());
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
        "bastion-audit-flush", () -> java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          audit.close();
          return Done.getInstance();
        }));
    return new Governance(system, config, keys, audit, settings, watch);
  }

  public AuditLog audit() {
    return audit;
  }

  @Override
  public void denied(Call call) {
    completed(call, System.nanoTime(), AuditRecord.DENIED, "unknown_tool", 0, 0);
  }

  @Override
  public void admit(Call call, ActorRef<RequestStream.Event> out, Consumer<ActorRef<RequestStream.Event>> forward) {
    long started = System.nanoTime();
    Optional<KeyDirectory.Key> key = keys.byName(call.session().keyName());
    double price = Optional.ofNullable(servers.get(call.server()))
        .map(s -> s.pricing().priceOf(call.tool())).orElse(0.0);
    if (key.isEmpty() || !key.get().limited()) {
      proceed(call, started, price, out, forward);
      return;
    }
    long costNanos = Math.round(price * BudgetEntity.NANOS);
    // The verdict is handled inline on the entity's reply (no hop to another thread): forwarding
    // the call is a few tells.
    Stages.direct(sharding.entityRefFor(BudgetEntity.ENTITY_TYPE_KEY, key.get().budgetRoot())
        .<BudgetEntity.Verdict>ask(reply -> new BudgetEntity.Admit(key.get().name(), call.name(), costNanos, reply),
            askTimeout))
        .whenComplete((v, err) -> {
          if (err != null) {
            // Fail closed: without an answer from the counters the call is not forwarded.
            out.tell(new RequestStream.Final(JsonRpc.error(call.request().id(), ErrorCodes.GATEWAY_ERROR,
                "Bastion could not check this key's limits in time; try again", null)));
            completed(call, started, AuditRecord.ERROR, "limits_unavailable", 0, 0);
          } else if (v.admitted()) {
            proceed(call, started, price, out, forward);
          } else {
            ObjectNode error = JsonRpc.error(call.request().id(), v.code(), v.message(), v.data());
            out.tell(new RequestStream.Final(error));
            completed(call, started, v.outcome(), v.outcome(), 0, Json.writeBytes(error).length);
          }
        });
  }

  private void proceed(Call call, long started, double price, ActorRef<RequestStream.Event> out,
      Consumer<ActorRef<RequestStream.Event>> forward) {
    boolean watched = watch != null && watch.watch(out, call.request().id(), (answer, abandoned) -> {
      if (answer != null) {
        finished(call, started, price, answer);
      } else if (CallWatch.GATEWAY_TIMEOUT.equals(abandoned)) {
        completed(call, started, AuditRecord.TIMEOUT, abandoned, price, 0);
      } else {
        completed(call, started, AuditRecord.ERROR, abandoned, price, 0);
      }
    });
    if (watched) {
      forward.accept(out);
      return;
    }
    // The client's stream is on another node (legacy SSE without sticky routing): the answer never
    // passes through here, so a short-lived watcher in front of it sees it (system guardian: the
    // user guardian of a typed system is closed).
    org.apache.pekko.actor.ActorRef classic = ((ExtendedActorSystem) system.classicSystem()).systemActorOf(
        Adapter.props(() -> watchRemote(call, started, price, out)), "audit-watch-" + watchers.incrementAndGet());
    forward.accept(Adapter.toTyped(classic));
  }

  private void finished(Call call, long started, double price, ObjectNode answer) {
    String[] outcome = classify(answer);
    completed(call, started, outcome[0], outcome[1], price, Json.writeBytes(answer).length);
  }

  /** Passes everything to {@code out}; on the final answer (or the gateway's timeout) reports the call. */
  private Behavior<RequestStream.Event> watchRemote(Call call, long started, double price,
      ActorRef<RequestStream.Event> out) {
    return Behaviors.setup(ctx -> {
      ctx.setReceiveTimeout(callTimeout, new RequestStream.Message(null));
      return Behaviors.receiveMessage(e -> {
        if (e instanceof RequestStream.Final f) {
          out.tell(f);
          finished(call, started, price, f.json());
          return Behaviors.stopped();
        }
        RequestStream.Message m = (RequestStream.Message) e;
        if (m.json() == null) {
          completed(call, started, AuditRecord.TIMEOUT, CallWatch.GATEWAY_TIMEOUT, price, 0);
          return Behaviors.stopped();
        }
        out.tell(m);
        return Behaviors.same();
      });
    });
  }

  /** The one place a finished tools/call is reported. */
  private void completed(Call call, long startedNanos, String outcome, String errorType, double cost,
      long bytesOut) {
    long latency = System.nanoTime() - startedNanos;
    long bytesIn = call.request().raw() == null ? 0 : Json.writeBytes(call.request().raw()).length;
    ToolCallObserver.Outcome o = new ToolCallObserver.Outcome(outcome, errorType, cost);
    for (ToolCallObserver observer : observers) {
      try {
        observer.completed(call, o, latency, bytesIn, bytesOut);
      } catch (RuntimeException e) {
        system.log().warn("tool-call observer failed", e);
      }
    }
  }

  /** The first observer: the audit log and the metrics see the same record. */
  private void audit(Call call, ToolCallObserver.Outcome o, long latencyNanos, long bytesIn, long bytesOut) {
    AuditRecord r = record(call, latencyNanos, o.kind(), o.errorType(), o.costUsd(), bytesIn, bytesOut);
    audit.record(r);
    Metrics.toolCall(r);
  }

  /** {outcome, error type} of a final answer. */
  static String[] classify(ObjectNode answer) {
    JsonNode error = answer.get("error");
    if (error != null && error.isObject()) {
      int code = error.path("code").asInt();
      return switch (code) {
        case ErrorCodes.REQUEST_TIMEOUT -> new String[] {AuditRecord.TIMEOUT, "request_timeout"};
        case ErrorCodes.UPSTREAM_UNAVAILABLE -> new String[] {AuditRecord.UPSTREAM_DOWN, "upstream_unavailable"};
        case ErrorCodes.REQUEST_CANCELLED -> new String[] {AuditRecord.ERROR, "cancelled"};
        case ErrorCodes.GATEWAY_ERROR -> new String[] {AuditRecord.ERROR, "gateway_error"};
        default -> new String[] {AuditRecord.TOOL_ERROR, "jsonrpc_" + code};
      };
    }
    // Bastion's own tool errors (upstream down, upstream timeout) carry their reason in _meta.
    String reason = answer.path("result").path("_meta").path("io.bastion/error").path("reason").asText("");
    if (reason.equals("timeout")) {
      return new String[] {AuditRecord.TIMEOUT, "request_timeout"};
    }
    if (reason.equals("upstream_unavailable")) {
      return new String[] {AuditRecord.UPSTREAM_DOWN, "upstream_unavailable"};
    }
    if (answer.path("result").path("isError").asBoolean(false)) {
      return new String[] {AuditRecord.TOOL_ERROR, "is_error"};
    }
    return new String[] {AuditRecord.OK, null};
  }

  private AuditRecord record(Call call, long latencyNanos, String outcome, String errorType, double cost,
      long bytesIn, long bytesOut) {
    SessionEntity.Info s = call.session();
    Optional<KeyDirectory.Key> key = keys.byName(s == null ? null : s.keyName());
    JsonNode client = s == null ? null : s.clientInfo();
    String clientName = client == null ? null : client.path("name").asText(null);
    String clientVersion = client == null ? null : client.path("version").asText(null);
    JsonNode args = call.request().paramsObject().get("arguments");
    return new AuditRecord(System.currentTimeMillis(), node, call.sessionId(),
        s == null ? null : s.keyName(), key.map(KeyDirectory.Key::teamName).orElse(null),
        key.map(KeyDirectory.Key::customerName).orElse(null), clientName, clientVersion,
        call.server(), call.server() == null ? call.name() : call.tool(), redactor.render(args), outcome, errorType,
        latencyNanos / 1000, cost, bytesIn, bytesOut, call.requestId());
  }
}
