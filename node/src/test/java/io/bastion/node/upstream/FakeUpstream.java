package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.upstream.transport.UpstreamTransport;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;
import io.bastion.protocol.ProtocolVersions;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted upstream MCP server behind the {@link UpstreamTransport} interface, for entity unit
 * tests only: it answers on the sender's thread (the entity's), so everything it says reaches
 * the entity's mailbox in order. {@code initialize}, the list methods, {@code ping} and
 * {@code resources/subscribe} are answered from its fields; {@code tools/call} echoes its
 * arguments unless the tool is {@code hang} (never answered).
 */
final class FakeUpstream implements UpstreamTransport {

  /** For entity tests that involve no client session. */
  static final io.bastion.node.call.SessionPort NO_SESSIONS = new io.bastion.node.call.SessionPort() {
    @Override
    public void subscribed(String sessionId, String server) {}

    @Override
    public void resourceUpdated(String sessionId, String server,
        com.fasterxml.jackson.databind.node.ObjectNode notification) {}

    @Override
    public void serverRequest(String sessionId, String server, com.fasterxml.jackson.databind.JsonNode upstreamId,
        String method, com.fasterxml.jackson.databind.JsonNode params, io.bastion.node.call.Reply related) {}
  };

  /** What the entity sent, in order. */
  final BlockingQueue<ObjectNode> sent = new LinkedBlockingQueue<>();
  /** Completes {@link #start}; tests may leave it open (connecting) or fail it. */
  final CompletableFuture<Void> started = new CompletableFuture<>();
  volatile ArrayNode tools = Json.MAPPER.createArrayNode();
  volatile boolean closed;
  /**
   * When set, what sending {@code notifications/initialized} returns: the test completes it once
   * the upstream "got" it. Until then {@code tools/list} is answered with {@link #toolsBeforeInitialized}
   * (a server that registers tools when {@code initialized} arrives, and got the list first).
   */
  volatile CompletableFuture<Void> initializedSend;
  volatile ArrayNode toolsBeforeInitialized;
  /** Run once, right after the next {@code tools/list} is answered (the upstream changes its mind). */
  volatile Runnable afterToolsList;
  private volatile Listener listener;

  FakeUpstream withTools(String... names) {
    ArrayNode a = Json.MAPPER.createArrayNode();
    for (String n : names) {
      a.addObject().put("name", n).putObject("inputSchema").put("type", "object");
    }
    tools = a;
    return this;
  }

  @Override
  public CompletionStage<Void> start(Listener listener) {
    this.listener = listener;
    return started;
  }

  @Override
  public CompletionStage<Void> send(ObjectNode message) {
    sent.add(message);
    JsonNode id = message.get("id");
    String method = message.path("method").asText(null);
    if (id == null || method == null) {
      CompletableFuture<Void> gate = initializedSend;
      return gate != null && Methods.NOTIFICATION_INITIALIZED.equals(method) ? gate
          : CompletableFuture.completedFuture(null);
    }
    ObjectNode result = Json.object();
    switch (method) {
      case Methods.INITIALIZE -> {
        result.put("protocolVersion", ProtocolVersions.LATEST);
        result.putObject("capabilities").putObject("tools");
        ((ObjectNode) result.get("capabilities")).putObject("resources").put("subscribe", true);
        result.putObject("serverInfo").put("name", "fake").put("version", "1");
      }
      case Methods.TOOLS_LIST -> {
        CompletableFuture<Void> gate = initializedSend;
        result.set("tools", gate != null && !gate.isDone() && toolsBeforeInitialized != null
            ? toolsBeforeInitialized : tools);
      }
      case Methods.RESOURCES_LIST -> result.putArray("resources");
      case Methods.RESOURCES_TEMPLATES_LIST -> result.putArray("resourceTemplates");
      case Methods.TOOLS_CALL -> {
        if ("hang".equals(message.at("/params/name").asText())) {
          return CompletableFuture.completedFuture(null);
        }
        result.putArray("content").addObject().put("type", "text")
            .put("text", message.at("/params/arguments").toString());
      }
      default -> { }
    }
    say(JsonRpc.result(id, result), id);
    Runnable after = afterToolsList;
    if (after != null && Methods.TOOLS_LIST.equals(method)) {
      afterToolsList = null;
      after.run();
    }
    return CompletableFuture.completedFuture(null);
  }

  /** The upstream sends {@code message} on its own (a notification or request). */
  void say(ObjectNode message, JsonNode related) {
    listener.onMessage(message, related);
  }

  @Override
  public CompletionStage<Void> close() {
    closed = true;
    return CompletableFuture.completedFuture(null);
  }

  /** The next message the entity sent with {@code method}, skipping others. */
  ObjectNode nextSent(String method) throws InterruptedException {
    while (true) {
      ObjectNode m = sent.poll(10, TimeUnit.SECONDS);
      if (m == null) {
        throw new AssertionError("the entity sent no " + method);
      }
      if (method.equals(m.path("method").asText())) {
        return m;
      }
    }
  }

  List<String> toolNames() {
    return tools.findValuesAsText("name");
  }
}
