package io.bastion.config;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code mcp.servers[i].auth} with {@code type: oauth}: Bastion is an OAuth 2.1 client of this
 * (http or sse) upstream. Everything is optional: what is not set is discovered from the
 * upstream's 401 challenge, its protected-resource metadata (RFC 9728) and its authorization
 * server's metadata (RFC 8414 / OpenID discovery); a missing client id is obtained by Dynamic
 * Client Registration (RFC 7591). See docs/oauth.md.
 *
 * @param grant {@code authorization_code} (an operator authorizes once, default) or
 *     {@code client_credentials} (machine to machine; needs {@code client_id} and {@code client_secret})
 * @param clientId a pre-registered client id, or null to register dynamically
 * @param clientSecret the pre-registered client's secret (usually {@code ${ENV}}), or null for a public client
 * @param scopes scopes to request; empty means: the challenge's, else the resource metadata's
 * @param tokenEndpointAuth {@code none}, {@code client_secret_basic} or {@code client_secret_post};
 *     null means: basic when there is a secret and the server allows it, else post, else none
 * @param authorizationServer the issuer to use when the upstream does not say (skips RFC 9728), or null
 * @param resource the RFC 8707 resource indicator, or null for the upstream's canonical URL
 * @param clientName the {@code client_name} sent with dynamic registration (default "Bastion")
 * @param privateKey for {@code token_endpoint_auth: private_key_jwt}: the client's PKCS#8 PEM private
 *     key (usually {@code ${ENV}}), which signs its client assertions (RFC 7523); else null
 * @param signingAlgorithm the assertions' JWS algorithm, or null for the key's usual one (RS256, ES256…)
 * @param assertionAudience the assertions' {@code aud}: {@code issuer} (default, as RFC 7523bis and the
 *     MCP conformance suite expect) or {@code token_endpoint} (what some identity providers require)
 * @param perKey one token per virtual key ({@code per_key: true}): each key's calls use a token its
 *     holder authorized; the server's own token (authorized by an operator) lists the catalog
 */
public record OAuthConfig(
    Grant grant,
    String clientId,
    String clientSecret,
    List<String> scopes,
    String tokenEndpointAuth,
    URI authorizationServer,
    URI resource,
    String clientName,
    String privateKey,
    String signingAlgorithm,
    String assertionAudience,
    boolean perKey) {

  /** The grant Bastion uses to get tokens for the upstream. */
  public enum Grant {
    AUTHORIZATION_CODE, CLIENT_CREDENTIALS;

    public String yamlName() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Optional<Grant> fromYaml(String text) {
      for (Grant g : values()) {
        if (g.yamlName().equals(text)) {
          return Optional.of(g);
        }
      }
      return Optional.empty();
    }
  }

  public static final List<String> TOKEN_ENDPOINT_AUTH_METHODS =
      List.of("none", "client_secret_basic", "client_secret_post", "private_key_jwt");
  public static final List<String> SIGNING_ALGORITHMS =
      List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512");
  public static final List<String> ASSERTION_AUDIENCES = List.of("issuer", "token_endpoint");

  public OAuthConfig {
    grant = grant == null ? Grant.AUTHORIZATION_CODE : grant;
    scopes = List.copyOf(scopes == null ? List.of() : scopes);
    clientName = clientName == null ? "Bastion" : clientName;
    assertionAudience = assertionAudience == null ? "issuer" : assertionAudience;
    if (tokenEndpointAuth != null && !TOKEN_ENDPOINT_AUTH_METHODS.contains(tokenEndpointAuth)) {
      throw new IllegalArgumentException("token endpoint auth method " + tokenEndpointAuth);
    }
    Objects.requireNonNull(grant);
  }

  /** The constructor from before {@code per_key} existed: one token for the server. */
  public OAuthConfig(Grant grant, String clientId, String clientSecret, List<String> scopes,
      String tokenEndpointAuth, URI authorizationServer, URI resource, String clientName) {
    this(grant, clientId, clientSecret, scopes, tokenEndpointAuth, authorizationServer, resource, clientName,
        null, null, null, false);
  }

  /** Everything discovered: authorization code, dynamic registration. */
  public static OAuthConfig discovered() {
    return new OAuthConfig(null, null, null, null, null, null, null, null);
  }

  public OAuthConfig withClient(String clientId, String clientSecret) {
    return new OAuthConfig(grant, clientId, clientSecret, scopes, tokenEndpointAuth, authorizationServer,
        resource, clientName, privateKey, signingAlgorithm, assertionAudience, perKey);
  }

  /** The secret is never shown. */
  @Override
  public String toString() {
    return "OAuthConfig[grant=" + grant.yamlName() + ", clientId=" + clientId
        + ", clientSecret=" + (clientSecret == null ? "none" : "***")
        + ", privateKey=" + (privateKey == null ? "none" : "***") + ", scopes=" + scopes
        + ", tokenEndpointAuth=" + tokenEndpointAuth + ", authorizationServer=" + authorizationServer
        + ", resource=" + resource + ", perKey=" + perKey + "]";
  }
}
