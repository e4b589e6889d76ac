package io.bastion.node.upstream.oauth;

import io.bastion.persistence.CborSerializable;

/**
 * What an upstream's entity keeps about its OAuth client state, persisted in its journal and
 * snapshots so that a moved or restarted entity (on any node) keeps its tokens. Every secret
 * field is sealed with {@link TokenCipher} ({@code sealed*}); the rest is public metadata.
 * Immutable: every change returns a new value.
 *
 * @param issuer the authorization server's issuer
 * @param metadata its RFC 8414 / OpenID metadata as JSON (synthesized for 2025-03-26 fallbacks)
 * @param resource the RFC 8707 resource indicator sent with every authorization and token request
 * @param scope the scopes requested (space-separated), or null to let the server choose
 * @param clientId the client id (pre-registered or dynamically registered), or null before registration
 * @param sealedClientSecret a dynamically registered client's secret, sealed (null: public client or
 *     the secret comes from config)
 * @param authMethod the token endpoint auth method: none, client_secret_basic or client_secret_post
 * @param redirectUri the redirect URI the client was registered with and flows use
 * @param registered true if the client came from Dynamic Client Registration
 * @param sealedAccessToken the access token, sealed, or null
 * @param sealedRefreshToken the refresh token, sealed, or null
 * @param expiresAtMillis when the access token expires (0: unknown)
 * @param pendingState the {@code state} of the authorization in progress, or null
 * @param sealedVerifier its PKCE code verifier, sealed
 * @param authorizationUrl the URL the operator opens for it
 */
public record StoredAuth(
    String issuer,
    String metadata,
    String resource,
    String scope,
    String clientId,
    String sealedClientSecret,
    String authMethod,
    String redirectUri,
    boolean registered,
    String sealedAccessToken,
    String sealedRefreshToken,
    long expiresAtMillis,
    String pendingState,
    String sealedVerifier,
    String authorizationUrl) implements CborSerializable {

  /** Discovered metadata, no client, no tokens. */
  public static StoredAuth discovered(String issuer, String metadata, String resource, String scope) {
    return new StoredAuth(issuer, metadata, resource, scope, null, null, null, null, false, null, null, 0,
        null, null, null);
  }

  public boolean hasAccessToken() {
    return sealedAccessToken != null;
  }

  public boolean hasRefreshToken() {
    return sealedRefreshToken != null;
  }

  public boolean pending() {
    return pendingState != null;
  }

  public StoredAuth withClient(String id, String sealedSecret, String method, String redirect, boolean dynamic) {
    return new StoredAuth(issuer, metadata, resource, scope, id, sealedSecret, method, redirect, dynamic,
        sealedAccessToken, sealedRefreshToken, expiresAtMillis, pendingState, sealedVerifier, authorizationUrl);
  }

  /** New tokens; a null refresh token keeps the old one (servers that do not rotate). Ends any pending flow. */
  public StoredAuth withTokens(String sealedAccess, String sealedRefresh, long expiresAt, String grantedScope) {
    return new StoredAuth(issuer, metadata, resource, grantedScope == null ? scope : grantedScope, clientId,
        sealedClientSecret, authMethod, redirectUri, registered, sealedAccess,
        sealedRefresh == null ? sealedRefreshToken : sealedRefresh, expiresAt, null, null, null);
  }

  /** Tokens forgotten (revoked, refused); the client registration and metadata stay. */
  public StoredAuth withoutTokens() {
    return new StoredAuth(issuer, metadata, resource, scope, clientId, sealedClientSecret, authMethod,
        redirectUri, registered, null, null, 0, pendingState, sealedVerifier, authorizationUrl);
  }

  public StoredAuth withPending(String state, String sealedCodeVerifier, String url) {
    return new StoredAuth(issuer, metadata, resource, scope, clientId, sealedClientSecret, authMethod,
        redirectUri, registered, sealedAccessToken, sealedRefreshToken, expiresAtMillis, state,
        sealedCodeVerifier, url);
  }

  /** The same client with another scope (step-up). */
  public StoredAuth withScope(String newScope) {
    return new StoredAuth(issuer, metadata, resource, newScope, clientId, sealedClientSecret, authMethod,
        redirectUri, registered, sealedAccessToken, sealedRefreshToken, expiresAtMillis, pendingState,
        sealedVerifier, authorizationUrl);
  }

  /** Only the public parts, for logs and debugging: no sealed value, not even sealed. */
  @Override
  public String toString() {
    return "StoredAuth[issuer=" + issuer + ", resource=" + resource + ", scope=" + scope + ", clientId=" + clientId
        + ", authMethod=" + authMethod + ", registered=" + registered + ", accessToken=" + hasAccessToken()
        + ", refreshToken=" + hasRefreshToken() + ", expiresAt=" + expiresAtMillis + ", pending=" + pending() + "]";
  }
}
