package io.bastion.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * {@code gateway.oauth}: Bastion as an OAuth 2.1 resource server in front of {@code /mcp}, beside
 * virtual keys (docs/oauth-downstream.md). Clients discover the authorization server from Bastion's
 * RFC 9728 metadata and present JWT access tokens that it issued; a claim of the token selects the
 * virtual key whose policy, limits and budget apply.
 *
 * @param issuer the authorization server's issuer identifier: tokens must carry it as {@code iss},
 *     and its RFC 8414 / OpenID metadata gives the JWKS when {@code jwksUrl} is null
 * @param jwksUrl where the signing keys are, or null to discover them from the issuer's metadata
 * @param resource Bastion's canonical resource URL for {@code /mcp} (what tokens must carry as
 *     {@code aud}; {@code /mcp/<group>} is this plus {@code /<group>}), or null for
 *     {@code gateway.public_url} + {@code /mcp} (or, without a public URL, the bound address)
 * @param audiences further {@code aud} values accepted on every path (IdPs that cannot mint
 *     RFC 8707 audiences, e.g. {@code api://bastion}); empty by default
 * @param requiredScopes scopes every token must carry (all of them); also advertised in the metadata
 *     and the {@code WWW-Authenticate} challenge
 * @param clockSkew tolerance on {@code exp} and {@code nbf} (default 60s, at most 5m)
 * @param subjectClaim the claim recorded as the caller's subject in the audit log (default {@code sub})
 * @param mappings claim value → virtual key, first match wins
 * @param defaultKey the key for a valid token no mapping matches, or null to refuse such tokens (403)
 */
public record ResourceServerConfig(
    URI issuer,
    URI jwksUrl,
    URI resource,
    List<String> audiences,
    List<String> requiredScopes,
    Duration clockSkew,
    String subjectClaim,
    List<Mapping> mappings,
    String defaultKey) {

  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
  public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
  public static final String DEFAULT_SUBJECT_CLAIM = "sub";

  /**
   * One rule of {@code mappings}: a token whose {@code claim} equals {@code value} (or, for a list
   * claim such as {@code groups}, contains it) is served as virtual key {@code key}.
   */
  public record Mapping(String claim, String value, String key) {
    public Mapping {
      Objects.requireNonNull(claim, "claim");
      Objects.requireNonNull(value, "value");
      Objects.requireNonNull(key, "key");
    }
  }

  public ResourceServerConfig {
    Objects.requireNonNull(issuer, "issuer");
    audiences = List.copyOf(audiences == null ? List.of() : audiences);
    requiredScopes = List.copyOf(requiredScopes == null ? List.of() : requiredScopes);
    clockSkew = Objects.requireNonNullElse(clockSkew, DEFAULT_CLOCK_SKEW);
    subjectClaim = Objects.requireNonNullElse(subjectClaim, DEFAULT_SUBJECT_CLAIM);
    mappings = List.copyOf(mappings == null ? List.of() : mappings);
  }

  /** The same settings with another resource URL (tests bind an ephemeral port first). */
  public ResourceServerConfig withResource(URI r) {
    return new ResourceServerConfig(issuer, jwksUrl, r, audiences, requiredScopes, clockSkew,
        subjectClaim, mappings, defaultKey);
  }
}
