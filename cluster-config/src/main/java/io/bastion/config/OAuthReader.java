package io.bastion.config;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads {@code gateway.oauth} ({@link ResourceServerConfig}). */
final class OAuthReader {

  private static final Pattern CLAIM = Pattern.compile("[A-Za-z0-9_.:/-]{1,128}");
  private static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]+");

  private OAuthReader() {}

  /** The block, or null when it is absent or {@code false}-free and invalid (problems reported). */
  static ResourceServerConfig read(ConfigNode o) {
    if (!o.expectMap(Keys.OAUTH)) {
      return null;
    }
    int before = o.diagnostics().problems().size();
    URI issuer = null;
    if (!o.has("issuer")) {
      o.get("issuer").error("is required: the authorization server's issuer URL (what tokens carry as iss)");
    } else {
      issuer = url(o.get("issuer"), false);
    }
    URI jwks = url(o.get("jwks_url"), false);
    URI resource = url(o.get("resource"), true);
    List<String> audiences = o.get("audiences").stringList();
    List<String> scopes = o.get("required_scopes").stringList();
    List<ConfigNode> scopeItems = o.get("required_scopes").elements();
    for (int i = 0; i < scopes.size() && i < scopeItems.size(); i++) {
      if (!SCOPE.matcher(scopes.get(i)).matches()) {
        scopeItems.get(i).error("expected a scope token (printable ASCII, no spaces, quotes or"
            + " backslashes), got " + ConfigNode.quote(scopes.get(i)));
      }
    }
    Duration skew = o.get("clock_skew").duration(ResourceServerConfig.DEFAULT_CLOCK_SKEW);
    if (skew != null && skew.compareTo(ResourceServerConfig.MAX_CLOCK_SKEW) > 0) {
      o.get("clock_skew").error("expected at most 5m (a larger skew keeps expired tokens alive), got "
          + ConfigNode.quote(o.get("clock_skew").textOrNull() == null ? skew.toString() : o.get("clock_skew").textOrNull()));
    }
    String subject = o.get("subject_claim").name(CLAIM, "a claim name like sub or client_id", false);
    List<ResourceServerConfig.Mapping> mappings = mappings(o.get("mappings"));
    String defaultKey = o.get("default_key").string();
    if (defaultKey != null && defaultKey.isBlank()) {
      o.get("default_key").error("must not be empty (leave it out to refuse tokens no mapping matches)");
    }
    if (o.diagnostics().problems().size() > before || issuer == null) {
      return null;
    }
    return new ResourceServerConfig(issuer, jwks, resource, audiences, scopes, skew, subject, mappings,
        defaultKey);
  }

  private static List<ResourceServerConfig.Mapping> mappings(ConfigNode node) {
    List<ResourceServerConfig.Mapping> result = new ArrayList<>();
    for (ConfigNode m : node.items("a list of {claim, value, key}")) {
      if (!m.expectMap(Keys.OAUTH_MAPPING)) {
        continue;
      }
      String claim = m.get("claim").name(CLAIM, "a claim name like sub, client_id or groups", true);
      String value = m.get("value").isSet() ? m.get("value").scalarAsText("a string") : null;
      if (!m.get("value").isSet()) {
        m.get("value").error("is required: the claim value that selects the key");
      }
      String key = m.get("key").requiredString();
      if (claim != null && value != null && key != null) {
        result.add(new ResourceServerConfig.Mapping(claim, value, key));
      }
    }
    return result;
  }

  /** An http(s) URL; {@code resource} also refuses a query or fragment (RFC 8707 §2). */
  private static URI url(ConfigNode node, boolean resource) {
    URI uri = ServerReader.readUrl(node);
    if (uri == null) {
      return null;
    }
    if (resource && (uri.getRawQuery() != null || uri.getRawFragment() != null)) {
      node.error("a resource URL must not have a query or fragment (RFC 8707), got "
          + ConfigNode.quote(uri.toString()));
      return null;
    }
    if (uri.getRawUserInfo() != null) {
      node.error("must not carry credentials, got " + ConfigNode.quote(uri.getScheme() + "://…@" + uri.getHost()));
      return null;
    }
    if (uri.getScheme().toLowerCase(Locale.ROOT).equals("http") && !loopback(uri.getHost())) {
      node.warn("plain http outside loopback: tokens and keys cross the network unencrypted; use https");
    }
    return uri;
  }

  private static boolean loopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.equals("localhost") || h.startsWith("127.") || h.equals("[::1]") || h.equals("::1");
  }

  /** Warns about mappings naming keys the file does not define (the admin API may add them later). */
  static void checkKeys(ConfigNode o, ResourceServerConfig config, Set<String> keyNames) {
    if (config == null) {
      return;
    }
    List<ConfigNode> items = o.get("mappings").elements();
    for (int i = 0; i < config.mappings().size() && i < items.size(); i++) {
      String key = config.mappings().get(i).key();
      if (!keyNames.contains(key)) {
        items.get(i).get("key").warn("no virtual key " + ConfigNode.quote(key)
            + " is defined in this file; tokens mapped to it are refused until the admin API adds it");
      }
    }
    if (config.defaultKey() != null && !keyNames.contains(config.defaultKey())) {
      o.get("default_key").warn("no virtual key " + ConfigNode.quote(config.defaultKey())
          + " is defined in this file; unmapped tokens are refused until the admin API adds it");
    }
  }
}
