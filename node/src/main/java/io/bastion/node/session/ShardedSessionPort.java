package io.bastion.node.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.Reply;
import io.bastion.node.call.SessionPort;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** How upstream entities reach sessions: through sharding, wherever the session lives. */
public final class ShardedSessionPort implements SessionPort {
  private final ClusterSharding sharding;

  public ShardedSessionPort(ActorSystem<?> system) {
    this.sharding = ClusterSharding.get(system);
  }

  @Override
  public void subscribed(String sessionId, String server) {
    sharding.entityRefFor(SessionEntity.ENTITY_TYPE_KEY, sessionId).tell(new SessionEntity.Subscribed(server));
  }

  @Override
  public void resourceUpdated(String sessionId, String server, ObjectNode notification) {
    sharding.entityRefFor(SessionEntity.ENTITY_TYPE_KEY, sessionId)
        .tell(new SessionEntity.ResourceUpdated(server, notification));
  }

  @Override
  public void serverRequest(String sessionId, String server, JsonNode upstreamId, String method, JsonNode params,
      Reply related) {
    sharding.entityRefFor(SessionEntity.ENTITY_TYPE_KEY, sessionId)
        .tell(new SessionEntity.ServerRequest(server, upstreamId, method, params, related));
  }
}
