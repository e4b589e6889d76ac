package io.bastion.node.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.CodeModeConfig;
import io.bastion.node.call.AccessPolicy;
import io.bastion.node.call.Exchange;
import io.bastion.node.call.Fault;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.call.ToolCallGate;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamRoute;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.protocol.FederatedCatalog;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.JsonRpcException;
import io.bastion.protocol.Methods;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import net.starlark.java.eval.EvalException;
import net.starlark.java.eval.Starlark;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Code Mode on one node: decides whether a caller gets it, serves the four meta-tools in place of
 * the Code-Mode servers' tools, and runs programs in the {@link Sandbox}.
 *
 * <p>A program's tool call is a {@code tools/call} like a client's: it is handed to the
 * dispatcher's own tools/call path ({@link ToolCaller}), so the key's access policy, its budgets
 * and rate limits (charged per call), the audit log (one row per call, with the run's request
 * id), metrics, timeouts and the routing to the owning {@code UpstreamServer} anywhere in the
 * cluster all apply unchanged. The run itself gets one audit row of its own ({@link
 * ToolCallGate#observed}).
 */
public final class CodeMode {

  /** The dispatcher's tools/call path for one request, answered on {@code out}. */
  public interface ToolCaller {
    void call(JsonRpc.Request req, String sessionId, SessionInfo session, String group, Exchange out,
        String requestId, long bytesIn);
  }

  private final CodeModeConfig config;
  private final UpstreamDirectory directory;
  private final AccessPolicy policy;
  private final ToolCallGate gate;
  private final UpstreamRoute route;
  private final Sandbox sandbox;
  private final NestedCalls nested;
  private final Map<String, Sandbox.Run> runs = new ConcurrentHashMap<>();
  private final AtomicLong runIds = new AtomicLong();
  private final Function<String, Boolean> serverFlags;
  private volatile ToolCaller caller;

  private CodeMode(ActorSystem<?> system, CodeModeConfig config, AccessPolicy policy, ToolCallGate gate,
      Function<String, Boolean> serverFlags) {
    this.config = config;
    this.serverFlags = serverFlags;
    this.directory = UpstreamDirectory.get(system);
    this.policy = policy;
    this.gate = gate;
    this.route = UpstreamRoute.get(system);
    this.sandbox = new Sandbox(config.limits());
    this.nested = new NestedCalls(system);
    system.getWhenTerminated().whenComplete((d, err) -> sandbox.close());
  }

  /** Code Mode for this node, or null when the config leaves it off. */
  public static CodeMode start(ActorSystem<?> system, CodeModeConfig config, AccessPolicy policy, ToolCallGate gate) {
    return start(system, config, policy, gate, config.serverFlags()::get);
  }

  /**
   * As above, with each server's own {@code code_mode} flag read from {@code serverFlags} at every
   * use (null: not set), so that servers added or changed through the admin API carry theirs.
   */
  public static CodeMode start(ActorSystem<?> system, CodeModeConfig config, AccessPolicy policy, ToolCallGate gate,
      Function<String, Boolean> serverFlags) {
    return config.enabled() ? new CodeMode(system, config, policy, gate, serverFlags) : null;
  }

  /** Is {@code server} reached through Code Mode: its own flag in force, else {@code mcp.code_mode.servers}. */
  private boolean covers(String server) {
    Boolean flag = serverFlags.apply(server);
    return flag != null ? flag : config.servers() == null || config.servers().contains(server);
  }

  /** Where nested calls go: the dispatcher's tools/call path (without the meta-tools). */
  public void bind(ToolCaller caller) {
    this.caller = caller;
  }

  public Sandbox sandbox() {
    return sandbox;
  }

  /** The Code-Mode servers' tools this caller may call. */
  private List<FederatedCatalog.Entry> covered(SessionInfo session, String group) {
    return directory.catalog().tools().stream()
        .filter(e -> covers(e.target().server())
            && policy.allowsTool(session, group, e.target().server(), e.target().original()))
        .toList();
  }

  /** Does this caller get Code Mode (its key's or group's setting, and auto mode's threshold)? */
  public boolean active(SessionInfo session, String group) {
    return config.activeFor(session == null ? null : session.keyName(), group, covered(session, group).size());
  }

  /**
   * What a key sees of Code Mode, for the admin API: the servers reached through it (by config,
   * connected or not), whether Code Mode is on for the key (at {@code /mcp}, or at {@code
   * /mcp/<group>}), and the stub files its {@code listToolFiles} / {@code readToolFile} give.
   */
  public ObjectNode describe(String keyName, String group) {
    SessionInfo session = new SessionInfo(true, null, keyName, null, null, null);
    List<FederatedCatalog.Entry> covered = covered(session, group);
    ObjectNode o = Json.object().put("enabled", true).put("mode", config.mode().yamlName())
        .put("binding", config.binding().name().toLowerCase(java.util.Locale.ROOT))
        .put("autoThreshold", config.autoThreshold());
    var servers = o.putArray("servers");
    directory.statuses().keySet().stream().filter(config::coversServer).sorted().forEach(servers::add);
    o.put("key", keyName).put("group", group).put("active", config.activeFor(keyName, group, covered.size()))
        .put("tools", covered.size());
    ObjectNode files = o.putObject("files");
    new StubFiles(covered, config.binding()).files().forEach(files::put);
    return o;
  }

  /** A caller's tools/list under Code Mode: its other tools, then the four meta-tools. */
  public List<FederatedCatalog.Entry> toolsList(List<FederatedCatalog.Entry> visible) {
    List<FederatedCatalog.Entry> out = new ArrayList<>();
    visible.stream().filter(e -> !covers(e.target().server())).forEach(out::add);
    out.addAll(MetaTools.entries());
    return out;
  }

  /** The four meta-tools' definitions as tools/list gives them (for the token benchmark). */
  public static List<ObjectNode> metaToolDefinitions() {
    return MetaTools.entries().stream().map(FederatedCatalog.Entry::definition).toList();
  }

  public boolean isMetaTool(String name) {
    return MetaTools.NAMES.contains(name);
  }

  /** Answers a call of one of the meta-tools on {@code out}. */
  public void call(JsonRpc.Request req, String sessionId, SessionInfo session, String group, Exchange out,
      String requestId, long bytesIn) {
    ObjectNode params = req.paramsObject();
    String name = params.path("name").asText();
    JsonNode args = params.path("arguments").isObject() ? params.get("arguments") : Json.object();
    gate.observed(new ToolCallGate.Call(sessionId, session, group, req, name, null, null, requestId, bytesIn), out);
    StubFiles files = new StubFiles(covered(session, group), config.binding());
    switch (name) {
      case MetaTools.LIST -> answer(out, req, MetaTools.listing(files));
      case MetaTools.READ -> answer(out, req, MetaTools.read(files, args));
      case MetaTools.DOCS -> answer(out, req, MetaTools.docs(files, args));
      default -> execute(req, sessionId, session, group, out, requestId, files, args);
    }
  }

  /** The client cancelled request {@code requestId}: if it is a run here, the run stops. */
  public void cancel(String sessionId, JsonNode requestId, String reason) {
    Sandbox.Run run = runs.get(runKey(sessionId, requestId));
    if (run != null) {
      run.cancel(reason);
    }
  }

  private static String runKey(String sessionId, JsonNode id) {
    return sessionId + " " + id;
  }

  private static void answer(Exchange out, JsonRpc.Request req, ObjectNode result) {
    out.reply().result(JsonRpc.result(req.id(), result));
  }

  private void execute(JsonRpc.Request req, String sessionId, SessionInfo session, String group, Exchange out,
      String requestId, StubFiles files, JsonNode args) {
    JsonNode code = args.get("code");
    if (code == null || !code.isTextual()) {
      answer(out, req, MetaTools.text("executeToolCode needs code: the program, as a string", true));
      return;
    }
    JsonNode progressToken = req.paramsObject().path("_meta").get("progressToken");
    long runId = runIds.incrementAndGet();
    AtomicInteger calls = new AtomicInteger();
    Sandbox.ToolInvoker invoker = (tool, a) -> nestedCall(runId, calls.incrementAndGet(), tool, a, sessionId,
        session, group, requestId, progressToken, out);
    Sandbox.Run run;
    try {
      run = sandbox.submit(code.textValue(), Bindings.of(files.refs()), invoker);
    } catch (Sandbox.Overloaded e) {
      out.reply().fail(Fault.GATEWAY_OVERLOADED, req.id(), req.method(), e.getMessage());
      return;
    }
    String key = runKey(sessionId, req.id());
    runs.put(key, run);
    run.outcome().whenComplete((o, err) -> {
      runs.remove(key, run);
      if (o != null && o.errorKind() == Sandbox.Kind.CANCELLED) {
        out.reply().fail(Fault.CLIENT_CANCELLED, req.id(), req.method(), o.error());
      } else {
        answer(out, req, o != null ? MetaTools.outcome(o)
            : MetaTools.text("Error (internal): the run failed: " + err, true));
      }
    });
  }

  /** One nested call, on the run's thread: through the dispatcher's tools/call path, then wait. */
  private JsonNode nestedCall(long runId, int n, Bindings.ToolRef tool, ObjectNode arguments, String sessionId,
      SessionInfo session, String group, String requestId, JsonNode progressToken, Exchange client)
      throws EvalException, InterruptedException {
    ToolCaller to = caller;
    if (to == null) {
      throw Starlark.errorf("Code Mode is not connected to the dispatcher");
    }
    JsonNode id = Json.NODES.textNode("bastion-codemode-" + runId + "-" + n);
    ObjectNode params = Json.object().put("name", tool.exposed());
    params.set("arguments", arguments);
    JsonRpc.Request req = new JsonRpc.Request(id, Methods.TOOLS_CALL, params,
        JsonRpc.request(id, Methods.TOOLS_CALL, params));
    NestedCalls.Call call = nested.open(id, Methods.TOOLS_CALL);
    try {
      to.call(req, sessionId, session, group, call, requestId, Json.writeBytes(params).length);
    } catch (JsonRpcException e) {
      call.abandon();
      throw Starlark.errorf("%s: %s", tool.serverId() + "." + tool.pythonName(), e.getMessage());
    }
    ObjectNode answer;
    try {
      answer = call.answer().get();
    } catch (InterruptedException e) {
      // The run was stopped (cancelled, out of time): so is its call in flight.
      route.cancel(tool.server(), session.keyName(), new UpstreamServer.Cancel(sessionId, id, "Code Mode run stopped"));
      call.abandon();
      throw e;
    } catch (ExecutionException | CancellationException e) {
      throw Starlark.errorf("%s.%s: the call was abandoned", tool.serverId(), tool.pythonName());
    }
    progress(client, progressToken, n, tool, answer);
    if (answer.has("error")) {
      throw Starlark.errorf("%s.%s failed: %s", tool.serverId(), tool.pythonName(),
          answer.path("error").path("message").asText("error"));
    }
    return answer.path("result");
  }

  /** A nested call finished: tell the client, when it asked for progress. */
  private static void progress(Exchange client, JsonNode token, int n, Bindings.ToolRef tool, ObjectNode answer) {
    if (token == null || token.isNull()) {
      return;
    }
    String how = answer.has("error") ? "error" : answer.path("result").path("isError").asBoolean(false)
        ? "tool error" : "ok";
    ObjectNode p = Json.object();
    p.set("progressToken", token);
    p.put("progress", n).put("message", tool.serverId() + "." + tool.pythonName() + ": " + how);
    client.reply().message(JsonRpc.notification(Methods.NOTIFICATION_PROGRESS, p));
  }
}
