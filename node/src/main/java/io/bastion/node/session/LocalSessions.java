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
 */
public final class LocalSessions implements Extension {

  private final ConcurrentHashMap<String, SessionInfo> open = new ConcurrentHashMap<>();

  private LocalSessions() {}

  public static LocalSessions get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** The session's state when its entity runs on this node; empty otherwise. */
  public Optional<SessionInfo> find(String sessionId) {
    return Optional.ofNullable(open.get(sessionId));
  }

  /** Open sessions whose entity runs on this node. */
  public int size() {
    return open.size();
  }

  void put(String sessionId, SessionInfo info) {
    open.put(sessionId, info);
  }

  void remove(String sessionId) {
    open.remove(sessionId);
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
