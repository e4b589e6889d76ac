package io.bastion.node.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigException;
import io.bastion.config.ConfigLoader;
import io.bastion.config.ConfigProblem;
import io.bastion.config.ServerConfig;
import io.bastion.config.Urls;
import io.bastion.node.governance.GovernanceDefinitions.Result;
import io.bastion.node.governance.GovernanceRegistry.Entry;
import io.bastion.node.governance.GovernanceRegistry.Overlay;
import io.bastion.node.upstream.UpstreamDirectory;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The upstream servers in force on this node: {@code mcp.servers} of the config file overlaid with
 * the admin API's changes, kept exactly like keys are ({@link GovernanceDefinitions}): each change
 * is an {@link Entry} of kind {@value GovernanceRegistry#SERVERS} in the {@link GovernanceRegistry}
 * (journaled, so it survives restarts of every node) whose overlay reaches every node through
 * Distributed Data. Same precedence: an API definition replaces the file's server of that name
 * until deleted through the API; deleting a server of the file stores a tombstone.
 *
 * <p>A definition is validated by the config file's own reader ({@link ConfigLoader#parseServer}),
 * whose path-precise problems are the 400's message; no {@code ${VAR}} interpolation happens.
 * When the servers change, this node serves the new names ({@link UpstreamDirectory#configure})
 * and wakes each changed server: its entity, on whichever node owns it, compares its running
 * configuration with that node's view and restarts with the new one ({@link UpstreamServer}).
 *
 * <p>Header and environment values are never shown: they read as {@value #MASK}, and a PUT that
 * sends {@value #MASK} for a name the server already has keeps the stored value (so an edit form
 * can send back what it was shown).
 */
public final class ServerDefinitions {
  static final String MASK = "********";

  private final ActorSystem<?> system;
  private final BastionConfig base;
  private final Duration askTimeout;
  private volatile Overlay overlay = Overlay.EMPTY;
  private volatile Map<String, ServerConfig> servers;

  public ServerDefinitions(ActorSystem<?> system, BastionConfig base, Duration askTimeout) {
    this.system = system;
    this.base = base;
    this.askTimeout = askTimeout;
    this.servers = byName(base.servers());
  }

  /** Follows the registry's replicated overlay (the registry itself is started by {@link GovernanceDefinitions}). */
  public void start() {
    GovernanceRegistry.subscribe(system, "bastion-server-definitions", this::apply);
  }

  /**
   * Reads the overlay in force from the registry and applies it; the node calls it once the
   * registry has answered {@link GovernanceDefinitions#start}, before binding its port, so a
   * server removed through the API does not serve again after a restart.
   */
  public CompletionStage<Void> load() {
    return GovernanceRegistry.ref(system).<Overlay>ask(GovernanceRegistry.Get::new, askTimeout).thenAccept(this::apply);
  }

  /** This node's configuration of {@code name} now. */
  public Optional<ServerConfig> server(String name) {
    return Optional.ofNullable(servers.get(name));
  }

  /** The names of the servers in force, the file's first. */
  public List<String> names() {
    return List.copyOf(servers.keySet());
  }

  synchronized void apply(Overlay o) {
    if (o == null || (o.version() <= overlay.version() && overlay != Overlay.EMPTY)) {
      return;
    }
    Map<String, ServerConfig> next = byName(base.servers());
    o.of(GovernanceRegistry.SERVERS).forEach((name, e) -> {
      if (e.deleted()) {
        next.remove(name);
      } else {
        try {
          next.put(name, ConfigLoader.parseServer(e.definition(), null));
        } catch (ConfigException ex) {
          system.log().warn("ignoring the stored definition of server {}: {}", name, ex.getMessage());
        }
      }
    });
    Map<String, ServerConfig> before = servers;
    this.overlay = o;
    this.servers = next;
    if (!before.keySet().equals(next.keySet())) {
      UpstreamDirectory.get(system).configure(next.keySet());
    }
    ClusterSharding sharding = ClusterSharding.get(system);
    java.util.Set<String> changed = new java.util.TreeSet<>(before.keySet());
    changed.addAll(next.keySet());
    changed.removeIf(n -> Objects.equals(before.get(n), next.get(n)));
    changed.forEach(n -> sharding.entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, n).tell(UpstreamServer.Wakeup.INSTANCE));
  }

  private static Map<String, ServerConfig> byName(List<ServerConfig> list) {
    Map<String, ServerConfig> m = new LinkedHashMap<>();
    list.forEach(s -> m.put(s.name(), s));
    return m;
  }

  // ------------------------------------------------------------------ reads

  /** The definition in force, in the YAML's field names, secrets masked; with {@code source}: api or config. */
  public Optional<ObjectNode> render(String name) {
    ServerConfig s = servers.get(name);
    if (s == null) {
      return Optional.empty();
    }
    Entry e = overlay.of(GovernanceRegistry.SERVERS).get(name);
    ObjectNode n = e != null && !e.deleted() ? e.definition().deepCopy() : renderConfig(s);
    mask(n, "headers");
    mask(n, "env");
    if (n.get("auth") instanceof ObjectNode auth && auth.hasNonNull("client_secret")) {
      auth.put("client_secret", MASK); // upstream OAuth (issue 11): the secret is never shown
    }
    if (n.hasNonNull("url")) {
      n.put("url", Urls.redact(n.get("url").asText()));
    }
    return Optional.of(n.put("source", e != null && !e.deleted() ? "api" : "config"));
  }

  private static ObjectNode renderConfig(ServerConfig s) {
    ObjectNode n = Json.object().put("name", s.name()).put("type", s.type().yamlName());
    if (!s.command().isEmpty()) {
      s.command().forEach(n.putArray("command")::add);
    }
    if (!s.env().isEmpty()) {
      ObjectNode env = n.putObject("env");
      s.env().forEach(env::put);
    }
    if (s.cwd() != null) {
      n.put("cwd", s.cwd());
    }
    if (s.url() != null) {
      n.put("url", s.url().toString());
    }
    if (!s.headers().isEmpty()) {
      ObjectNode h = n.putObject("headers");
      s.headers().forEach(h::put);
    }
    n.put("request_timeout", duration(s.requestTimeout())).put("health_interval", duration(s.healthInterval()))
        .put("ping_timeout", duration(s.pingTimeout()));
    n.putObject("backoff").put("initial", duration(s.backoffMin())).put("max", duration(s.backoffMax()));
    n.put("tool_prefix", s.toolPrefix()).put("failover", s.failover().yamlName());
    if (s.oauth() != null) {
      ObjectNode a = n.putObject("auth").put("type", "oauth").put("grant", s.oauth().grant().yamlName());
      if (s.oauth().clientId() != null) {
        a.put("client_id", s.oauth().clientId());
      }
      if (s.oauth().clientSecret() != null) {
        a.put("client_secret", MASK);
      }
      s.oauth().scopes().forEach(a.putArray("scopes")::add);
    }
    if (s.pricing().defaultUsd() != 0 || !s.pricing().tools().isEmpty()) {
      ObjectNode p = n.putObject("pricing").put("default", s.pricing().defaultUsd());
      ObjectNode tools = p.putObject("tools");
      s.pricing().tools().forEach(tools::put);
    }
    return n;
  }

  private static String duration(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
  }

  private static void mask(ObjectNode n, String field) {
    if (n.get(field) instanceof ObjectNode o) {
      Iterator<String> it = o.fieldNames();
      List<String> names = new ArrayList<>();
      it.forEachRemaining(names::add);
      names.forEach(k -> o.put(k, MASK));
    }
  }

  // ------------------------------------------------------------------ writes

  /** {@code PUT /api/v1/servers/<name>}: validated by the config file's reader, persisted, in force cluster-wide. */
  public CompletionStage<Result> put(String name, JsonNode body) {
    if (body == null || !body.isObject()) {
      return done(invalid(List.of(new ConfigProblem("(root)",
          "expected a JSON object with the fields of a server as in mcp.servers of the config file"))));
    }
    ObjectNode def = ((ObjectNode) body).deepCopy();
    def.remove("source");
    JsonNode given = def.get("name");
    if (given == null || given.isNull()) {
      def.put("name", name);
    } else if (!given.isTextual() || !given.asText().equals(name)) {
      return done(invalid(List.of(new ConfigProblem("name",
          "must be the name in the URL (\"" + name + "\"), got " + given))));
    }
    ServerConfig existing = servers.get(name);
    keepMasked(def, "headers", existing == null ? Map.of() : existing.headers());
    keepMasked(def, "env", existing == null ? Map.of() : existing.env());
    if (def.get("auth") instanceof ObjectNode auth && MASK.equals(auth.path("client_secret").asText(null))
        && existing != null && existing.oauth() != null && existing.oauth().clientSecret() != null) {
      auth.put("client_secret", existing.oauth().clientSecret());
    }
    // A URL shown redacted (secrets in its query or user info) and sent back unchanged keeps the stored one.
    if (existing != null && existing.url() != null && def.path("url").isTextual()
        && def.get("url").asText().equals(Urls.redact(existing.url().toString()))) {
      def.put("url", existing.url().toString());
    }
    try {
      ConfigLoader.parseServer(def, null);
    } catch (ConfigException e) {
      return done(invalid(e.problems()));
    }
    boolean created = existing == null;
    Entry entry = new Entry(def, null, false);
    return GovernanceRegistry.ref(system).<Overlay>askWithStatus(
            reply -> new GovernanceRegistry.Put(GovernanceRegistry.SERVERS, name, entry, reply), askTimeout)
        .thenApply(o -> {
          apply(o);
          return new Result(created ? 201 : 200, render(name).orElseGet(Json::object));
        });
  }

  private static void keepMasked(ObjectNode def, String field, Map<String, String> stored) {
    if (def.get(field) instanceof ObjectNode o) {
      stored.forEach((k, v) -> {
        if (MASK.equals(o.path(k).asText(null))) {
          o.put(k, v);
        }
      });
    }
  }

  /** {@code DELETE /api/v1/servers/<name>}: 404 if not in force; the server stops on its owner. */
  public CompletionStage<Result> delete(String name) {
    if (!servers.containsKey(name)) {
      return done(new Result(404, Json.object().put("error", "no server named " + name)));
    }
    boolean inConfig = base.server(name).isPresent();
    return GovernanceRegistry.ref(system).<Overlay>askWithStatus(reply -> inConfig
            ? new GovernanceRegistry.Put(GovernanceRegistry.SERVERS, name, new Entry(null, null, true), reply)
            : new GovernanceRegistry.Remove(GovernanceRegistry.SERVERS, name, reply), askTimeout)
        .thenApply(o -> {
          apply(o);
          return new Result(200, Json.object().put("deleted", name).put("kind", GovernanceRegistry.SERVERS));
        });
  }

  /** {@code POST /api/v1/servers/<name>/reconnect}: the entity drops its connection and connects again at once. */
  public Result reconnect(String name) {
    if (!servers.containsKey(name)) {
      return new Result(404, Json.object().put("error", "no server named " + name));
    }
    ClusterSharding.get(system).entityRefFor(UpstreamServer.ENTITY_TYPE_KEY, name)
        .tell(UpstreamServer.ReconnectNow.INSTANCE);
    return new Result(202, Json.object().put("reconnecting", name));
  }

  static Result invalid(List<ConfigProblem> problems) {
    ObjectNode body = Json.object();
    body.put("error", "invalid server: " + problems.stream()
        .map(p -> p.path() + ": " + p.problem()).collect(Collectors.joining("; ")));
    ArrayNode arr = body.putArray("problems");
    problems.forEach(p -> arr.addObject().put("path", p.path()).put("problem", p.problem()));
    return new Result(400, body);
  }

  private static <T> CompletionStage<T> done(T v) {
    return CompletableFuture.completedFuture(v);
  }
}
