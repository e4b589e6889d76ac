package io.bastion.node.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.metrics.NodeMetrics;
import io.bastion.node.JsonFields;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.persistence.CborSerializable;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One downstream MCP session, sharded by its id (architecture §2), so that a session opened on
 * one node is served by every node: any edge asks this entity whether the session exists, and
 * any node can push a message to the client's GET stream through it.
 *
 * <p>Owns: the negotiated protocol version, the client's info and capabilities, the virtual key it
 * was opened with, where the client's GET stream lives, and the server→client requests waiting
 * for the client's answer. Not persisted: when the owner node is lost the client gets 404 and
 * re-initializes, as the spec says. Idle sessions passivate after the configured idle timeout.
 */
public final class SessionEntity extends AbstractBehavior<SessionEntity.Command> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Session");

  public sealed interface Command extends CborSerializable
      permits Open, Validate, Initialized, AttachStream, DetachStream, Notify, ServerRequest,
          ResolveClientResponse, Terminate, Stop, IdleTimeout {}

  /** Opens the session (sent once, by the edge that minted the id). */
  public record Open(String protocolVersion, JsonNode clientInfo, JsonNode capabilities,
      String keyName, ActorRef<Info> replyTo) implements Command {
    public Open {
      clientInfo = JsonFields.absentAsNull(clientInfo);
      capabilities = JsonFields.absentAsNull(capabilities);
    }
  }

  /** Does the session exist, and what was negotiated? */
  public record Validate(ActorRef<Info> replyTo) implements Command {}

  /** Legacy HTTP+SSE: the handshake arrives after the stream opened. */
  public record Initialized(String protocolVersion, JsonNode clientInfo, JsonNode capabilities) implements Command {
    public Initialized {
      clientInfo = JsonFields.absentAsNull(clientInfo);
      capabilities = JsonFields.absentAsNull(capabilities);
    }
  }

  /** The client opened its GET (or legacy SSE) stream on some node. */
  public record AttachStream(ActorRef<RequestStream.Event> stream) implements Command {}

  public record DetachStream(ActorRef<RequestStream.Event> stream) implements Command {}

  /** Put a notification on the session's GET stream (dropped when none is open, as the spec allows). */
  public record Notify(ObjectNode notification) implements Command {}

  /**
   * An upstream asks the client something (sampling, elicitation, roots). The session mints a
   * downstream id, remembers where the answer goes, and sends the request on {@code related} (the
   * stream of the request that caused it) or else on the GET stream.
   */
  public record ServerRequest(String server, JsonNode upstreamId, String method, JsonNode params,
      ActorRef<RequestStream.Event> related) implements Command {
    public ServerRequest {
      params = JsonFields.absentAsNull(params);
    }
  }

  /** The client POSTed a response: which upstream request does it answer? */
  public record ResolveClientResponse(JsonNode downstreamId, ActorRef<PendingAnswer> replyTo) implements Command {}

  public record Terminate(ActorRef<Info> replyTo) implements Command {}

  /** Sharding's stop message. */
  public enum Stop implements Command { INSTANCE }

  enum IdleTimeout implements Command { INSTANCE }

  /** The answer to {@link Validate}, {@link Open} and {@link Terminate}. */
  public record Info(boolean found, String protocolVersion, String keyName, JsonNode clientInfo,
      JsonNode capabilities, ActorRef<RequestStream.Event> stream) implements CborSerializable {
    public Info {
      clientInfo = JsonFields.absentAsNull(clientInfo);
      capabilities = JsonFields.absentAsNull(capabilities);
    }

    public static final Info NOT_FOUND = new Info(false, null, null, null, null, null);

    Info withStream(ActorRef<RequestStream.Event> s) {
      return new Info(found, protocolVersion, keyName, clientInfo, capabilities, s);
    }

    public boolean clientSupports(String capability) {
      return capabilities != null && capabilities.has(capability);
    }
  }

  /** Where a client's answer goes; {@code server} is null when the id is unknown. */
  public record PendingAnswer(String server, JsonNode upstreamId) implements CborSerializable {
    public PendingAnswer {
      upstreamId = JsonFields.absentAsNull(upstreamId);
    }

    public boolean found() {
      return server != null;
    }
  }

  private record Pending(String server, JsonNode upstreamId) {}

  public static void init(ActorSystem<?> system, Duration idleTimeout) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), idleTimeout, ctx.getShard()))
            .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(String sessionId, Duration idleTimeout,
      ActorRef<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> new SessionEntity(ctx, sessionId, idleTimeout, shard));
  }

  private final String sessionId;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ClusterSharding sharding;
  private Info info = Info.NOT_FOUND;
  private ActorRef<RequestStream.Event> stream;
  private final Map<String, Pending> pending = new HashMap<>();
  private final NodeMetrics metrics;
  private long nextServerRequest = 1;

  private SessionEntity(ActorContext<Command> ctx, String sessionId, Duration idleTimeout,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    super(ctx);
    this.sessionId = sessionId;
    this.shard = shard;
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.metrics = NodeMetrics.get(ctx.getSystem());
    ctx.setReceiveTimeout(idleTimeout, IdleTimeout.INSTANCE);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Open.class, this::onOpen)
        .onMessage(Validate.class, this::onValidate)
        .onMessage(Initialized.class, this::onInitialized)
        .onMessage(AttachStream.class, this::onAttach)
        .onMessage(DetachStream.class, this::onDetach)
        .onMessage(Notify.class, this::onNotify)
        .onMessage(ServerRequest.class, this::onServerRequest)
        .onMessage(ResolveClientResponse.class, this::onResolve)
        .onMessage(Terminate.class, this::onTerminate)
        .onMessageEquals(IdleTimeout.INSTANCE, this::onIdle)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .onSignal(PostStop.class, s -> {
          if (info.found()) {
            metrics.sessionDelta(-1);
            info = Info.NOT_FOUND;
          }
          return this;
        })
        .build();
  }

  private Behavior<Command> onOpen(Open open) {
    if (!info.found()) {
      metrics.sessionDelta(1);
    }
    info = new Info(true, open.protocolVersion(), open.keyName(), open.clientInfo(), open.capabilities(), null);
    open.replyTo().tell(info);
    return this;
  }

  private Behavior<Command> onValidate(Validate v) {
    v.replyTo().tell(info);
    // A message to a session that never opened (unknown or already deleted id) must not leave an
    // empty entity behind.
    return info.found() ? this : passivate();
  }

  private Behavior<Command> onInitialized(Initialized i) {
    if (info.found()) {
      info = new Info(true, i.protocolVersion(), info.keyName(), i.clientInfo(), i.capabilities(), stream);
    }
    return this;
  }

  private Behavior<Command> onAttach(AttachStream a) {
    if (stream != null && !stream.equals(a.stream())) {
      getContext().unwatch(stream);
    }
    stream = a.stream();
    info = info.withStream(stream);
    // The stream's end (client gone, or its node lost) detaches it, so an idle session with a
    // dead stream can still expire.
    getContext().watchWith(stream, new DetachStream(stream));
    return this;
  }

  private Behavior<Command> onDetach(DetachStream d) {
    if (d.stream().equals(stream)) {
      getContext().unwatch(stream);
      stream = null;
      info = info.withStream(null);
    }
    return this;
  }

  /**
   * Idle means no message for the idle timeout. A session whose client holds its GET or legacy SSE
   * stream open is not idle (keep-alives never reach the entity), so it stays.
   */
  private Behavior<Command> onIdle() {
    return stream != null ? this : passivate();
  }

  private Behavior<Command> onNotify(Notify n) {
    if (stream != null) {
      stream.tell(new RequestStream.Message(n.notification()));
    }
    return info.found() ? this : passivate();
  }

  private Behavior<Command> onServerRequest(ServerRequest r) {
    ActorRef<RequestStream.Event> target = r.related() != null ? r.related() : stream;
    boolean supported = switch (r.method()) {
      case "sampling/createMessage" -> info.clientSupports("sampling");
      case "elicitation/create" -> info.clientSupports("elicitation");
      case "roots/list" -> info.clientSupports("roots");
      default -> true;
    };
    if (!info.found() || target == null || !supported) {
      String why = !info.found() ? "session is gone"
          : !supported ? "the client did not declare the capability for " + r.method()
          : "the client has no open stream to receive " + r.method();
      ObjectNode error = JsonRpc.error(r.upstreamId(), ErrorCodes.METHOD_NOT_FOUND,
          "Bastion cannot forward " + r.method() + ": " + why, null);
      sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, r.server())
          .tell(new UpstreamServer.ClientAnswer(r.upstreamId(), error));
      return info.found() ? this : passivate();
    }
    String downstreamId = "bastion-s2c-" + (nextServerRequest++);
    pending.put(downstreamId, new Pending(r.server(), r.upstreamId()));
    target.tell(new RequestStream.Message(
        JsonRpc.request(Json.NODES.textNode(downstreamId), r.method(), r.params())));
    return this;
  }

  private Behavior<Command> onResolve(ResolveClientResponse r) {
    Pending p = r.downstreamId().isTextual() ? pending.remove(r.downstreamId().asText()) : null;
    r.replyTo().tell(p == null ? new PendingAnswer(null, null) : new PendingAnswer(p.server(), p.upstreamId()));
    return this;
  }

  private Behavior<Command> onTerminate(Terminate t) {
    t.replyTo().tell(info);
    if (info.found()) {
      getContext().getLog().debug("Session [{}] terminated by the client", sessionId);
    }
    if (info.found()) {
      metrics.sessionDelta(-1);
    }
    info = Info.NOT_FOUND;
    pending.clear();
    stream = null;
    return passivate();
  }

  private Behavior<Command> passivate() {
    shard.tell(new ClusterSharding.Passivate<>(getContext().getSelf()));
    return this;
  }
}
