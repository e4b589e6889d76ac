package io.bastion.node.auth;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.GatewayConfig;
import io.bastion.config.ResourceServerConfig;
import io.bastion.protocol.Json;
import java.net.InetSocketAddress;
import java.net.URI;

/**
 * Bastion as an OAuth protected resource (RFC 9728): its resource identifiers and their metadata.
 *
 * <p>The resource of {@code /mcp} is {@code gateway.oauth.resource}, else {@code
 * gateway.public_url} + {@code /mcp}, else the address the node bound (for loopback and tests:
 * never the request's {@code Host}, which the caller controls). {@code /mcp/<group>} is the
 * resource + {@code /<group>}. The metadata of resource {@code https://h/p} is served at
 * {@code https://h/.well-known/oauth-protected-resource/p} (RFC 9728 §3.1); the root form answers
 * for {@code /mcp}.
 */
public final class ProtectedResource {
  static final String WELL_KNOWN = "/.well-known/oauth-protected-resource";

  private final ResourceServerConfig config;
  private volatile URI base;

  public ProtectedResource(GatewayConfig gateway) {
    this.config = gateway.oauth();
    URI configured = config.resource();
    if (configured == null && gateway.publicUrl() != null) {
      String u = gateway.publicUrl().toString();
      configured = URI.create((u.endsWith("/") ? u.substring(0, u.length() - 1) : u) + "/mcp");
    }
    this.base = configured == null ? null : strip(configured);
  }

  /** Called once the edge is bound: the resource when neither a resource nor a public URL is configured. */
  public void bound(InetSocketAddress address) {
    if (base == null) {
      String host = address.getAddress() != null && address.getAddress().isAnyLocalAddress()
          ? "127.0.0.1" : address.getHostString();
      if (host.contains(":")) {
        host = "[" + host + "]";
      }
      base = URI.create("http://" + host + ":" + address.getPort() + "/mcp");
    }
  }

  private static URI strip(URI u) {
    String s = u.toString();
    return URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
  }

  /** The resource of {@code /mcp} (group null) or {@code /mcp/<group>}, or null before the bind. */
  public String resource(String group) {
    URI b = base;
    if (b == null) {
      return null;
    }
    return group == null ? b.toString() : b + "/" + group;
  }

  /** Where the metadata of {@link #resource(String)} is served, or null before the bind. */
  public String metadataUrl(String group) {
    String r = resource(group);
    if (r == null) {
      return null;
    }
    URI u = URI.create(r);
    String port = u.getPort() < 0 ? "" : ":" + u.getPort();
    return u.getScheme() + "://" + u.getHost() + port + WELL_KNOWN + (u.getRawPath() == null ? "" : u.getRawPath());
  }

  /**
   * The group a metadata request path names: {@code ""} for the root form or the {@code /mcp}
   * resource itself, the group for {@code /mcp/<group>}, null for a path that is no resource here.
   */
  String groupOfMetadataPath(String path) {
    if (!path.startsWith(WELL_KNOWN)) {
      return null;
    }
    String rest = path.substring(WELL_KNOWN.length());
    URI b = base;
    String basePath = b == null || b.getRawPath() == null ? "" : b.getRawPath();
    if (rest.isEmpty() || rest.equals("/") || rest.equals(basePath)) {
      return "";
    }
    if (!basePath.isEmpty() && rest.startsWith(basePath + "/")) {
      String group = rest.substring(basePath.length() + 1);
      return group.isEmpty() || group.contains("/") ? null : group;
    }
    return null;
  }

  /** The RFC 9728 metadata document of the resource for {@code group} (null: {@code /mcp}). */
  ObjectNode metadata(String group) {
    ObjectNode m = Json.MAPPER.createObjectNode();
    m.put("resource", resource(group));
    m.putArray("authorization_servers").add(config.issuer().toString());
    if (!config.requiredScopes().isEmpty()) {
      config.requiredScopes().forEach(m.withArray("scopes_supported")::add);
    }
    m.putArray("bearer_methods_supported").add("header");
    m.put("resource_name", group == null ? "Bastion MCP gateway" : "Bastion MCP gateway, tool group " + group);
    return m;
  }
}
