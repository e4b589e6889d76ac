package io.bastion.node.upstream.oauth;

import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.AuthorizationGrant;
import com.nimbusds.oauth2.sdk.AuthorizationRequest;
import com.nimbusds.oauth2.sdk.ClientCredentialsGrant;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.GrantType;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.RefreshTokenGrant;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.TokenRevocationRequest;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.ClientAuthenticationMethod;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.ClientSecretPost;
import com.nimbusds.oauth2.sdk.auth.JWTAuthenticationClaimsSet;
import com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT;
import com.nimbusds.oauth2.sdk.id.Audience;
import com.nimbusds.jose.JWSAlgorithm;
import io.bastion.config.PrivateKeys;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.client.ClientInformation;
import com.nimbusds.oauth2.sdk.client.ClientInformationResponse;
import com.nimbusds.oauth2.sdk.client.ClientMetadata;
import com.nimbusds.oauth2.sdk.client.ClientRegistrationErrorResponse;
import com.nimbusds.oauth2.sdk.client.ClientRegistrationRequest;
import com.nimbusds.oauth2.sdk.client.ClientRegistrationResponse;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.AccessToken;
import com.nimbusds.oauth2.sdk.token.RefreshToken;
import com.nimbusds.oauth2.sdk.token.Tokens;
import io.bastion.config.OAuthConfig;
import java.io.IOException;
import java.net.URI;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * The OAuth client's requests, built and parsed by Nimbus's oauth2-oidc-sdk: Dynamic Client
 * Registration (RFC 7591), the authorization request with PKCE S256 and RFC 8707 {@code resource},
 * the code exchange (with the RFC 9207 {@code iss} check), refresh (rotation: a new refresh token
 * replaces the old one) and client credentials. Secrets go in and out sealed ({@link TokenCipher});
 * failures are {@link OAuthFailure}s whose messages carry no secret. Blocking: run off actor threads.
 */
public final class OAuthFlows {

  private final TokenCipher cipher;
  private final UrlGuard guard;

  public OAuthFlows(TokenCipher cipher) {
    this(cipher, UrlGuard.strict());
  }

  /** {@code guard}: the SSRF checks on URLs learned from upstreams. */
  public OAuthFlows(TokenCipher cipher, UrlGuard guard) {
    this.cipher = cipher;
    this.guard = guard;
  }

  public TokenCipher cipher() {
    return cipher;
  }

  /** Discovery ({@link OAuthDiscovery}): metadata, resource and scope of {@code url}. */
  public StoredAuth discover(URI url, boolean legacySse, OAuthConfig cfg) throws OAuthFailure {
    try {
      return OAuthDiscovery.discover(url, legacySse, cfg, guard);
    } catch (OAuthDiscovery.OAuthFailureUnchecked e) {
      throw new OAuthFailure(e.getMessage(), false);
    }
  }

  /**
   * Makes sure {@code a} has a client for {@code redirect}: the configured one, else the
   * registered one if it was registered for this redirect URI, else a new Dynamic Client
   * Registration (so a changed external URL re-registers instead of breaking).
   */
  public StoredAuth ensureClient(StoredAuth a, OAuthConfig cfg, URI redirect) throws OAuthFailure {
    return ensureClient(a, cfg, redirect, null);
  }

  /**
   * As {@link #ensureClient(StoredAuth, OAuthConfig, URI)}, but when the server supports Client ID
   * Metadata Documents and {@code clientMetadataUrl} is an https URL, that URL is the client id
   * (a public client) and nothing is registered ({@link ClientMetadataDocument}).
   */
  public StoredAuth ensureClient(StoredAuth a, OAuthConfig cfg, URI redirect, URI clientMetadataUrl)
      throws OAuthFailure {
    AuthorizationServerMetadata md = metadata(a);
    if (cfg.clientId() != null) {
      return a.withClient(cfg.clientId(), null, chooseMethod(cfg, md, cfg.clientSecret() != null),
          redirect == null ? null : redirect.toString(), false);
    }
    if (redirect != null && ClientMetadataDocument.usable(md, clientMetadataUrl)) {
      return a.withClient(clientMetadataUrl.toString(), null, "none", redirect.toString(), false);
    }
    if (a.clientId() != null && a.registered() && redirect.toString().equals(a.redirectUri())) {
      return a;
    }
    if (md.getRegistrationEndpointURI() == null) {
      throw new OAuthFailure("the authorization server " + a.issuer() + " offers no dynamic client registration;"
          + " set auth.client_id (and client_secret) for this server", false);
    }
    ClientMetadata meta = new ClientMetadata();
    meta.setName(cfg.clientName());
    meta.setRedirectionURI(redirect);
    meta.setGrantTypes(Set.of(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN));
    meta.setResponseTypes(Set.of(ResponseType.CODE));
    String wanted = cfg.tokenEndpointAuth() != null ? cfg.tokenEndpointAuth() : registrationMethod(md);
    meta.setTokenEndpointAuthMethod(ClientAuthenticationMethod.parse(wanted));
    if (a.scope() != null) {
      meta.setScope(Scope.parse(a.scope()));
    }
    try {
      HTTPRequest req = new ClientRegistrationRequest(md.getRegistrationEndpointURI(), meta, null).toHTTPRequest();
      OAuthDiscovery.timeouts(req);
      ClientRegistrationResponse resp = ClientRegistrationResponse.parse(req.send());
      if (!resp.indicatesSuccess()) {
        ErrorObject err = ((ClientRegistrationErrorResponse) resp).getErrorObject();
        throw new OAuthFailure("dynamic client registration at " + a.issuer() + " refused: " + describe(err),
            err.getHTTPStatusCode() >= 400 && err.getHTTPStatusCode() < 500);
      }
      ClientInformation info = ((ClientInformationResponse) resp).getClientInformation();
      ClientAuthenticationMethod method = info.getMetadata().getTokenEndpointAuthMethod();
      Secret secret = info.getSecret();
      String m = method != null ? method.getValue() : secret != null ? "client_secret_basic" : "none";
      return a.withClient(info.getID().getValue(), secret == null ? null : cipher.seal(secret.getValue()), m,
          redirect.toString(), true);
    } catch (IOException e) {
      throw new OAuthFailure("dynamic client registration at " + a.issuer() + " failed: " + e.getMessage(), false);
    } catch (ParseException e) {
      throw new OAuthFailure("dynamic client registration at " + a.issuer() + " answered invalidly: "
          + e.getMessage(), false);
    }
  }

  /**
   * Starts an authorization: a fresh {@code state} ({@code <server>.<random>}, so that any node's
   * callback can route it to the server's entity) and PKCE verifier; the result is pending with
   * the URL the operator opens.
   */
  public StoredAuth startAuthorization(StoredAuth a, String serverName) throws OAuthFailure {
    AuthorizationServerMetadata md = metadata(a);
    if (md.getAuthorizationEndpointURI() == null) {
      throw new OAuthFailure("the authorization server " + a.issuer() + " has no authorization endpoint", false);
    }
    CodeVerifier verifier = new CodeVerifier();
    String state = serverName + "." + new State(32).getValue();
    AuthorizationRequest.Builder b = new AuthorizationRequest.Builder(ResponseType.CODE, new ClientID(a.clientId()))
        .endpointURI(md.getAuthorizationEndpointURI())
        .redirectionURI(URI.create(a.redirectUri()))
        .state(new State(state))
        .codeChallenge(verifier, CodeChallengeMethod.S256)
        .resource(URI.create(a.resource()));
    if (a.scope() != null) {
      b.scope(Scope.parse(a.scope()));
    }
    return a.withPending(state, cipher.seal(verifier.getValue()), b.build().toURI().toString());
  }

  /** The server part of a {@code state} ({@link #startAuthorization}), or null if it has none. */
  public static String serverOf(String state) {
    if (state == null) {
      return null;
    }
    int dot = state.lastIndexOf('.');
    return dot <= 0 ? null : state.substring(0, dot);
  }

  /** True if {@code state} is the pending flow's (compared in constant time). */
  public static boolean stateMatches(StoredAuth a, String state) {
    return a != null && a.pendingState() != null && state != null && MessageDigest.isEqual(
        a.pendingState().getBytes(StandardCharsets.UTF_8), state.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Redeems an authorization code of the pending flow. {@code iss}: the callback's RFC 9207
   * parameter (null if absent), checked against the issuer before the code is sent anywhere.
   */
  public StoredAuth exchange(StoredAuth a, OAuthConfig cfg, String code, String iss) throws OAuthFailure {
    AuthorizationServerMetadata md = metadata(a);
    if (iss != null && !OAuthDiscovery.stripSlash(iss).equals(OAuthDiscovery.stripSlash(a.issuer()))) {
      throw new OAuthFailure("the authorization response came from issuer " + iss + ", not " + a.issuer()
          + " (RFC 9207); refused", true);
    }
    if (iss == null && md.supportsAuthorizationResponseIssuerParam()) {
      throw new OAuthFailure("the authorization response lacks the iss parameter its server promises (RFC 9207);"
          + " refused", true);
    }
    CodeVerifier verifier = new CodeVerifier(cipher.open(a.sealedVerifier()));
    AuthorizationGrant grant = new AuthorizationCodeGrant(new AuthorizationCode(code),
        URI.create(a.redirectUri()), verifier);
    return token(a, cfg, grant, "code exchange");
  }

  /** Refreshes the access token; the answer's refresh token (rotation) replaces the old one. */
  public StoredAuth refresh(StoredAuth a, OAuthConfig cfg) throws OAuthFailure {
    if (!a.hasRefreshToken()) {
      throw new OAuthFailure("no refresh token", true);
    }
    return token(a, cfg, new RefreshTokenGrant(new RefreshToken(cipher.open(a.sealedRefreshToken()))), "refresh");
  }

  /** A token for the client itself (machine to machine). */
  public StoredAuth clientCredentials(StoredAuth a, OAuthConfig cfg) throws OAuthFailure {
    return token(a, cfg, new ClientCredentialsGrant(), "client credentials grant");
  }

  /** Best effort (RFC 7009): tells the server to forget the tokens, if it offers revocation. */
  public void revoke(StoredAuth a, OAuthConfig cfg) {
    try {
      AuthorizationServerMetadata md = metadata(a);
      if (md.getRevocationEndpointURI() == null || a.clientId() == null) {
        return;
      }
      String sealed = a.hasRefreshToken() ? a.sealedRefreshToken() : a.sealedAccessToken();
      if (sealed == null) {
        return;
      }
      com.nimbusds.oauth2.sdk.token.Token token = a.hasRefreshToken()
          ? new RefreshToken(cipher.open(sealed))
          : new com.nimbusds.oauth2.sdk.token.BearerAccessToken(cipher.open(sealed));
      ClientAuthentication auth = clientAuth(a, cfg);
      HTTPRequest req = auth != null
          ? new TokenRevocationRequest(md.getRevocationEndpointURI(), auth, token).toHTTPRequest()
          : new TokenRevocationRequest(md.getRevocationEndpointURI(), new ClientID(a.clientId()), token).toHTTPRequest();
      OAuthDiscovery.timeouts(req);
      req.send();
    } catch (IOException | OAuthFailure | RuntimeException e) {
      // Best effort: the tokens are forgotten by Bastion either way.
    }
  }

  private StoredAuth token(StoredAuth a, OAuthConfig cfg, AuthorizationGrant grant, String what) throws OAuthFailure {
    AuthorizationServerMetadata md = metadata(a);
    if (md.getTokenEndpointURI() == null) {
      throw new OAuthFailure("the authorization server " + a.issuer() + " has no token endpoint", false);
    }
    ClientAuthentication auth = clientAuth(a, cfg);
    TokenRequest.Builder b = auth != null
        ? new TokenRequest.Builder(md.getTokenEndpointURI(), auth, grant)
        : new TokenRequest.Builder(md.getTokenEndpointURI(), new ClientID(a.clientId()), grant);
    b.resource(URI.create(a.resource()));
    // Also with the code: RFC 6749 leaves it out, but servers that do not remember the authorized
    // scope (mock-oauth2-server, some gateways) need it, and the others ignore it.
    if (a.scope() != null) {
      b.scope(Scope.parse(a.scope()));
    }
    try {
      HTTPRequest req = b.build().toHTTPRequest();
      OAuthDiscovery.timeouts(req);
      HTTPResponse http = req.send();
      TokenResponse resp = TokenResponse.parse(http);
      if (!resp.indicatesSuccess()) {
        ErrorObject err = resp.toErrorResponse().getErrorObject();
        String code = err.getCode() == null ? "" : err.getCode();
        boolean permanent = List.of("invalid_grant", "invalid_client", "unauthorized_client").contains(code);
        throw new OAuthFailure(what + " at " + a.issuer() + " refused: " + describe(err), permanent);
      }
      Tokens tokens = resp.toSuccessResponse().getTokens();
      AccessToken access = tokens.getAccessToken();
      RefreshToken refresh = tokens.getRefreshToken();
      long expiresAt = access.getLifetime() > 0 ? System.currentTimeMillis() + access.getLifetime() * 1000 : 0;
      String granted = access.getScope() == null ? null : access.getScope().toString();
      return a.withTokens(cipher.seal(access.getValue()), refresh == null ? null : cipher.seal(refresh.getValue()),
          expiresAt, granted);
    } catch (IOException e) {
      throw new OAuthFailure(what + " at " + a.issuer() + " failed: " + e.getMessage(), false);
    } catch (ParseException e) {
      throw new OAuthFailure(what + " at " + a.issuer() + " answered invalidly", false);
    }
  }

  /** The client authentication of {@code a}: null for a public client ({@code none}). */
  private ClientAuthentication clientAuth(StoredAuth a, OAuthConfig cfg) throws OAuthFailure {
    if ("private_key_jwt".equals(a.authMethod()) && cfg.privateKey() != null && !a.registered()) {
      return assertion(a, cfg);
    }
    String secret = a.sealedClientSecret() != null ? cipher.open(a.sealedClientSecret())
        : a.registered() ? null : cfg.clientSecret();
    if (secret == null || "none".equals(a.authMethod())) {
      return null;
    }
    ClientID id = new ClientID(a.clientId());
    return "client_secret_post".equals(a.authMethod())
        ? new ClientSecretPost(id, new Secret(secret)) : new ClientSecretBasic(id, new Secret(secret));
  }

  /**
   * A client assertion signed with the configured key (RFC 7523 {@code private_key_jwt}): {@code iss}
   * and {@code sub} the client id, {@code aud} the issuer (or the token endpoint), a fresh {@code jti},
   * valid five minutes (Nimbus's default). A new one for every request.
   */
  static ClientAuthentication assertion(StoredAuth a, OAuthConfig cfg) throws OAuthFailure {
    java.security.PrivateKey key = PrivateKeys.parse(cfg.privateKey());
    String alg = cfg.signingAlgorithm() != null ? cfg.signingAlgorithm() : PrivateKeys.defaultAlgorithm(key);
    URI audience = "token_endpoint".equals(cfg.assertionAudience()) ? metadata(a).getTokenEndpointURI()
        : URI.create(a.issuer());
    try {
      return new PrivateKeyJWT(new JWTAuthenticationClaimsSet(new ClientID(a.clientId()), new Audience(audience)),
          JWSAlgorithm.parse(alg), key, null, null);
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new OAuthFailure("signing the client assertion with " + alg + " failed: " + e.getMessage(), true);
    }
  }

  /** The configured method, else basic if there is a secret and the server allows it (or lists nothing), else post, else none. */
  static String chooseMethod(OAuthConfig cfg, AuthorizationServerMetadata md, boolean hasSecret) {
    if (cfg.tokenEndpointAuth() != null) {
      return cfg.tokenEndpointAuth();
    }
    if (!hasSecret) {
      return "none";
    }
    List<ClientAuthenticationMethod> offered = md.getTokenEndpointAuthMethods();
    if (offered == null || offered.isEmpty() || offered.contains(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)) {
      return "client_secret_basic";
    }
    return offered.contains(ClientAuthenticationMethod.CLIENT_SECRET_POST) ? "client_secret_post" : "client_secret_basic";
  }

  /** What a dynamically registered client asks for: none (a public client, PKCE) unless the server allows only secrets. */
  static String registrationMethod(AuthorizationServerMetadata md) {
    List<ClientAuthenticationMethod> offered = md.getTokenEndpointAuthMethods();
    if (offered == null || offered.isEmpty() || offered.contains(ClientAuthenticationMethod.NONE)) {
      return "none";
    }
    return offered.contains(ClientAuthenticationMethod.CLIENT_SECRET_BASIC) ? "client_secret_basic"
        : offered.contains(ClientAuthenticationMethod.CLIENT_SECRET_POST) ? "client_secret_post" : "none";
  }

  static AuthorizationServerMetadata metadata(StoredAuth a) throws OAuthFailure {
    try {
      return AuthorizationServerMetadata.parse(a.metadata());
    } catch (ParseException | RuntimeException e) {
      throw new OAuthFailure("stored authorization server metadata is unreadable; re-authorize", false);
    }
  }

  /** An OAuth error without anything the server may have echoed back beyond code and description. */
  private static String describe(ErrorObject err) {
    String code = err.getCode() == null ? "error" : err.getCode();
    String desc = err.getDescription();
    return code + (err.getHTTPStatusCode() > 0 ? " (HTTP " + err.getHTTPStatusCode() + ")" : "")
        + (desc == null ? "" : ": " + (desc.length() > 200 ? desc.substring(0, 200) : desc));
  }
}
