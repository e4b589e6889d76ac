package io.bastion.node.upstream.oauth;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import io.bastion.config.OAuthConfig;
import io.bastion.config.Urls;
import io.bastion.protocol.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds an upstream's authorization server, in the order the MCP authorization spec gives
 * (2025-06-18 and later, with the 2025-03-26 fallbacks):
 *
 * <ol>
 *   <li>an unauthenticated request to the upstream; its 401 {@code WWW-Authenticate: Bearer}
 *       challenge may name {@code resource_metadata} and {@code scope};
 *   <li>RFC 9728 protected-resource metadata: the challenge's URL, else
 *       {@code /.well-known/oauth-protected-resource/<path>}, else the root form; it names the
 *       {@code authorization_servers} and {@code scopes_supported};
 *   <li>without it (a 2025-03-26 server): the configured {@code authorization_server}, else the
 *       upstream's origin is the authorization server;
 *   <li>RFC 8414 / OpenID discovery for that issuer: {@code oauth-authorization-server} and
 *       {@code openid-configuration}, path-inserted then path-appended; for a 2025-03-26 server
 *       without any metadata, the default endpoints {@code /authorize}, {@code /token} and
 *       {@code /register} at its origin.
 * </ol>
 *
 * <p>Scopes: the configured ones, else the challenge's, else the resource metadata's
 * {@code scopes_supported}, else none (the server's default). Blocking: run it off actor threads.
 */
final class OAuthDiscovery {

  private static final Logger log = LoggerFactory.getLogger(OAuthDiscovery.class);
  static final int CONNECT_TIMEOUT_MS = 5_000;
  static final int READ_TIMEOUT_MS = 10_000;

  private OAuthDiscovery() {}

  /** The probe's answer: the challenge (possibly {@link WwwAuthenticate#NONE}) and its status. */
  record Challenge(int status, WwwAuthenticate params) {}

  /** Sends what an MCP client would send first, without a token, and reads the challenge. */
  static Challenge probe(URI url, boolean legacySse) throws IOException {
    HTTPRequest req = new HTTPRequest(legacySse ? HTTPRequest.Method.GET : HTTPRequest.Method.POST, toUrl(url));
    timeouts(req);
    if (legacySse) {
      req.setAccept("text/event-stream");
    } else {
      req.setAccept("application/json, text/event-stream");
      req.setHeader("Content-Type", "application/json");
      req.setBody("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
          + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bastion\",\"version\":\"oauth-probe\"}}}");
    }
    HTTPResponse resp = req.send();
    return new Challenge(resp.getStatusCode(), WwwAuthenticate.parse(resp.getHeaderValue("WWW-Authenticate")));
  }

  /** Discovers the authorization server of {@code url}; the result has metadata, no client, no tokens. */
  static StoredAuth discover(URI url, boolean legacySse, OAuthConfig cfg) throws OAuthFailure {
    return discover(url, legacySse, cfg, UrlGuard.strict());
  }

  /** {@code guard} checks every URL the upstream names (SSRF) before Bastion fetches or uses it. */
  static StoredAuth discover(URI url, boolean legacySse, OAuthConfig cfg, UrlGuard guard) throws OAuthFailure {
    Challenge challenge;
    try {
      challenge = probe(url, legacySse);
    } catch (IOException e) {
      throw new OAuthFailure("cannot reach " + Urls.redact(url) + " for OAuth discovery: " + e.getMessage(), false);
    }
    WwwAuthenticate www = challenge.params();
    JsonNode prm = null;
    List<URI> prmUrls = new ArrayList<>();
    if (www.resourceMetadata() != null) {
      guard.check(www.resourceMetadata(), url, "resource_metadata URL of the upstream's challenge", true);
      prmUrls.add(www.resourceMetadata());
    }
    prmUrls.addAll(wellKnown(url, "oauth-protected-resource"));
    for (URI candidate : prmUrls) {
      prm = fetchJson(candidate);
      if (prm != null && prm.path("authorization_servers").isArray()) {
        break;
      }
      prm = null;
    }
    String resource = cfg.resource() != null ? cfg.resource().toString() : canonical(url);
    if (prm != null && prm.hasNonNull("resource")) {
      String advertised = prm.get("resource").asText();
      if (!sameResource(advertised, url)) {
        throw new OAuthFailure("the protected-resource metadata of " + Urls.redact(url) + " is for another resource ("
            + advertised + "); refused (RFC 9728 §3.3)", false);
      }
      resource = cfg.resource() != null ? resource : advertised;
    }
    URI issuer;
    if (prm != null && prm.path("authorization_servers").size() > 0) {
      issuer = URI.create(prm.path("authorization_servers").get(0).asText());
      guard.check(issuer, url, "authorization server named by the upstream's metadata", true);
    } else if (cfg.authorizationServer() != null) {
      issuer = cfg.authorizationServer();
    } else {
      issuer = URI.create(url.getScheme() + "://" + url.getRawAuthority());
    }
    String scope = cfg.scopes().isEmpty() ? null : String.join(" ", cfg.scopes());
    if (scope == null && www.scope() != null) {
      scope = www.scope();
    }
    if (scope == null && prm != null && prm.path("scopes_supported").isArray() && prm.path("scopes_supported").size() > 0) {
      List<String> s = new ArrayList<>();
      prm.path("scopes_supported").forEach(n -> s.add(n.asText()));
      scope = String.join(" ", s);
    }
    AuthorizationServerMetadata md = authorizationServer(issuer, prm == null);
    // The endpoints are learned too; an operator-configured authorization server is the reference then.
    URI reference = prm == null && cfg.authorizationServer() != null ? cfg.authorizationServer() : url;
    guard.check(md.getTokenEndpointURI(), reference, "token endpoint", true);
    guard.check(md.getRegistrationEndpointURI(), reference, "registration endpoint", true);
    guard.check(md.getRevocationEndpointURI(), reference, "revocation endpoint", true);
    guard.check(md.getAuthorizationEndpointURI(), reference, "authorization endpoint", false);
    return StoredAuth.discovered(md.getIssuer().getValue(), md.toJSONObject().toJSONString(), resource, scope);
  }

  /** RFC 8414 / OIDC metadata of {@code issuer}; for 2025-03-26 servers, the default endpoints when there is none. */
  static AuthorizationServerMetadata authorizationServer(URI issuer, boolean allowDefaults) throws OAuthFailure {
    String path = issuer.getRawPath() == null || issuer.getRawPath().equals("/") ? "" : stripSlash(issuer.getRawPath());
    String origin = issuer.getScheme() + "://" + issuer.getRawAuthority();
    List<URI> candidates = new ArrayList<>();
    candidates.add(URI.create(origin + "/.well-known/oauth-authorization-server" + path));
    candidates.add(URI.create(origin + "/.well-known/openid-configuration" + path));
    if (!path.isEmpty()) {
      candidates.add(URI.create(origin + path + "/.well-known/openid-configuration"));
      candidates.add(URI.create(origin + path + "/.well-known/oauth-authorization-server"));
    }
    for (URI candidate : candidates) {
      JsonNode json = fetchJson(candidate);
      if (json == null) {
        continue;
      }
      try {
        AuthorizationServerMetadata md = AuthorizationServerMetadata.parse(json.toString());
        if (!stripSlash(md.getIssuer().getValue()).equals(stripSlash(issuer.toString()))) {
          if (!allowDefaults) {
            log.warn("Authorization server metadata at [{}] names issuer [{}], not [{}]; ignored", candidate,
                md.getIssuer(), issuer);
            continue;
          }
          // 2025-03-26: the MCP server's origin hosts its authorization metadata, whatever issuer
          // it names (there is no RFC 9728 document to name one); that issuer is then the one.
          log.debug("Authorization server metadata at [{}] names issuer [{}]", candidate, md.getIssuer());
        }
        if (md.getCodeChallengeMethods() != null && !md.getCodeChallengeMethods().isEmpty()
            && md.getCodeChallengeMethods().stream().noneMatch(m -> m.getValue().equals("S256"))) {
          throw new OAuthFailure("the authorization server " + issuer + " does not support PKCE S256", false);
        }
        return md;
      } catch (ParseException e) {
        log.warn("Authorization server metadata at [{}] is invalid: {}", candidate, e.getMessage());
      }
    }
    if (!allowDefaults) {
      throw new OAuthFailure("no authorization server metadata found for " + issuer
          + " (tried RFC 8414 and OpenID discovery)", false);
    }
    // 2025-03-26: no metadata at all means the default endpoints at the server's origin.
    try {
      return AuthorizationServerMetadata.parse(Json.object().put("issuer", origin)
          .put("authorization_endpoint", origin + "/authorize").put("token_endpoint", origin + "/token")
          .put("registration_endpoint", origin + "/register").toString());
    } catch (ParseException e) {
      throw new OAuthFailure("cannot build default endpoints for " + origin, false);
    }
  }

  /** {@code /.well-known/<name>/<path>} (when the URL has a path), then {@code /.well-known/<name>}. */
  static List<URI> wellKnown(URI url, String name) {
    String origin = url.getScheme() + "://" + url.getRawAuthority();
    String path = url.getRawPath() == null ? "" : stripSlash(url.getRawPath());
    List<URI> out = new ArrayList<>();
    if (!path.isEmpty()) {
      out.add(URI.create(origin + "/.well-known/" + name + path));
    }
    out.add(URI.create(origin + "/.well-known/" + name));
    return out;
  }

  /** The JSON object at {@code url}, or null (not 200, not JSON, unreachable). */
  static JsonNode fetchJson(URI url) {
    try {
      HTTPRequest req = new HTTPRequest(HTTPRequest.Method.GET, toUrl(url));
      timeouts(req);
      req.setAccept("application/json");
      HTTPResponse resp = req.send();
      if (resp.getStatusCode() != 200 || resp.getBody() == null) {
        return null;
      }
      JsonNode node = Json.MAPPER.readTree(resp.getBody());
      return node != null && node.isObject() ? node : null;
    } catch (IOException | RuntimeException e) {
      log.debug("OAuth metadata at [{}] unavailable: {}", url, e.toString());
      return null;
    }
  }

  /** The canonical resource URI of an MCP server (RFC 8707 / MCP): lower-case scheme and host, no fragment. */
  static String canonical(URI url) {
    String s = url.getScheme().toLowerCase() + "://" + url.getRawAuthority().toLowerCase()
        + (url.getRawPath() == null ? "" : url.getRawPath());
    return url.getRawQuery() == null ? s : s + "?" + url.getRawQuery();
  }

  /** True if the metadata's resource is the upstream's URL or a prefix of it (origin and path). */
  static boolean sameResource(String advertised, URI url) {
    String a = stripSlash(advertised.toLowerCase());
    String u = stripSlash(canonical(url).toLowerCase());
    return u.equals(a) || u.startsWith(a + "/");
  }

  static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /** Timeouts, and no redirects: a redirect could lead past {@link UrlGuard}'s checks (SSRF). */
  static void timeouts(HTTPRequest req) {
    req.setConnectTimeout(CONNECT_TIMEOUT_MS);
    req.setReadTimeout(READ_TIMEOUT_MS);
    req.setFollowRedirects(false);
  }

  static URL toUrl(URI uri) throws OAuthFailureUnchecked {
    try {
      return uri.toURL();
    } catch (java.net.MalformedURLException | IllegalArgumentException e) {
      throw new OAuthFailureUnchecked("not a URL: " + Urls.redact(uri));
    }
  }

  /** A malformed URL, turned into an {@link OAuthFailure} by the flows. */
  static final class OAuthFailureUnchecked extends RuntimeException {
    OAuthFailureUnchecked(String message) {
      super(message, null, false, false);
    }
  }
}
