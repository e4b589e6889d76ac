package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.ErrorCodes;
import io.bastion.protocol.Json;
import io.bastion.protocol.Methods;
import io.bastion.protocol.UpstreamCatalog;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One listing of everything an upstream declares: every page of its tools, resources, resource
 * templates and prompts, in that order, each only when its capability is declared. A method the
 * upstream does not know (-32601) counts as an empty list; any other error fails the listing.
 *
 * <p>Drive it with {@link #next()} (the request to send, or null when done) and
 * {@link #accept} (its answer). The entity does the sending; this class keeps the cursor and what
 * was listed so far. At most {@value #MAX_ITEMS} items per list are gathered: an upstream that
 * keeps returning cursors cannot keep the entity listing forever. Not thread-safe.
 */
final class CatalogDiscovery {

  static final int MAX_ITEMS = 100_000;

  /** A request to send upstream. */
  record Request(String method, ObjectNode params) {}

  private record Step(String method, String field, List<JsonNode> into) {}

  private final String server;
  private final String toolPrefix;
  private final boolean initial;
  private final List<JsonNode> tools = new ArrayList<>();
  private final List<JsonNode> resources = new ArrayList<>();
  private final List<JsonNode> templates = new ArrayList<>();
  private final List<JsonNode> prompts = new ArrayList<>();
  private final ArrayDeque<Step> steps = new ArrayDeque<>();
  private String cursor;

  /**
   * @param capabilities what the upstream declared in {@code initialize} (null: nothing)
   * @param initial the first listing after a handshake (it makes the upstream ready)
   */
  CatalogDiscovery(String server, String toolPrefix, JsonNode capabilities, boolean initial) {
    this.server = server;
    this.toolPrefix = toolPrefix;
    this.initial = initial;
    JsonNode caps = capabilities == null ? Json.object() : capabilities;
    if (caps.has("tools")) {
      steps.add(new Step(Methods.TOOLS_LIST, "tools", tools));
    }
    if (caps.has("resources")) {
      steps.add(new Step(Methods.RESOURCES_LIST, "resources", resources));
      steps.add(new Step(Methods.RESOURCES_TEMPLATES_LIST, "resourceTemplates", templates));
    }
    if (caps.has("prompts")) {
      steps.add(new Step(Methods.PROMPTS_LIST, "prompts", prompts));
    }
  }

  boolean initial() {
    return initial;
  }

  /** The next page to ask for, or null when everything has been listed. */
  Request next() {
    Step step = steps.peekFirst();
    if (step == null) {
      return null;
    }
    ObjectNode params = Json.object();
    if (cursor != null) {
      params.put("cursor", cursor);
    }
    return new Request(step.method(), params);
  }

  /**
   * The answer to the request {@link #next()} gave. Returns null when the listing goes on (ask
   * {@link #next()} again), or why it failed.
   */
  String accept(ObjectNode answer) {
    Step step = steps.peekFirst();
    if (step == null) {
      throw new IllegalStateException("discovery of " + server + " is already complete");
    }
    if (answer.has("error")) {
      JsonNode error = answer.path("error");
      if (error.path("code").asInt() == ErrorCodes.METHOD_NOT_FOUND) {
        advance();
        return null;
      }
      return step.method() + " failed: " + error.path("message").asText("error")
          + " (" + error.path("code").asInt() + ")";
    }
    JsonNode result = answer.path("result");
    result.path(step.field()).forEach(step.into()::add);
    String nextCursor = result.path("nextCursor").asText(null);
    if (nextCursor != null && !nextCursor.isEmpty() && step.into().size() < MAX_ITEMS) {
      cursor = nextCursor;
    } else {
      advance();
    }
    return null;
  }

  private void advance() {
    steps.removeFirst();
    cursor = null;
  }

  /** What was listed (complete once {@link #next()} returns null). */
  UpstreamCatalog catalog() {
    return new UpstreamCatalog(server, toolPrefix, tools, resources, templates, prompts);
  }
}
