package io.bastion.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The merged view of every upstream's catalog that clients see: exposed (qualified) names and
 * URIs, a stable order, and the table mapping each exposed name back to (server, original name).
 *
 * <p>Immutable; built once per catalog change and shared by every request on a node.
 *
 * <p>Resource URIs of a prefixed server are exposed as {@code <prefix>+<uri>} (the form
 * agentgateway uses), so {@code resources/read} of a URI that was never listed (one filled in from a
 * template) still routes by its prefix. Servers with an empty prefix expose URIs unchanged; such a
 * URI routes by exact listing, then by template match, then to the only bare server.
 */
public final class FederatedCatalog {

  /** Where an exposed name or URI goes: the server and the name or URI the server knows. */
  public record Target(String server, String original) {}

  /** One exposed entry: its definition as the client sees it, and its target. */
  public record Entry(String exposed, ObjectNode definition, Target target) {}

  public static final FederatedCatalog EMPTY = build(List.of());

  private final List<Entry> tools;
  private final List<Entry> prompts;
  private final List<Entry> resources;
  private final List<Entry> resourceTemplates;
  private final Map<String, Entry> toolsByName;
  private final Map<String, Entry> promptsByName;
  private final Map<String, Entry> resourcesByUri;
  private final Map<String, String> prefixes;
  private final List<String> collisions;

  private FederatedCatalog(
      List<Entry> tools, List<Entry> prompts, List<Entry> resources, List<Entry> resourceTemplates,
      Map<String, String> prefixes, List<String> collisions) {
    this.tools = tools;
    this.prompts = prompts;
    this.resources = resources;
    this.resourceTemplates = resourceTemplates;
    this.toolsByName = index(tools);
    this.promptsByName = index(prompts);
    this.resourcesByUri = index(resources);
    this.prefixes = prefixes;
    this.collisions = collisions;
  }

  private static Map<String, Entry> index(List<Entry> entries) {
    Map<String, Entry> m = new HashMap<>();
    for (Entry e : entries) {
      m.put(e.exposed(), e);
    }
    return m;
  }

  /** Merges upstream catalogs. Servers are taken in name order, so the result does not depend on arrival order. */
  public static FederatedCatalog build(Collection<UpstreamCatalog> upstreams) {
    List<UpstreamCatalog> sorted = new ArrayList<>(upstreams);
    sorted.sort(Comparator.comparing(UpstreamCatalog::server));
    List<String> collisions = new ArrayList<>();
    // Kept in server-name order (not Map.copyOf, whose iteration order varies between JVMs): servers
    // sharing a prefix then route an unlisted URI to the same server on every node.
    Map<String, String> prefixes = new LinkedHashMap<>();
    List<Entry> tools = new ArrayList<>();
    List<Entry> prompts = new ArrayList<>();
    List<Entry> resources = new ArrayList<>();
    List<Entry> templates = new ArrayList<>();
    Map<String, Entry> seenTools = new HashMap<>();
    Map<String, Entry> seenPrompts = new HashMap<>();
    Map<String, Entry> seenUris = new HashMap<>();
    for (UpstreamCatalog u : sorted) {
      prefixes.put(u.server(), u.prefix());
      for (JsonNode t : u.tools()) {
        addNamed(u, t, "name", seenTools, tools, collisions, "tool");
      }
      for (JsonNode p : u.prompts()) {
        addNamed(u, p, "name", seenPrompts, prompts, collisions, "prompt");
      }
      for (JsonNode r : u.resources()) {
        String uri = r.path("uri").asText(null);
        if (uri == null) {
          continue;
        }
        String exposed = exposeUri(u.prefix(), uri);
        if (seenUris.containsKey(exposed)) {
          collisions.add("resource " + exposed + " of " + u.server() + " hidden by " + seenUris.get(exposed).target().server());
          continue;
        }
        ObjectNode def = ((ObjectNode) r).deepCopy();
        def.put("uri", exposed);
        Entry e = new Entry(exposed, def, new Target(u.server(), uri));
        seenUris.put(exposed, e);
        resources.add(e);
      }
      for (JsonNode r : u.resourceTemplates()) {
        String tpl = r.path("uriTemplate").asText(null);
        if (tpl == null) {
          continue;
        }
        ObjectNode def = ((ObjectNode) r).deepCopy();
        String exposed = exposeUri(u.prefix(), tpl);
        def.put("uriTemplate", exposed);
        templates.add(new Entry(exposed, def, new Target(u.server(), tpl)));
      }
    }
    Comparator<Entry> byName = Comparator.comparing(Entry::exposed);
    tools.sort(byName);
    prompts.sort(byName);
    resources.sort(byName);
    templates.sort(byName);
    return new FederatedCatalog(List.copyOf(tools), List.copyOf(prompts), List.copyOf(resources),
        List.copyOf(templates), Collections.unmodifiableMap(prefixes), List.copyOf(collisions));
  }

  private static void addNamed(UpstreamCatalog u, JsonNode def, String field, Map<String, Entry> seen,
      List<Entry> out, List<String> collisions, String kind) {
    String name = def.path(field).asText(null);
    if (name == null || name.isEmpty() || !(def instanceof ObjectNode obj)) {
      return;
    }
    String exposed = ToolNames.expose(u.prefix(), name);
    if (seen.containsKey(exposed)) {
      String renamed = ToolNames.disambiguate(exposed, u.server());
      collisions.add(kind + " " + exposed + " of " + u.server() + " collides with "
          + seen.get(exposed).target().server() + "; exposed as " + renamed);
      exposed = renamed;
    }
    ObjectNode copy = obj.deepCopy();
    copy.put(field, exposed);
    Entry e = new Entry(exposed, copy, new Target(u.server(), name));
    seen.put(exposed, e);
    out.add(e);
  }

  public static String exposeUri(String prefix, String uri) {
    return prefix == null || prefix.isEmpty() ? uri : prefix + "+" + uri;
  }

  public List<Entry> tools() {
    return tools;
  }

  public List<Entry> prompts() {
    return prompts;
  }

  public List<Entry> resources() {
    return resources;
  }

  public List<Entry> resourceTemplates() {
    return resourceTemplates;
  }

  /** Human-readable notes about names that collided and how they were resolved. */
  public List<String> collisions() {
    return collisions;
  }

  public Optional<Target> tool(String exposed) {
    Entry e = toolsByName.get(exposed);
    return e == null ? Optional.empty() : Optional.of(e.target());
  }

  public Optional<Target> prompt(String exposed) {
    Entry e = promptsByName.get(exposed);
    return e == null ? Optional.empty() : Optional.of(e.target());
  }

  /**
   * Routes a resource URI: exact listing first, then a server prefix (the first server in name order
   * when several share it), then a template of a bare server, then the only bare server. Empty when
   * nothing can own it.
   */
  public Optional<Target> resource(String exposedUri, Predicate<String> serverKnown) {
    Entry e = resourcesByUri.get(exposedUri);
    if (e != null) {
      return Optional.of(e.target());
    }
    for (Map.Entry<String, String> p : prefixes.entrySet()) {
      String prefix = p.getValue();
      if (!prefix.isEmpty() && exposedUri.startsWith(prefix + "+")) {
        return Optional.of(new Target(p.getKey(), exposedUri.substring(prefix.length() + 1)));
      }
    }
    List<String> bare = prefixes.entrySet().stream().filter(p -> p.getValue().isEmpty())
        .map(Map.Entry::getKey).filter(serverKnown).toList();
    for (Entry t : resourceTemplates) {
      if (bare.contains(t.target().server()) && templateMatches(t.target().original(), exposedUri)) {
        return Optional.of(new Target(t.target().server(), exposedUri));
      }
    }
    return bare.size() == 1 ? Optional.of(new Target(bare.get(0), exposedUri)) : Optional.empty();
  }

  /** Matches a URI against an RFC 6570 level-1 template ({@code {var}} matches one path-ish segment). */
  static boolean templateMatches(String template, String uri) {
    StringBuilder re = new StringBuilder("^");
    int i = 0;
    while (i < template.length()) {
      int open = template.indexOf('{', i);
      if (open < 0) {
        re.append(Pattern.quote(template.substring(i)));
        break;
      }
      re.append(Pattern.quote(template.substring(i, open)));
      int close = template.indexOf('}', open);
      if (close < 0) {
        return false;
      }
      re.append("[^/?#]+");
      i = close + 1;
    }
    return Pattern.matches(re.append("$").toString(), uri);
  }

  /** The exposed form of an upstream URI (for rewriting {@code notifications/resources/updated}). */
  public String exposedUri(String server, String uri) {
    return exposeUri(prefixes.getOrDefault(server, server), uri);
  }

  /** The exposed form of an upstream resource URI returned inside a read result. */
  public String prefixOf(String server) {
    return prefixes.get(server);
  }
}
