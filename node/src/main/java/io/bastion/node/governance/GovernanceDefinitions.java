package io.bastion.node.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.BudgetConfig;
import io.bastion.config.ConfigException;
import io.bastion.config.ConfigLoader;
import io.bastion.config.ConfigProblem;
import io.bastion.config.CustomerConfig;
import io.bastion.config.RateLimitConfig;
import io.bastion.config.ServerConfig;
import io.bastion.config.TeamConfig;
import io.bastion.config.ToolGroupConfig;
import io.bastion.config.VirtualKeyConfig;
import io.bastion.node.governance.GovernanceRegistry.Entry;
import io.bastion.node.governance.GovernanceRegistry.Overlay;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The keys, teams, customers and tool groups in force on this node: the config file overlaid with
 * the admin API's changes ({@link GovernanceRegistry}). Rebuilds the {@link KeyDirectory} and the
 * {@link KeyAccessPolicy} whenever a newer overlay arrives (from this node's own API call at once,
 * from others through Distributed Data), and validates and performs the admin API's writes.
 *
 * <p>Precedence: an API definition replaces the config's definition of the same name, and stays
 * in force (across restarts) until it is deleted through the API. Deleting through the API a name
 * that the config defines stores a tombstone: the name stays deleted across restarts, whatever the
 * config says, until it is PUT again.
 */
public final class GovernanceDefinitions {

  /** An admin API answer: HTTP status and JSON body. */
  public record Result(int status, ObjectNode body) {}

  /** The kinds, with their name field and their singular for messages. */
  record Kind(String id, String nameField, String singular) {}

  static final Kind KEYS = new Kind(GovernanceRegistry.KEYS, "key_name", "virtual key");
  static final Kind TEAMS = new Kind(GovernanceRegistry.TEAMS, "name", "team");
  static final Kind CUSTOMERS = new Kind(GovernanceRegistry.CUSTOMERS, "name", "customer");
  static final Kind GROUPS = new Kind(GovernanceRegistry.GROUPS, "name", "tool group");
  private static final String HASHED = "api-key-sha256:";

  private final ActorSystem<?> system;
  private final BastionConfig base;
  private final KeyDirectory keys;
  private final KeyAccessPolicy policy;
  private final Duration askTimeout;
  private volatile Overlay overlay = Overlay.EMPTY;
  private volatile BastionConfig effective;

  public GovernanceDefinitions(ActorSystem<?> system, BastionConfig base, KeyDirectory keys,
      KeyAccessPolicy policy, Duration askTimeout) {
    this.system = system;
    this.base = base;
    this.keys = keys;
    this.policy = policy;
    this.askTimeout = askTimeout;
    this.effective = base;
  }

  /**
   * Starts the registry, subscribes to its replicated overlay and completes once the overlay in
   * force was read (so a key deleted through the API never works again after a restart, not even
   * for a moment): retried for up to {@code patience}.
   */
  public CompletionStage<Void> start(Duration patience) {
    GovernanceRegistry.init(system);
    GovernanceRegistry.subscribe(system, this::apply);
    long deadline = System.nanoTime() + patience.toNanos();
    return readOverlay(deadline);
  }

  private CompletionStage<Void> readOverlay(long deadline) {
    return GovernanceRegistry.ref(system).<Overlay>ask(GovernanceRegistry.Get::new, askTimeout)
        .thenAccept(this::apply)
        .handle((ok, err) -> {
          if (err == null) {
            return CompletableFuture.<Void>completedFuture(null);
          }
          // A start that failed otherwise (the node did not join) shuts the system down: stop.
          if (System.nanoTime() > deadline || system.whenTerminated().isCompleted()
              || org.apache.pekko.actor.CoordinatedShutdown.get(system).getShutdownReason().isPresent()) {
            return CompletableFuture.<Void>failedFuture(new IllegalStateException(
                "could not read the admin API's key/team/customer/group changes from the journal", err));
          }
          system.log().info("governance registry not reachable yet ({}); retrying", err.toString());
          return readOverlay(deadline);
        }).thenCompose(x -> x);
  }

  /** The config overlaid with the API's changes. */
  public BastionConfig effective() {
    return effective;
  }

  synchronized void apply(Overlay o) {
    if (o == null || (o.version() <= overlay.version() && overlay != Overlay.EMPTY)) {
      return;
    }
    Map<String, byte[]> hashes = new HashMap<>();
    BastionConfig c = merge(base, o, hashes);
    this.overlay = o;
    this.effective = c;
    keys.update(c, hashes);
    policy.update(c);
  }

  private BastionConfig merge(BastionConfig b, Overlay o, Map<String, byte[]> hashes) {
    Map<String, VirtualKeyConfig> ks = new LinkedHashMap<>();
    b.virtualKeys().forEach(k -> ks.put(k.keyName(), k));
    Map<String, TeamConfig> ts = new LinkedHashMap<>();
    b.teams().forEach(t -> ts.put(t.name(), t));
    Map<String, CustomerConfig> cs = new LinkedHashMap<>();
    b.customers().forEach(x -> cs.put(x.name(), x));
    Map<String, ToolGroupConfig> gs = new LinkedHashMap<>();
    b.toolGroups().forEach(g -> gs.put(g.name(), g));
    o.of(KEYS.id()).forEach((name, e) -> {
      if (e.deleted()) {
        ks.remove(name);
      } else {
        parsed(() -> {
          ObjectNode d = e.definition().deepCopy();
          d.put("key", HASHED + e.keyHash());
          VirtualKeyConfig k = ConfigLoader.parseVirtualKey(d, null);
          ks.put(name, k);
          hashes.put(name, HexFormat.of().parseHex(e.keyHash()));
        }, name);
      }
    });
    overlayInto(o.of(TEAMS.id()), ts, d -> ConfigLoader.parseTeam(d, null));
    overlayInto(o.of(CUSTOMERS.id()), cs, d -> ConfigLoader.parseCustomer(d, null));
    overlayInto(o.of(GROUPS.id()), gs, d -> ConfigLoader.parseToolGroup(d, null));
    return new BastionConfig(b.source(), b.gateway(), b.servers(), List.copyOf(ks.values()),
        List.copyOf(ts.values()), List.copyOf(cs.values()), List.copyOf(gs.values()), b.audit(), b.store(),
        b.adminToken(), b.warnings());
  }

  private <T> void overlayInto(Map<String, Entry> entries, Map<String, T> into,
      java.util.function.Function<JsonNode, T> parse) {
    entries.forEach((name, e) -> {
      if (e.deleted()) {
        into.remove(name);
      } else {
        parsed(() -> into.put(name, parse.apply(e.definition())), name);
      }
    });
  }

  private void parsed(Runnable r, String name) {
    try {
      r.run();
    } catch (ConfigException e) {
      system.log().warn("ignoring the stored definition of {}: {}", name, e.getMessage());
    }
  }

  // ------------------------------------------------------------------ reads

  public ObjectNode list(Kind kind) {
    ObjectNode body = Json.object();
    ArrayNode arr = body.putArray(kind.id());
    names(effective, kind).forEach(n -> render(kind, n).ifPresent(arr::add));
    return body;
  }

  public Optional<ObjectNode> get(Kind kind, String name) {
    return render(kind, name);
  }

  private static List<String> names(BastionConfig c, Kind kind) {
    return switch (kind.id()) {
      case GovernanceRegistry.KEYS -> c.virtualKeys().stream().map(VirtualKeyConfig::keyName).toList();
      case GovernanceRegistry.TEAMS -> c.teams().stream().map(TeamConfig::name).toList();
      case GovernanceRegistry.CUSTOMERS -> c.customers().stream().map(CustomerConfig::name).toList();
      default -> c.toolGroups().stream().map(ToolGroupConfig::name).toList();
    };
  }

  /** The definition in force, in the YAML's field names; a key's value or hash is never included. */
  private Optional<ObjectNode> render(Kind kind, String name) {
    BastionConfig c = effective;
    Optional<ObjectNode> o = switch (kind.id()) {
      case GovernanceRegistry.KEYS -> c.virtualKey(name).map(GovernanceDefinitions::renderKey);
      case GovernanceRegistry.TEAMS -> c.team(name).map(t -> {
        ObjectNode n = Json.object().put("name", t.name());
        putIf(n, "customer", t.customer());
        putBudget(n, t.budget());
        return n;
      });
      case GovernanceRegistry.CUSTOMERS -> c.customer(name).map(x -> {
        ObjectNode n = Json.object().put("name", x.name());
        putBudget(n, x.budget());
        return n;
      });
      default -> c.toolGroup(name).map(g -> {
        ObjectNode n = Json.object().put("name", g.name());
        ArrayNode tools = n.putArray("tools");
        g.tools().forEach(s -> {
          ObjectNode sel = tools.addObject().put("server", s.server());
          s.tools().forEach(sel.putArray("tools")::add);
        });
        return n;
      });
    };
    return o.map(n -> n.put("source", overlay.of(kind.id()).containsKey(name) ? "api" : "config"));
  }

  private static ObjectNode renderKey(VirtualKeyConfig k) {
    ObjectNode n = Json.object().put("key_name", k.keyName());
    ArrayNode clients = n.putArray("mcp_clients");
    k.mcpClients().forEach(a -> {
      ObjectNode c = clients.addObject().put("name", a.name());
      a.allowedTools().forEach(c.putArray("allowed_tools")::add);
    });
    putIf(n, "team", k.team());
    k.toolGroups().forEach(n.withArray("tool_groups")::add);
    putBudget(n, k.budget());
    RateLimitConfig r = k.rateLimit();
    if (r != null) {
      ObjectNode rl = n.putObject("rate_limit");
      if (r.overall() != null) {
        putLimit(rl, r.overall());
      }
      if (!r.tools().isEmpty()) {
        ObjectNode tools = rl.putObject("tools");
        r.tools().forEach((t, l) -> putLimit(tools.putObject(t), l));
      }
    }
    return n;
  }

  private static void putLimit(ObjectNode n, RateLimitConfig.Limit l) {
    long ms = l.per().toMillis();
    n.put("requests", l.requests()).put("per", ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms");
  }

  private static void putBudget(ObjectNode n, BudgetConfig b) {
    if (b != null) {
      n.putObject("budget").put("max_usd", b.maxUsd()).put("reset", b.reset().yamlName());
    }
  }

  private static void putIf(ObjectNode n, String field, String value) {
    if (value != null) {
      n.put(field, value);
    }
  }

  // ------------------------------------------------------------------ writes

  /** {@code PUT /api/v1/<kind>/<name>}: validates like the config file, persists, applies. */
  public CompletionStage<Result> put(Kind kind, String name, JsonNode body) {
    if (body == null || !body.isObject()) {
      return done(invalid(kind, List.of(new ConfigProblem("(root)", "expected a JSON object with the fields of a "
          + kind.singular() + " as in the config file"))));
    }
    ObjectNode def = ((ObjectNode) body).deepCopy();
    JsonNode given = def.get(kind.nameField());
    if (given == null || given.isNull()) {
      def.put(kind.nameField(), name);
    } else if (!given.isTextual() || !given.asText().equals(name)) {
      return done(invalid(kind, List.of(new ConfigProblem(kind.nameField(),
          "must be the name in the URL (\"" + name + "\"), got " + given))));
    }
    BastionConfig c = effective;
    List<ConfigProblem> problems = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Set<String> servers = c.servers().stream().map(ServerConfig::name).collect(Collectors.toSet());
    String keyHash = null;
    try {
      switch (kind.id()) {
        case GovernanceRegistry.KEYS -> {
          JsonNode key = def.get("key");
          Optional<KeyDirectory.Key> existing = keys.byName(name);
          if ((key == null || key.isNull()) && existing.isPresent()) {
            keyHash = HexFormat.of().formatHex(existing.get().hash());
            def.put("key", HASHED + keyHash);
          }
          VirtualKeyConfig k = ConfigLoader.parseVirtualKey(def, null);
          if (keyHash == null) {
            byte[] h = KeyDirectory.sha256(k.key());
            keyHash = HexFormat.of().formatHex(h);
            keys.byHash(h).filter(other -> !other.name().equals(name)).ifPresent(other ->
                problems.add(new ConfigProblem("key", "the same key value as another virtual key")));
          }
          mustExist(problems, "team", k.team(), c.teams().stream().map(TeamConfig::name).toList(), "team");
          for (int i = 0; i < k.toolGroups().size(); i++) {
            mustExist(problems, "tool_groups[" + i + "]", k.toolGroups().get(i),
                c.toolGroups().stream().map(ToolGroupConfig::name).toList(), "tool group");
          }
          for (int i = 0; i < k.mcpClients().size(); i++) {
            String s = k.mcpClients().get(i).name();
            if (!servers.contains(s)) {
              warnings.add("mcp_clients[" + i + "].name: server \"" + s + "\" is not defined in mcp.servers");
            }
          }
          def.remove("key");
        }
        case GovernanceRegistry.TEAMS -> {
          TeamConfig t = ConfigLoader.parseTeam(def, null);
          mustExist(problems, "customer", t.customer(), c.customers().stream().map(CustomerConfig::name).toList(),
              "customer");
        }
        case GovernanceRegistry.CUSTOMERS -> ConfigLoader.parseCustomer(def, null);
        default -> {
          ToolGroupConfig g = ConfigLoader.parseToolGroup(def, null);
          for (int i = 0; i < g.tools().size(); i++) {
            if (!servers.contains(g.tools().get(i).server())) {
              warnings.add("tools[" + i + "].server: server \"" + g.tools().get(i).server()
                  + "\" is not defined in mcp.servers");
            }
          }
        }
      }
    } catch (ConfigException e) {
      problems.addAll(0, e.problems());
    }
    if (!problems.isEmpty()) {
      return done(invalid(kind, problems));
    }
    boolean created = render(kind, name).isEmpty();
    Entry entry = new Entry(def, keyHash, false);
    return GovernanceRegistry.ref(system).<Overlay>askWithStatus(
            reply -> new GovernanceRegistry.Put(kind.id(), name, entry, reply), askTimeout)
        .thenApply(o -> {
          apply(o);
          ObjectNode out = render(kind, name).orElseGet(Json::object);
          if (!warnings.isEmpty()) {
            warnings.forEach(out.putArray("warnings")::add);
          }
          return new Result(created ? 201 : 200, out);
        });
  }

  /** {@code DELETE /api/v1/<kind>/<name>}: 404 if not in force, 409 if something still refers to it. */
  public CompletionStage<Result> delete(Kind kind, String name) {
    if (render(kind, name).isEmpty()) {
      return done(new Result(404, Json.object().put("error", "no " + kind.singular() + " named " + name)));
    }
    BastionConfig c = effective;
    List<String> users = switch (kind.id()) {
      case GovernanceRegistry.TEAMS -> c.virtualKeys().stream().filter(k -> name.equals(k.team()))
          .map(VirtualKeyConfig::keyName).toList();
      case GovernanceRegistry.CUSTOMERS -> c.teams().stream().filter(t -> name.equals(t.customer()))
          .map(TeamConfig::name).toList();
      case GovernanceRegistry.GROUPS -> c.virtualKeys().stream().filter(k -> k.toolGroups().contains(name))
          .map(VirtualKeyConfig::keyName).toList();
      default -> List.of();
    };
    if (!users.isEmpty()) {
      return done(new Result(409, Json.object().put("error", kind.singular() + " " + name + " is still used by "
          + (kind == CUSTOMERS ? "teams " : "keys ") + String.join(", ", users))));
    }
    boolean inConfig = names(base, kind).contains(name);
    return GovernanceRegistry.ref(system).<Overlay>askWithStatus(reply -> inConfig
            ? new GovernanceRegistry.Put(kind.id(), name, new Entry(null, null, true), reply)
            : new GovernanceRegistry.Remove(kind.id(), name, reply), askTimeout)
        .thenApply(o -> {
          apply(o);
          return new Result(200, Json.object().put("deleted", name).put("kind", kind.id()));
        });
  }

  private static void mustExist(List<ConfigProblem> problems, String path, String name, List<String> defined,
      String what) {
    if (name != null && !defined.contains(name)) {
      problems.add(new ConfigProblem(path, "unknown " + what + " \"" + name + "\"; defined: "
          + (defined.isEmpty() ? "(none)" : defined.stream().sorted().collect(Collectors.joining(", ")))));
    }
  }

  private static Result invalid(Kind kind, List<ConfigProblem> problems) {
    ObjectNode body = Json.object();
    body.put("error", "invalid " + kind.singular() + ": " + problems.stream()
        .map(p -> p.path() + ": " + p.problem()).collect(Collectors.joining("; ")));
    ArrayNode arr = body.putArray("problems");
    problems.forEach(p -> arr.addObject().put("path", p.path()).put("problem", p.problem()));
    return new Result(400, body);
  }

  private static <T> CompletionStage<T> done(T v) {
    return CompletableFuture.completedFuture(v);
  }
}
