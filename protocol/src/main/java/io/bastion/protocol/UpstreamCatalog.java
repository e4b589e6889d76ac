package io.bastion.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What one upstream offers, as its own names: the raw definitions it listed.
 *
 * @param server the server's configured name
 * @param prefix the exposed-name prefix ("" for bare names; null is read as "")
 */
public record UpstreamCatalog(
    String server,
    String prefix,
    List<JsonNode> tools,
    List<JsonNode> resources,
    List<JsonNode> resourceTemplates,
    List<JsonNode> prompts) {

  public UpstreamCatalog {
    prefix = prefix == null ? "" : prefix;
    tools = List.copyOf(tools == null ? List.of() : tools);
    resources = List.copyOf(resources == null ? List.of() : resources);
    resourceTemplates = List.copyOf(resourceTemplates == null ? List.of() : resourceTemplates);
    prompts = List.copyOf(prompts == null ? List.of() : prompts);
  }

  public static UpstreamCatalog empty(String server, String prefix) {
    return new UpstreamCatalog(server, prefix, List.of(), List.of(), List.of(), List.of());
  }
}
