package io.bastion.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.NodeSettings;
import io.bastion.node.Version;
import io.bastion.node.call.AccessPolicy;
import io.bastion.node.call.Exchange;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.call.ToolCallGate;
import io.bastion.node.codemode.CodeMode;
import io.bastion.node.session.PendingAnswer;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamRoute;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.protocol.Cursors;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.JsonRpcException;
import io.bastion.protocol.Methods;
import io.bastion.protocol.ProtocolVersions;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Answers one client JSON-RPC message for a session, whatever transport it came on. Lists are
 * answered locally from the replicated catalog; calls are forwarded to the owning {@link
 * UpstreamServer} entity; every answer goes to the request's {@link Exchange}.
 */
public final class McpDispatcher {

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final UpstreamDirectory directory;
  private final NodeSettings settings;
  private final AccessPolicy policy;
  private final ToolCallGate gate;
  private final UpstreamRoute route;
  /** Code Mode, or null when it is off. */
  private final CodeMode codeMode;

  public McpDispatcher(ActorSystem<?> system, NodeSettings settings, AccessPolicy policy) {
    this(system, settings, policy, ToolCallGate.PASS);
  }

  public McpDispatcher(ActorSystem<?> system, NodeSettings settings, AccessPolicy policy, ToolCallGate gate) {
    this(system, settings, policy, gate, null);
  }

  public McpDispatcher(ActorSystem<?> system, NodeSettings settings, AccessPolicy policy, ToolCallGate gate,
      CodeMode codeMode) {
    this.gate = gate;
    this.codeMode = codeMode;
    if (codeMode != null) {
      // A program's tool calls take the same path as a client's (policy, limits, audit, routing).
      codeMode.bind(this::callUpstreamTool);
    }
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.directory = UpstreamDirectory.get(system);
    this.route = UpstreamRoute.get(system);
    this.settings = settings;
    this.policy = policy;
  }

  /** The {@code initialize} result Bastion gives: what the merged upstreams can offer. */
  public static ObjectNode initializeResult(String version) {
    ObjectNode r = Json.object().put("protocolVersion", version);
    ObjectNode caps = r.putObject("capabilities");
    caps.putObject("tools").put("listChanged", true);
    caps.putObject("prompts").put("listChanged", true);
    caps.putObject("resources").put("subscribe", true).put("listChanged", true);
    caps.putObject("logging");
    caps.putObject("completions");
    r.putObject("serverInfo").put("name", "bastion").put("title", "Bastion MCP gateway")
        .put("version", Version.VERSION);
    return r;
  }

  /** Negotiates the version of an {@code initialize} request and validates its params. */
  public static String negotiate(JsonRpc.Request req) {
    JsonNode v = req.paramsObject().get("protocolVersion");
    if (v == null || !v.isTextual()) {
      throw JsonRpcException.invalidParams("initialize: params.protocolVersion must be a string");
    }
    return ProtocolVersions.negotiate(v.asText());
  }

  /**
   * Handles a request for an open session; the answer (and anything before it) goes to {@code
   * out}. {@code requestId} is the edge's request id and {@code bytesIn} the size of the request
   * as received, both recorded in the audit row of a tools/call.
   */
  public void dispatch(JsonRpc.Request req, String sessionId, SessionInfo session, String group,
      Exchange out, String requestId, long bytesIn) {
    Reply reply = out.reply();
    try {
      switch (req.method()) {
        case Methods.PING -> reply.result(JsonRpc.result(req.id(), Json.object()));
        case Methods.INITIALIZE -> reply.fail(Fault.CLIENT_INVALID_REQUEST, req.id(), req.method(),
            "Session already initialized");
        case Methods.TOOLS_LIST -> reply.result(final_(req, listTools(req, session, group)));
        case Methods.PROMPTS_LIST -> reply.result(final_(req, page(req, "prompts", visible(directory.catalog().prompts(), session, group))));
        case Methods.RESOURCES_LIST -> reply.result(final_(req, page(req, "resources", visible(directory.catalog().resources(), session, group))));
        case Methods.RESOURCES_TEMPLATES_LIST -> reply.result(final_(req, page(req, "resourceTemplates", visible(directory.catalog().resourceTemplates(), session, group))));
        case Methods.LOGGING_SET_LEVEL -> {
          if (!req.paramsObject().path("level").isTextual()) {
            throw JsonRpcException.invalidParams("logging/setLevel: params.level must be a string");
          }
          reply.result(final_(req, Json.object()));
        }
        case Methods.TOOLS_CALL -> callTool(req, sessionId, session, group, out, requestId, bytesIn);
        case Methods.PROMPTS_GET -> getPrompt(req, sessionId, session, group, reply);
        case Methods.RESOURCES_READ, Methods.RESOURCES_SUBSCRIBE, Methods.RESOURCES_UNSUBSCRIBE ->
            resourceRequest(req, sessionId, session, group, reply);
        case Methods.COMPLETION_COMPLETE -> complete(req, sessionId, session, group, reply);
        default -> throw JsonRpcException.methodNotFound(req.method());
      }
    } catch (JsonRpcException e) {
      reply.fail(Fault.ofClientCode(e.code()), req.id(), req.method(), e.getMessage(), e.data());
    } catch (RuntimeException e) {
      // A bug of Bastion's, not the client's: the client gets an answer and the exchange ends now,
      // instead of waiting for the edge's time limit.
      system.log().error("Unexpected failure handling " + req.method(), e);
      reply.fail(Fault.GATEWAY_INTERNAL, req.id(), req.method(), "Internal error");
    }
  }

  /**
   * A notification or a response from the client (both answered 202 by the transports): only
   * {@code notifications/cancelled} and answers to server→client requests need anything done.
   */
  public CompletionStage<Void> accept(JsonRpc.Message msg, String sessionId, SessionInfo session) {
    if (msg instanceof JsonRpc.Response r) {
      return clientResponse(r, sessionId);
    }
    if (msg instanceof JsonRpc.Notification n && Methods.NOTIFICATION_CANCELLED.equals(n.method())) {
      cancel(sessionId, session.keyName(), n);
    }
    // initialized, roots/list_changed, progress from the client: nothing to do
    return CompletableFuture.completedFuture(null);
  }

  /** The client answered a server→client request: its session says which upstream request it answers. */
  private CompletionStage<Void> clientResponse(JsonRpc.Response r, String sessionId) {
    return sharding.entityRefFor(SessionEntity.ENTITY_TYPE_KEY, sessionId).<PendingAnswer>ask(
            reply -> new SessionEntity.ResolveClientResponse(r.id(), reply), settings.askTimeout())
        .thenAccept(p -> {
          if (p.found()) {
            sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, p.server())
                .tell(new UpstreamServer.ClientAnswer(p.upstreamId(), r.raw()));
          }
        });
  }

  /** The client cancelled one of its requests: tell every upstream; the one that has it forwards it. */
  private void cancel(String sessionId, String key, JsonRpc.Notification n) {
    JsonNode requestId = n.paramsObject().get("requestId");
    if (requestId == null || !JsonRpc.isValidId(requestId)) {
      return;
    }
    String reason = n.paramsObject().path("reason").asText(null);
    if (codeMode != null) {
      codeMode.cancel(sessionId, requestId, reason);
    }
    for (String server : directory.statuses().keySet()) {
      route.cancel(server, key, new UpstreamServer.Cancel(sessionId, requestId, reason));
    }
  }

  private static com.fasterxml.jackson.databind.node.ObjectNode final_(JsonRpc.Request req, JsonNode result) {
    return JsonRpc.result(req.id(), result);
  }

  private ObjectNode listTools(JsonRpc.Request req, SessionInfo session, String group) {
    List<FederatedCatalog.Entry> tools = directory.catalog().tools().stream()
        .filter(e -> policy.allowsTool(session, group, e.target().server(), e.target().original()))
        .toList();
    if (codeMode != null && codeMode.active(session, group)) {
      tools = codeMode.toolsList(tools);
    }
    return page(req, "tools", tools);
  }

  private List<FederatedCatalog.Entry> visible(List<FederatedCatalog.Entry> entries,
      SessionInfo session, String group) {
    return entries.stream().filter(e -> policy.allowsServer(session, group, e.target().server())).toList();
  }

  private ObjectNode page(JsonRpc.Request req, String field, List<FederatedCatalog.Entry> entries) {
    JsonNode cursor = req.paramsObject().get("cursor");
    int offset = 0;
    if (cursor != null && !cursor.isNull()) {
      if (!cursor.isTextual()) {
        throw JsonRpcException.invalidParams("cursor must be a string");
      }
      offset = Cursors.decode(field, cursor.asText());
    }
    ObjectNode result = Json.object();
    ArrayNode arr = result.putArray(field);
    int end = Math.min(entries.size(), offset + settings.listPageSize());
    for (int i = offset; i < end; i++) {
      arr.add(entries.get(i).definition());
    }
    if (end < entries.size()) {
      result.put("nextCursor", Cursors.encode(field, end));
    }
    return result;
  }

  private void callTool(JsonRpc.Request req, String sessionId, SessionInfo session, String group,
      Exchange out, String requestId, long bytesIn) {
    JsonNode tool = req.paramsObject().get("name");
    if (codeMode != null && tool != null && codeMode.isMetaTool(tool.asText()) && codeMode.active(session, group)) {
      codeMode.call(req, sessionId, session, group, out, requestId, bytesIn);
      return;
    }
    callUpstreamTool(req, sessionId, session, group, out, requestId, bytesIn);
  }

  /** A tools/call of an upstream's tool, from a client or from a Code Mode program. */
  private void callUpstreamTool(JsonRpc.Request req, String sessionId, SessionInfo session, String group,
      Exchange out, String requestId, long bytesIn) {
    ObjectNode params = req.paramsObject();
    JsonNode name = params.get("name");
    if (name == null || !name.isTextual()) {
      throw JsonRpcException.invalidParams("tools/call: params.name must be a string");
    }
    JsonNode args = params.get("arguments");
    if (args != null && !args.isObject() && !args.isNull()) {
      throw JsonRpcException.invalidParams("tools/call: params.arguments must be an object");
    }
    Optional<FederatedCatalog.Target> target = directory.catalog().tool(name.asText())
        .filter(t -> policy.allowsTool(session, group, t.server(), t.original()));
    if (target.isEmpty()) {
      gate.denied(new ToolCallGate.Call(sessionId, session, group, req, name.asText(), null, null,
          requestId, bytesIn), out);
      // Hidden and missing tools get the same answer, on purpose.
      out.reply().fail(Fault.POLICY_UNKNOWN_TOOL, req.id(), req.method(), "Unknown tool: " + name.asText());
      return;
    }
    ToolCallGate.Call call = new ToolCallGate.Call(sessionId, session, group, req, name.asText(),
        target.get().server(), target.get().original(), requestId, bytesIn);
    // The parsed request is this call's own tree: the upstream's name is written into it in place
    // (no copy); the gate keeps what the client asked for in call.name().
    params.put("name", target.get().original());
    gate.admit(call, out, reply -> forward(target.get().server(), sessionId, session, req, params, reply));
  }

  private void getPrompt(JsonRpc.Request req, String sessionId, SessionInfo session, String group,
      Reply out) {
    JsonNode name = req.paramsObject().get("name");
    if (name == null || !name.isTextual()) {
      throw JsonRpcException.invalidParams("prompts/get: params.name must be a string");
    }
    FederatedCatalog.Target t = directory.catalog().prompt(name.asText())
        .filter(x -> policy.allowsServer(session, group, x.server()))
        .orElseThrow(() -> JsonRpcException.invalidParams("Unknown prompt: " + name.asText()));
    ObjectNode p = req.paramsObject();
    p.put("name", t.original());
    forward(t.server(), sessionId, session, req, p, out);
  }

  private void resourceRequest(JsonRpc.Request req, String sessionId, SessionInfo session, String group,
      Reply out) {
    JsonNode uri = req.paramsObject().get("uri");
    if (uri == null || !uri.isTextual()) {
      throw JsonRpcException.invalidParams(req.method() + ": params.uri must be a string");
    }
    FederatedCatalog.Target t = resolveResource(uri.asText(), session, group);
    ObjectNode p = req.paramsObject();
    p.put("uri", t.original());
    forward(t.server(), sessionId, session, req, p, out);
  }

  private FederatedCatalog.Target resolveResource(String uri, SessionInfo session, String group) {
    Set<String> known = directory.statuses().keySet();
    return directory.catalog().resource(uri, known::contains)
        .filter(x -> policy.allowsServer(session, group, x.server()))
        .orElseThrow(() -> new JsonRpcException(ErrorCodes.RESOURCE_NOT_FOUND, "Resource not found: " + uri,
            Json.object().put("uri", uri), null));
  }

  private void complete(JsonRpc.Request req, String sessionId, SessionInfo session, String group,
      Reply out) {
    JsonNode ref = req.paramsObject().get("ref");
    if (ref == null || !ref.isObject()) {
      throw JsonRpcException.invalidParams("completion/complete: params.ref must be an object");
    }
    ObjectNode p = req.paramsObject();
    ObjectNode r = (ObjectNode) p.get("ref");
    FederatedCatalog.Target t;
    switch (ref.path("type").asText()) {
      case "ref/prompt" -> {
        String name = ref.path("name").asText();
        t = directory.catalog().prompt(name)
            .filter(x -> policy.allowsServer(session, group, x.server()))
            .orElseThrow(() -> JsonRpcException.invalidParams("Unknown prompt: " + name));
        r.put("name", t.original());
      }
      case "ref/resource" -> {
        t = resolveResource(ref.path("uri").asText(), session, group);
        r.put("uri", t.original());
      }
      default -> throw JsonRpcException.invalidParams("completion/complete: unknown ref.type " + ref.path("type"));
    }
    forward(t.server(), sessionId, session, req, p, out);
  }

  /** To the server's entity, or for a {@code per_key} OAuth server to the entity of the session's key. */
  private void forward(String server, String sessionId, SessionInfo session, JsonRpc.Request req,
      ObjectNode params, Reply out) {
    route.send(server, session.keyName(), new UpstreamServer.Forward(sessionId, req.id(), req.method(), params, out));
  }
}
