package io.bastion.node.upstream;

import io.bastion.config.ServerConfig;
import io.bastion.node.call.Fault;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import io.bastion.node.metrics.Metrics;
import java.util.function.IntFunction;
import io.bastion.node.call.Failures;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import io.bastion.node.NodeSettings;
import io.bastion.node.call.Reply;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * How the edge reaches an upstream's entity, across the loss of the node that runs it.
 *
 * <p>A message for a shard whose home is a node that is unreachable, downed or leaving (and not
 * yet replaced) is sent into the void or dropped at the shard's hand-off: the region still routes to the old home until the coordinator
 * has moved the shard. So while the directory names a lost node as an upstream's owner, calls for
 * that upstream are held here (bounded in number and time) and sent once the upstream's status
 * comes from a live node again, or the owner is reachable again. A held call that waits longer
 * than the hold limit, or finds the queue full, fails with {@link Fault#UPSTREAM_UNAVAILABLE}.
 *
 * <p>Calls that were already sent to an owner that then gets downed cannot be answered by it any
 * more: {@link #onOwnerDowned} listeners (the edge's reply router) fail them at once instead of
 * letting them wait for the edge's time limit. Whether such a call ran upstream is unknown, so it
 * is not sent again (at most once).
 *
 * <p>Servers with {@code failover: standby | warm_standby | active_active} are not held: while
 * their owner is lost, this node serves their calls through a connection of its own ({@link
 * UpstreamStandby}). With {@code active_active} it does so whenever that connection is ready.
 *
 * <p>A call that a shard hand-off dropped before it reached its entity is sent again ({@link
 * UndeliveredCalls}, {@link #resend}): it never ran, so at most once still holds.
 *
 * <p>The common path, when no member is lost, costs one volatile read.
 */
public final class UpstreamRoute implements Extension {

  /** A call waiting for its upstream's owner to be known alive again. */
  private record Held(UpstreamServer.Forward forward, long sinceNanos) {}

  private final UpstreamRegion region;
  private final UpstreamDirectory directory;
  private final long holdNanos;
  private final int maxHeldPerServer;
  private final UpstreamStandby standby;
  private final String self;
  private final ActorSystem<?> system;
  private final AtomicLong resent = new AtomicLong();
  /** Addresses of members that are unreachable, leaving, downed or removed: never sent to. */
  private volatile Set<String> lost = Set.of();
  /** The removed ones among them: forgotten once no upstream's status names them (tick only). */
  private final Set<String> removed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Held calls by server; guarded by {@code this}. */
  private final Map<String, ArrayDeque<Held>> held = new HashMap<>();
  private final List<Consumer<String>> downedListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> unreachableListeners = new CopyOnWriteArrayList<>();
  private volatile SentListener sentListener = (reply, owner, server) -> { };
  /** This node's server configurations ({@link #configureStandby}); none before. */
  private volatile Function<String, Optional<ServerConfig>> configs = name -> Optional.empty();

  /** Told to which owner each call of {@code server} went directly. */
  public interface SentListener {
    void sent(Reply reply, String owner, String server);
  }

  public static UpstreamRoute get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  private UpstreamRoute(ActorSystem<?> system, NodeSettings settings, int maxHeldPerServer) {
    this.region = new UpstreamRegion(system);
    this.directory = UpstreamDirectory.get(system);
    this.holdNanos = settings.failoverHold().toNanos();
    this.maxHeldPerServer = maxHeldPerServer;
    this.standby = new UpstreamStandby(system, settings);
    this.self = Cluster.get(system).selfMember().address().toString();
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
        "bastion-close-standbys", () -> {
          standby.closeAll();
          return CompletableFuture.completedFuture(Done.getInstance());
        });
    system.systemActorOf(watcher(), "bastion-upstream-route", Props.empty());
    UndeliveredCalls.watch(system);
    this.system = system;
    Duration tick = Duration.ofMillis(100);
    system.scheduler().scheduleAtFixedRate(tick, tick, this::releaseAndExpire, system.executionContext());
  }

  /**
   * Sends {@code forward} of a session of virtual key {@code key} (null: none) to the entity that
   * serves it: for a {@code per_key} OAuth server the key's own ({@link KeyedUpstreams}), else the
   * server's, held while its owner is lost.
   */
  public void send(String server, String key, UpstreamServer.Forward forward) {
    if (key != null && perKey(server)) {
      region.tell(KeyedUpstreams.entityId(server, key), forward);
      sentListener.sent(forward.replyTo(), null, server);
      return;
    }
    send(server, forward);
  }

  /**
   * Sends {@code forward} to {@code server}'s entity, or holds it while its owner is lost; for a
   * server with {@code failover: active_active}, serves it through this node's own connection
   * when that is ready (on a node that does not run the entity).
   */
  public void send(String server, UpstreamServer.Forward forward) {
    if (standby.serveActive(server, forward)) {
      return;
    }
    if (!lost.isEmpty() && ownerLost(server)) {
      if (standby.serve(server, forward)) {
        return;
      }
      synchronized (this) {
        // Checked again under the lock: a release between the two checks must not strand it.
        if (ownerLost(server)) {
          hold(server, forward);
          return;
        }
      }
    }
    region.tell(server, forward);
    sentListener.sent(forward.replyTo(), owner(server), server);
  }

  /**
   * Sends again, as a new call, a call that never reached its entity ({@link UndeliveredCalls}),
   * on the node holding its request, while it waits; after one tick, so that it cannot loop fast.
   */
  public void resend(UndeliveredCalls.Undelivered u) {
    resent.incrementAndGet();
    String server = KeyedUpstreams.server(u.entityId());
    Metrics.resentCalls(server).increment();
    system.scheduler().scheduleOnce(Duration.ofMillis(100), () -> {
      if (KeyedUpstreams.isKeyed(u.entityId())) {
        region.tell(u.entityId(), u.forward());
      } else {
        send(server, u.forward());
      }
    }, system.executionContext());
  }

  /** Calls this node sent again because they never reached their entity (tests, status). */
  public long resentCalls() {
    return resent.get();
  }

  /**
   * Where this node's server configurations come from, for the standby connections of servers
   * with {@code failover: standby | warm_standby} (none before this is called).
   */
  public void configureStandby(Function<String, Optional<ServerConfig>> configs, Supplier<Collection<String>> names) {
    this.configs = configs;
    standby.configure(configs, names);
  }

  /**
   * The client (of virtual key {@code key}, or null) cancelled a request it may have sent to
   * {@code server}: its entity (the key's, for a {@code per_key} server) and this node's standby
   * hear of it.
   */
  public void cancel(String server, String key, UpstreamServer.Cancel cancel) {
    region.tell(server, cancel);
    if (key != null && perKey(server)) {
      region.tell(KeyedUpstreams.entityId(server, key), cancel);
    }
    standby.cancel(server, cancel);
  }

  private boolean perKey(String server) {
    return configs.apply(server).filter(KeyedUpstreams::perKey).isPresent();
  }

  /** Whether {@code server}'s calls are served by standby connections while its owner is lost. */
  public boolean standbyEnabled(String server) {
    return standby.enabled(server);
  }

  /** This node's open standby connections (tests, status). */
  public int standbyConnections() {
    return standby.open();
  }

  /** Calls this node served through its open active-active connection to {@code server} (tests, status). */
  public long activeCalls(String server) {
    return standby.activeCalls(server);
  }

  /**
   * {@code downed} is told the address of every member that gets downed, {@code unreachable} of
   * every member that becomes unreachable (both on an actor's thread); {@code sent} is told, on
   * the sender's thread, to which owner each call went directly (a call held and released later
   * is not told: it went to an owner known to be alive).
   */
  public void listen(Consumer<String> downed, Consumer<String> unreachable, SentListener sent) {
    downedListeners.add(downed);
    unreachableListeners.add(unreachable);
    sentListener = sent;
  }

  /** The owner {@code server}'s calls go to now, or null when it has none (for the edge). */
  public String owner(String server) {
    UpstreamStatus s = directory.statuses().get(server);
    return s == null ? null : s.owner();
  }

  /**
   * Runs {@code attempt} (told its number, from 0) and, while it times out and a member is or was
   * lost (its shards may be moving: a hand-off drops what a region buffered for them), runs it
   * again until {@code holdUntilNanos}; {@code retryFirst}: a first time-out is retried anyway.
   * For asks to sharded entities from the edge (sessions, budgets). The attempts must be safe to
   * repeat.
   */
  public <T> CompletableFuture<T> askAcrossLoss(IntFunction<CompletionStage<T>> attempt, long holdUntilNanos,
      boolean retryFirst) {
    return askAgain(attempt, 0, holdUntilNanos, retryFirst, memberLost());
  }

  private <T> CompletableFuture<T> askAgain(IntFunction<CompletionStage<T>> attempt, int n, long holdUntilNanos,
      boolean retryFirst, boolean sawLoss) {
    return attempt.apply(n).toCompletableFuture().exceptionallyCompose(err -> {
      if (!(Failures.root(err) instanceof TimeoutException)) {
        return CompletableFuture.failedFuture(err);
      }
      boolean loss = sawLoss || memberLost();
      if ((n == 0 && retryFirst) || (loss && System.nanoTime() < holdUntilNanos)) {
        return askAgain(attempt, n + 1, holdUntilNanos, retryFirst, loss);
      }
      return CompletableFuture.failedFuture(err);
    });
  }

  /** Whether some member is unreachable, leaving or gone (shards may be moving). */
  public boolean memberLost() {
    return !lost.isEmpty();
  }

  /** Calls held now (for tests and metrics). */
  public synchronized int heldCount() {
    int n = 0;
    for (ArrayDeque<Held> q : held.values()) {
      n += q.size();
    }
    return n;
  }

  private boolean ownerLost(String server) {
    String owner = owner(server);
    return owner != null && lost.contains(owner);
  }

  private void hold(String server, UpstreamServer.Forward forward) {
    ArrayDeque<Held> q = held.computeIfAbsent(server, s -> new ArrayDeque<>());
    if (q.size() >= maxHeldPerServer) {
      unavailable(forward, server, "too many calls are waiting for it to start on another node");
      return;
    }
    q.add(new Held(forward, System.nanoTime()));
  }

  /** Sends the calls of servers whose owner is alive again; fails those held too long. */
  private void releaseAndExpire() {
    standby.tick(this::ownerLost, server -> self.equals(owner(server)));
    for (String address : removed) {
      if (directory.statuses().values().stream().noneMatch(st -> address.equals(st.owner()))) {
        removed.remove(address);
        changeLost(address, false);
      }
    }
    List<Map.Entry<String, Held>> send = new ArrayList<>();
    List<Map.Entry<String, Held>> expired = new ArrayList<>();
    synchronized (this) {
      if (held.isEmpty()) {
        return;
      }
      long now = System.nanoTime();
      for (Iterator<Map.Entry<String, ArrayDeque<Held>>> it = held.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, ArrayDeque<Held>> e = it.next();
        boolean release = !ownerLost(e.getKey());
        for (Iterator<Held> h = e.getValue().iterator(); h.hasNext(); ) {
          Held call = h.next();
          if (release) {
            send.add(Map.entry(e.getKey(), call));
            h.remove();
          } else if (now - call.sinceNanos() > holdNanos) {
            expired.add(Map.entry(e.getKey(), call));
            h.remove();
          }
        }
        if (e.getValue().isEmpty()) {
          it.remove();
        }
      }
    }
    // In arrival order, outside the lock.
    send.forEach(e -> region.tell(e.getKey(), e.getValue().forward()));
    expired.forEach(e -> unavailable(e.getValue().forward(), e.getKey(),
        "it did not start on another node within " + Duration.ofNanos(holdNanos).toSeconds() + " s"));
  }

  private static void unavailable(UpstreamServer.Forward f, String server, String why) {
    f.replyTo().fail(Fault.UPSTREAM_UNAVAILABLE, f.downstreamId(), f.method(),
        "upstream " + server + " is unavailable: the node running it was lost and " + why);
  }

  private void changeLost(String address, boolean add) {
    synchronized (this) {
      Set<String> next = new HashSet<>(lost);
      if (add ? next.add(address) : next.remove(address)) {
        lost = Set.copyOf(next);
      }
    }
  }

  private Behavior<Object> watcher() {
    return Behaviors.setup(ctx -> {
      org.apache.pekko.actor.Address self = Cluster.get(ctx.getSystem()).selfMember().address();
      Cluster.get(ctx.getSystem()).subscriptions().tell(
          Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.ClusterDomainEvent.class));
      return Behaviors.receiveMessage(event -> {
        if (event instanceof UpstreamRegion.RegionStopped) {
          region.regionStopped(ctx);
        } else if (event instanceof ClusterEvent.MemberLeft left && left.member().address().equals(self)) {
          region.leaving(ctx);
        } else if (event instanceof ClusterEvent.UnreachableMember u) {
          changeLost(u.member().address().toString(), true);
          // Logged once the route holds: a call that entered this node before this line may have
          // gone to the member (operators and MultiJvmClusterTest read it).
          ctx.getLog().info("Cluster member [{}] is unreachable: calls for its upstreams are held or served "
              + "by standby connections; those already sent to it fail when it is downed", u.member().address());
          unreachableListeners.forEach(l -> l.accept(u.member().address().toString()));
        } else if (event instanceof ClusterEvent.ReachableMember r) {
          changeLost(r.member().address().toString(), false);
          ctx.getLog().info("Cluster member [{}] is reachable again", r.member().address());
        } else if (event instanceof ClusterEvent.MemberDowned d) {
          String address = d.member().address().toString();
          changeLost(address, true);
          ctx.getLog().info("Cluster member [{}] was downed: calls it was running fail", address);
          downedListeners.forEach(l -> l.accept(address));
        } else if (event instanceof ClusterEvent.MemberLeft left && !left.member().address().equals(self)) {
          // Its shards are about to be handed off: nothing is sent towards it until the upstream
          // runs elsewhere. The leaving node itself keeps serving its own calls until its region
          // stops (then through another node's: UpstreamRegion); a call a hand-off drops is sent again.
          changeLost(left.member().address().toString(), true);
        } else if (event instanceof ClusterEvent.MemberRemoved r) {
          changeLost(r.member().address().toString(), true);
          removed.add(r.member().address().toString());
        } else if (event instanceof ClusterEvent.MemberUp up) {
          // A new incarnation on a removed member's host and port.
          removed.remove(up.member().address().toString());
          changeLost(up.member().address().toString(), false);
        }
        return Behaviors.same();
      });
    });
  }

  /** One route per ActorSystem. */
  public static final class Id extends ExtensionId<UpstreamRoute> {
    static final Id INSTANCE = new Id();

    @Override
    public UpstreamRoute createExtension(ActorSystem<?> system) {
      return new UpstreamRoute(system, NodeSettings.fromConfig(system.settings().config()), 10_000);
    }
  }
}
