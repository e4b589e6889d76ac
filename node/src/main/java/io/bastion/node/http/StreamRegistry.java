package io.bastion.node.http;

import io.bastion.node.session.RequestStream;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.protocol.JsonRpc;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The GET (and legacy SSE) streams open on this node. A stream is a TCP connection, so it is
 * node-local by nature; sessions themselves live in {@link SessionEntity}. Used to send {@code
 * notifications/*_list_changed} to every session that can see a changed server, within the
 * directory's subscription interval of the change.
 */
public final class StreamRegistry implements UpstreamDirectory.Listener {

  private record Open(SessionEntity.Info session, String group, ActorRef<RequestStream.Event> stream) {}

  private final Map<String, Open> streams = new ConcurrentHashMap<>();
  private final AccessPolicy policy;

  public StreamRegistry(AccessPolicy policy) {
    this.policy = policy;
  }

  void register(String sessionId, SessionEntity.Info session, String group, ActorRef<RequestStream.Event> stream) {
    streams.put(sessionId, new Open(session, group, stream));
  }

  void unregister(String sessionId, ActorRef<RequestStream.Event> stream) {
    streams.computeIfPresent(sessionId, (k, v) -> v.stream().equals(stream) ? null : v);
  }

  public int openStreams() {
    return streams.size();
  }

  @Override
  public void catalogChanged(Set<String> servers, Set<String> notifications,
      io.bastion.protocol.FederatedCatalog catalog) {
    for (Open o : streams.values()) {
      boolean affected = servers.stream().anyMatch(s -> policy.allowsServer(o.session(), o.group(), s));
      if (affected) {
        for (String method : notifications) {
          o.stream().tell(new RequestStream.Message(JsonRpc.notification(method, null)));
        }
      }
    }
  }
}
