package io.bastion.config;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/** Reads {@code mcp.servers[i].auth} ({@link OAuthConfig}); only http and sse servers get here. */
final class UpstreamOAuthReader {

  private UpstreamOAuthReader() {}

  /** The OAuth settings, or null when {@code auth} is not set or has problems (reported). */
  static OAuthConfig read(ConfigNode auth) {
    if (!auth.expectMap(Keys.UPSTREAM_OAUTH)) {
      return null;
    }
    int before = auth.diagnostics().problems().size();
    String type = auth.get("type").requiredString();
    if (type != null && !type.equals("oauth")) {
      auth.get("type").error("expected oauth (the only auth type; static credentials go in headers), got "
          + ConfigNode.quote(type));
    }
    OAuthConfig.Grant grant = null;
    String grantText = auth.get("grant").string();
    if (grantText != null) {
      Optional<OAuthConfig.Grant> g = OAuthConfig.Grant.fromYaml(grantText);
      if (g.isEmpty()) {
        auth.get("grant").error("expected authorization_code or client_credentials, got " + ConfigNode.quote(grantText));
      }
      grant = g.orElse(null);
    }
    String clientId = nonBlank(auth.get("client_id"));
    String clientSecret = nonBlank(auth.get("client_secret"));
    List<String> scopes = readScopes(auth.get("scopes"));
    String method = auth.get("token_endpoint_auth").string();
    if (method != null && !OAuthConfig.TOKEN_ENDPOINT_AUTH_METHODS.contains(method)) {
      auth.get("token_endpoint_auth").error("expected one of: "
          + String.join(", ", OAuthConfig.TOKEN_ENDPOINT_AUTH_METHODS) + "; got " + ConfigNode.quote(method));
      method = null;
    }
    URI issuer = ServerReader.readUrl(auth.get("authorization_server"));
    URI resource = ServerReader.readUrl(auth.get("resource"));
    String clientName = nonBlank(auth.get("client_name"));
    if (clientSecret != null && clientId == null) {
      auth.get("client_secret").error("needs client_id (a secret belongs to a pre-registered client)");
    }
    String privateKey = readPrivateKey(auth, method, clientId, clientSecret);
    String algorithm = auth.get("signing_algorithm").string();
    if (algorithm != null) {
      if (!OAuthConfig.SIGNING_ALGORITHMS.contains(algorithm)) {
        auth.get("signing_algorithm").error("expected one of: " + String.join(", ", OAuthConfig.SIGNING_ALGORITHMS)
            + "; got " + ConfigNode.quote(algorithm));
      } else if (privateKey == null) {
        auth.get("signing_algorithm").error("applies to token_endpoint_auth: private_key_jwt only");
      } else if (!PrivateKeys.fits(PrivateKeys.parse(privateKey), algorithm)) {
        auth.get("signing_algorithm").error(algorithm + " does not fit the private_key (RS and PS need an RSA key,"
            + " ES an EC key)");
      }
    }
    String audience = auth.get("assertion_audience").string();
    if (audience != null && !OAuthConfig.ASSERTION_AUDIENCES.contains(audience)) {
      auth.get("assertion_audience").error("expected issuer or token_endpoint, got " + ConfigNode.quote(audience));
    }
    if ("none".equals(method) && clientSecret != null) {
      auth.get("token_endpoint_auth").error("is none, but client_secret is set; use client_secret_basic"
          + " or client_secret_post, or drop the secret");
    }
    if (grant == OAuthConfig.Grant.CLIENT_CREDENTIALS && (clientId == null
        || clientSecret == null && !"private_key_jwt".equals(method))) {
      auth.get("grant").error("client_credentials needs client_id and client_secret (or private_key_jwt with"
          + " private_key)");
    }
    boolean perKey = Boolean.TRUE.equals(auth.get("per_key").bool(false));
    if (perKey && grant == OAuthConfig.Grant.CLIENT_CREDENTIALS) {
      auth.get("per_key").error("needs grant authorization_code (a person authorizes each key;"
          + " client_credentials has no person to ask)");
    }
    if (auth.diagnostics().problems().size() > before) {
      return null;
    }
    return new OAuthConfig(grant, clientId, clientSecret, scopes, method, issuer, resource, clientName, privateKey,
        algorithm, audience, perKey);
  }

  /** {@code private_key}: with private_key_jwt only, which needs it, a client id and no secret. */
  private static String readPrivateKey(ConfigNode auth, String method, String clientId, String clientSecret) {
    ConfigNode node = auth.get("private_key");
    String pem = node.string();
    boolean jwt = "private_key_jwt".equals(method);
    if (jwt && pem == null && !node.isSet()) {
      auth.get("token_endpoint_auth").error("private_key_jwt needs private_key (a PKCS#8 PEM key, usually ${ENV})");
    }
    if (jwt && clientId == null) {
      auth.get("token_endpoint_auth").error("private_key_jwt needs client_id (the key belongs to a registered client)");
    }
    if (jwt && clientSecret != null) {
      auth.get("client_secret").error("is not used with private_key_jwt; drop it");
    }
    if (pem == null) {
      return null;
    }
    if (!jwt) {
      node.error("needs token_endpoint_auth: private_key_jwt");
      return null;
    }
    try {
      PrivateKeys.parse(pem);
      return pem;
    } catch (IllegalArgumentException e) {
      node.error(e.getMessage());
      return null;
    }
  }

  private static String nonBlank(ConfigNode node) {
    String value = node.string();
    if (value != null && value.isBlank()) {
      node.error("must not be empty");
      return null;
    }
    return value;
  }

  /** A list of scope strings, or one space-separated string. */
  private static List<String> readScopes(ConfigNode node) {
    if (!node.isSet()) {
      return List.of();
    }
    if (node.isText()) {
      String text = node.string();
      return text == null ? List.of() : List.of(text.trim().split("\\s+"));
    }
    List<String> scopes = node.stringList();
    for (int i = 0; i < scopes.size(); i++) {
      if (scopes.get(i).isBlank() || scopes.get(i).contains(" ")) {
        node.error("expected scopes without spaces, got " + ConfigNode.quote(scopes.get(i)));
      }
    }
    return scopes;
  }
}
