package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.node.call.Fault;
import io.bastion.node.upstream.InFlightTable.Entry;
import io.bastion.node.upstream.UpstreamServer.Forward;
import io.bastion.node.upstream.transport.UpstreamTransport;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One node-local connection to an upstream that serves its calls while the node running its
 * {@link UpstreamServer} is lost ({@code failover: standby | warm_standby}, {@link UpstreamStandby}),
 * or, with {@code failover: active_active}, every call entering this node while it is ready.
 *
 * <p>It speaks the same handshake as the entity ({@link Handshake}) and forwards with the same id
 * and progress-token rewriting ({@link InFlightTable}), but it is deliberately smaller: no catalog
 * (the last one the entity published stays in force), no resource subscriptions (those calls are
 * held for the entity instead), no server→client requests (it advertises neither sampling nor
 * elicitation; anything but {@code ping} and {@code roots/list} is refused), no reconnects (a
 * closed standby is replaced by a new one when next needed). Not an actor: its few transitions
 * run under its own lock, on whichever thread calls or the transport delivers.
 */
final class StandbyConnection implements UpstreamTransport.Listener {

  enum Phase { STARTING, READY, CLOSED }

  /** Calls queued while the handshake runs, at most. */
  static final int MAX_WAITING = 10_000;

  final ServerConfig config;
  private final UpstreamTransport transport;
  private final Duration requestTimeout;
  private final kamon.metric.Counter served;
  private final kamon.metric.Counter servedLocally;
  /** Calls served while it was ready as the node's active-active connection ({@link #forwardIfReady}). */
  private final java.util.concurrent.atomic.AtomicLong activeCalls = new java.util.concurrent.atomic.AtomicLong();
  /** {@code failover: active_active}: its refusals and failures must not speak of a lost node. */
  private final boolean active;
  private final InFlightTable<Consumer<ObjectNode>> inFlight = new InFlightTable<>();
  private final List<Forward> waiting = new ArrayList<>();
  private Phase phase = Phase.STARTING;
  private volatile long lastUsedNanos = System.nanoTime();
  private volatile String failure;
  private volatile long closedAtNanos;

  StandbyConnection(ServerConfig config, UpstreamTransport transport, Duration requestTimeout) {
    this.config = config;
    this.transport = transport;
    this.requestTimeout = requestTimeout;
    this.served = io.bastion.node.metrics.Metrics.standbyCalls(config.name());
    this.servedLocally = io.bastion.node.metrics.Metrics.localCalls(config.name());
    this.active = config.failover().servesLocally();
  }

  /** Opens the transport and runs the handshake; calls forwarded meanwhile wait for it. */
  StandbyConnection start() {
    try {
      transport.start(this).whenComplete((ok, err) -> {
        if (err != null) {
          closed("could not connect: " + describe(err));
        } else {
          initialize();
        }
      });
    } catch (RuntimeException e) {
      closed("could not connect: " + describe(e));
    }
    return this;
  }

  synchronized Phase phase() {
    return phase;
  }

  /** Why it closed on its own (null while open, or after {@link #close}). */
  String failure() {
    return failure;
  }

  /** When it closed ({@code System.nanoTime()}); meaningful once {@link #phase} is CLOSED. */
  long closedAtNanos() {
    return closedAtNanos;
  }

  long lastUsedNanos() {
    return lastUsedNanos;
  }

  synchronized int inFlight() {
    return inFlight.size() + waiting.size();
  }

  /** Forwards a client's call (a subscription never comes here). */
  void forward(Forward f) {
    lastUsedNanos = System.nanoTime();
    served.increment();
    String refused = null;
    synchronized (this) {
      switch (phase) {
        case STARTING -> {
          if (waiting.size() < MAX_WAITING) {
            waiting.add(f);
          } else {
            refused = "too many calls are waiting for its standby connection";
          }
        }
        case READY -> send(f);
        case CLOSED -> refused = "its standby connection closed" + (failure == null ? "" : ": " + failure);
      }
    }
    if (refused != null) {
      unavailable(f, refused);
    }
  }

  /**
   * {@code failover: active_active}: forwards a client's call if the connection is ready (true);
   * false while it starts or after it closed, and the caller sends the call to the entity instead.
   */
  boolean forwardIfReady(Forward f) {
    synchronized (this) {
      if (phase != Phase.READY) {
        return false;
      }
      send(f);
    }
    lastUsedNanos = System.nanoTime();
    activeCalls.incrementAndGet();
    servedLocally.increment();
    return true;
  }

  /** Calls served by {@link #forwardIfReady} (tests, status). */
  long activeCalls() {
    return activeCalls.get();
  }

  /** The client cancelled request {@code downstreamId} of {@code sessionId}: forwarded if it runs here. */
  synchronized void cancel(String sessionId, JsonNode downstreamId, String reason) {
    Entry<Consumer<ObjectNode>> e = inFlight.removeClient(sessionId, downstreamId);
    if (e == null) {
      return;
    }
    ObjectNode p = Json.object().put("requestId", e.id());
    if (reason != null) {
      p.put("reason", reason);
    }
    transport.send(JsonRpc.notification(Methods.NOTIFICATION_CANCELLED, p));
    e.replyTo().fail(Fault.CLIENT_CANCELLED, e.downstreamId(), e.method(), "Request cancelled");
  }

  /** Fails the requests past their deadline (called on the route's tick). */
  void sweep(long nowNanos) {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      for (long id : inFlight.expire(nowNanos)) {
        Entry<Consumer<ObjectNode>> e = inFlight.remove(id);
        if (e.fromClient()) {
          transport.send(JsonRpc.notification(Methods.NOTIFICATION_CANCELLED,
              Json.object().put("requestId", e.id()).put("reason", "timed out in Bastion")));
          after.add(() -> e.replyTo().fail(Fault.UPSTREAM_TIMEOUT, e.downstreamId(), e.method(),
              e.method() + " to upstream " + config.name() + " timed out"));
        } else {
          after.add(() -> closed(e.method() + " timed out"));
        }
      }
    }
    after.forEach(Runnable::run);
  }

  /** Closes it: what it still runs fails as unavailable. */
  void close() {
    closed(null);
    transport.close();
  }

  // ------------------------------------------------------------------ the upstream's side

  private void initialize() {
    synchronized (this) {
      if (phase != Phase.STARTING) {
        return;
      }
      Entry<Consumer<ObjectNode>> e = inFlight.addInternal(Methods.INITIALIZE, this::onInitializeAnswer,
          System.nanoTime(), config.requestTimeout());
      transport.send(JsonRpc.request(LongNode.valueOf(e.id()), e.method(), Handshake.initializeParams(false)))
          .whenComplete((ok, err) -> {
            if (err != null) {
              closed("initialize failed: " + describe(err));
            }
          });
    }
  }

  private void onInitializeAnswer(ObjectNode answer) {
    String refusal = Handshake.refusal(answer);
    if (refusal != null) {
      closed(refusal);
      return;
    }
    transport.protocolVersion(answer.path("result").path("protocolVersion").asText());
    transport.send(JsonRpc.notification(Methods.NOTIFICATION_INITIALIZED, null)).whenComplete((ok, err) -> {
      if (err != null) {
        closed("initialized failed: " + describe(err));
        return;
      }
      synchronized (this) {
        if (phase != Phase.STARTING) {
          return;
        }
        phase = Phase.READY;
        waiting.forEach(this::send);
        waiting.clear();
      }
    });
  }

  /** On a ready connection, under the lock. */
  private void send(Forward f) {
    ObjectNode params = f.params() == null ? Json.object() : f.params();
    Entry<Consumer<ObjectNode>> e = inFlight.addClient(f.sessionId(), f.downstreamId(), f.method(), params,
        f.replyTo(), System.nanoTime(), requestTimeout);
    transport.send(JsonRpc.request(LongNode.valueOf(e.id()), e.method(), params)).whenComplete((ok, err) -> {
      if (err != null) {
        Entry<Consumer<ObjectNode>> gone;
        synchronized (this) {
          gone = inFlight.remove(e.id());
        }
        if (gone != null) {
          unavailable(f, "sending over its standby connection failed: " + describe(err));
        }
      }
    });
  }

  @Override
  public void onMessage(ObjectNode msg, JsonNode related) {
    JsonNode method = msg.get("method");
    if (method != null && msg.has("id")) {
      serverRequest(msg, method.asText());
    } else if (method != null) {
      notification(msg, method.asText(), related);
    } else {
      response(msg);
    }
  }

  private void response(ObjectNode msg) {
    JsonNode id = msg.get("id");
    if (id == null || !id.canConvertToLong()) {
      return;
    }
    Entry<Consumer<ObjectNode>> e;
    synchronized (this) {
      e = inFlight.remove(id.asLong());
    }
    if (e == null) {
      return;
    }
    if (e.callback() != null) {
      e.callback().accept(msg);
    } else {
      e.replyTo().answer(InFlightTable.downstreamAnswer(msg, e.downstreamId()));
    }
  }

  private void notification(ObjectNode msg, String method, JsonNode related) {
    synchronized (this) {
      if (Methods.NOTIFICATION_PROGRESS.equals(method)) {
        inFlight.progress(msg).ifPresent(p -> p.entry().replyTo().message(p.notification()));
      } else if (method.startsWith("notifications/message")) {
        Entry<Consumer<ObjectNode>> e = inFlight.related(related);
        if (e != null) {
          e.replyTo().message(msg);
        }
      }
      // list changes, resource updates, cancellations: the entity's business once it runs again.
    }
  }

  private void serverRequest(ObjectNode msg, String method) {
    JsonNode id = msg.get("id");
    if (Methods.PING.equals(method)) {
      transport.send(JsonRpc.result(id, Json.object()));
    } else if (Methods.ROOTS_LIST.equals(method)) {
      ObjectNode empty = Json.object();
      empty.putArray("roots");
      transport.send(JsonRpc.result(id, empty));
    } else {
      transport.send(JsonRpc.error(id, ErrorCodes.METHOD_NOT_FOUND, "Bastion cannot forward " + method
          + (active ? " over a node-local connection (failover: active_active)"
              : " while this upstream fails over to another node"), null));
    }
  }

  @Override
  public void onClosed(Throwable cause) {
    closed(cause == null ? "connection closed" : describe(cause));
  }

  private void closed(String why) {
    List<Entry<Consumer<ObjectNode>>> running;
    List<Forward> queued;
    synchronized (this) {
      if (phase == Phase.CLOSED) {
        return;
      }
      phase = Phase.CLOSED;
      failure = why;
      closedAtNanos = System.nanoTime();
      running = inFlight.clear();
      queued = new ArrayList<>(waiting);
      waiting.clear();
    }
    String reason = (active ? "this node's connection to it closed" : "its standby connection closed")
        + (why == null ? "" : ": " + why);
    for (Entry<Consumer<ObjectNode>> e : running) {
      if (e.fromClient()) {
        e.replyTo().fail(Fault.UPSTREAM_UNAVAILABLE, e.downstreamId(), e.method(),
            "upstream " + config.name() + " is unavailable: " + reason);
      }
    }
    queued.forEach(f -> unavailable(f, reason));
    if (why != null) {
      transport.close();
    }
  }

  private void unavailable(Forward f, String why) {
    f.replyTo().fail(Fault.UPSTREAM_UNAVAILABLE, f.downstreamId(), f.method(),
        "upstream " + config.name() + " is unavailable: " + (active ? "" : "the node running it was lost and ") + why);
  }

  private String describe(Throwable t) {
    return UpstreamConnection.describe(t, config);
  }
}
