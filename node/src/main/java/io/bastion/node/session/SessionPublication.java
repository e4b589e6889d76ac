package io.bastion.node.session;

import io.bastion.node.call.SessionInfo;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Where one {@link SessionEntity} publishes its state so that edges need not ask it: this node's
 * {@link LocalSessions}, and the other nodes that cache the session ({@link RemoteSessions}, the
 * subscribers: each is sent every change). A DELETE is answered only once each subscriber
 * confirmed the session's end, or after {@link #CONFIRM_WITHIN} (a node that does not answer is
 * unreachable, and its cache goes when it leaves the cluster). Not thread-safe: owned by the entity.
 */
final class SessionPublication {

  static final Duration CONFIRM_WITHIN = Duration.ofSeconds(2);
  private static final String CONFIRM_TIMER = "subscribers-confirm";

  private final ActorContext<SessionEntity.Command> ctx;
  private final String sessionId;
  private final LocalSessions local;
  /** Empty (shared) until a first subscriber: most sessions are used on one node only. */
  private Set<ActorRef<RemoteSessions.Update>> subscribers = Collections.emptySet();
  /** Subscribers that have not yet confirmed the end; null when no end is being confirmed. */
  private Set<ActorRef<RemoteSessions.Update>> unconfirmed;
  private Runnable whenConfirmed;

  SessionPublication(ActorContext<SessionEntity.Command> ctx, String sessionId, LocalSessions local) {
    this.ctx = ctx;
    this.sessionId = sessionId;
    this.local = local;
  }

  /** Publishes the session's new state (not found: it ended or moved away). */
  void publish(SessionInfo info) {
    if (info.found()) {
      local.put(sessionId, info);
    } else {
      local.remove(sessionId);
    }
    for (ActorRef<RemoteSessions.Update> s : subscribers) {
      s.tell(new RemoteSessions.Update(sessionId, info, ctx.getSelf(), false));
    }
  }

  /** Whether a request on this node used the session since the last look ({@link LocalSessions#use}). */
  boolean takeUsed() {
    return local.takeUsed(sessionId);
  }

  /** A node's first request of the session: from now on it hears of every change, starting with {@code info}. */
  void add(ActorRef<RemoteSessions.Update> subscriber, SessionInfo info) {
    if (!(subscribers instanceof HashSet)) {
      subscribers = new HashSet<>();
    }
    if (subscribers.add(subscriber)) {
      ctx.watchWith(subscriber, new SessionEntity.Confirmed(subscriber)); // its node is gone
    }
    subscriber.tell(new RemoteSessions.Update(sessionId, info, ctx.getSelf(), false));
  }

  /**
   * The client ended the session: it is withdrawn everywhere, and {@code then} runs once every
   * subscriber confirmed it (at once if there are none).
   */
  void end(TimerScheduler<SessionEntity.Command> timers, Runnable then) {
    finish(); // a previous end still waiting is overtaken by this one
    local.remove(sessionId);
    if (subscribers.isEmpty()) {
      then.run();
      return;
    }
    unconfirmed = new HashSet<>(subscribers);
    whenConfirmed = then;
    for (ActorRef<RemoteSessions.Update> s : subscribers) {
      s.tell(new RemoteSessions.Update(sessionId, SessionInfo.NOT_FOUND, ctx.getSelf(), true));
    }
    subscribers = Collections.emptySet();
    timers.startSingleTimer(CONFIRM_TIMER, new SessionEntity.Confirmed(null), CONFIRM_WITHIN);
  }

  /** {@code subscriber} confirmed the end, or its node is gone; null: the time to confirm is up. */
  void confirmed(ActorRef<RemoteSessions.Update> subscriber) {
    if (subscriber == null) {
      finish();
      return;
    }
    subscribers.remove(subscriber);
    if (unconfirmed != null && unconfirmed.remove(subscriber) && unconfirmed.isEmpty()) {
      finish();
    }
  }

  /** Whether an end is waiting for confirmations. */
  boolean confirming() {
    return unconfirmed != null;
  }

  /** Runs what waits for the confirmations now (they are all in, the time is up, or the entity stops). */
  void finish() {
    Runnable then = whenConfirmed;
    unconfirmed = null;
    whenConfirmed = null;
    if (then != null) {
      then.run();
    }
  }
}
