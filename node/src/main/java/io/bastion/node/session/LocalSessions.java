package io.bastion.node.session;

import io.bastion.node.call.SessionInfo;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The open sessions whose {@link SessionEntity} runs on this node, as each entity last published
 * them. The entity is the only writer of its entry: it puts it before it answers {@code Open} and
 * removes it before it answers {@code Terminate} or stops, so a read here is as exact as an ask
 * to the entity, without the ask. The edge validates a session here first and asks the entity only
 * when the session is not local (its shard lives on another node, or it does not exist).
 *
 * <p>A request validated here sends the entity no message, so it cannot reset the entity's idle
 * timeout: {@link #use} marks the entry used instead, and the entity reads and clears the mark
 * ({@link #takeUsed}) when its idle timeout fires, so a session in use is never taken for idle.
 */
public final class LocalSessions implements Extension {

  /** One open session: its state and whether a request used it since the entity last looked. */
  private static final class Entry {
    final SessionInfo info;
    volatile boolean used;

    Entry(SessionInfo info) {
      this.info = info;
    }
  }

  private final ConcurrentHashMap<String, Entry> open = new ConcurrentHashMap<>();

  private LocalSessions() {}

  public static LocalSessions get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** The session's state when its entity runs on this node; empty otherwise. */
  public Optional<SessionInfo> find(String sessionId) {
    Entry e = open.get(sessionId);
    return e == null ? Optional.empty() : Optional.of(e.info);
  }

  /** As {@link #find}, for a request that uses the session: marks it used (it is not idle). */
  public Optional<SessionInfo> use(String sessionId) {
    Entry e = open.get(sessionId);
    if (e == null) {
      return Optional.empty();
    }
    if (!e.used) {
      e.used = true;
    }
    return Optional.of(e.info);
  }

  /** Open sessions whose entity runs on this node. */
  public int size() {
    return open.size();
  }

  void put(String sessionId, SessionInfo info) {
    open.put(sessionId, new Entry(info));
  }

  void remove(String sessionId) {
    open.remove(sessionId);
  }

  /** Whether a request used the session since the last call of this method; clears the mark. */
  boolean takeUsed(String sessionId) {
    Entry e = open.get(sessionId);
    if (e == null || !e.used) {
      return false;
    }
    e.used = false;
    return true;
  }

  /** One per ActorSystem. */
  public static final class Id extends ExtensionId<LocalSessions> {
    static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public LocalSessions createExtension(ActorSystem<?> system) {
      return new LocalSessions();
    }
  }
}
