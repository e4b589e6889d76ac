package io.bastion.node.auth;

import com.nimbusds.jwt.JWTClaimsSet;
import io.bastion.config.ResourceServerConfig;
import io.bastion.node.call.Authenticator;
import io.bastion.node.call.Caller;
import io.bastion.node.call.Fault;
import io.bastion.node.governance.KeyDirectory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge's authenticator when {@code gateway.oauth} is set: a JWT in {@code Authorization:
 * Bearer} is an OAuth access token, checked here and mapped to a virtual key; anything else is a
 * virtual key, checked by the {@link KeyDirectory} as before. Either way the caller ends up as a
 * virtual key, so access policy, rate limits, budgets and audit apply exactly as for keys; a token
 * adds its subject ({@code subject_claim}), which the session is bound to and the audit row records.
 *
 * <p>Refusals (RFC 6750 §3, MCP authorization §Error Handling), each with a {@code WWW-Authenticate:
 * Bearer} challenge carrying {@code resource_metadata} (RFC 9728 §5.1):
 * <ul>
 *   <li>no credential: 401, no {@code error} (§3.1), with {@code scope} when scopes are required;
 *   <li>a bad token (signature, unknown key, {@code alg: none}, expired, not yet valid, another
 *       issuer, another audience) or a wrong virtual key: 401 {@code invalid_token};
 *   <li>a key and a token in one request: 400 {@code invalid_request};
 *   <li>a valid token without a required scope: 403 {@code insufficient_scope} with {@code scope};
 *   <li>a valid token no mapping maps to an existing key: 403 (no challenge: a new token will not help);
 *   <li>the IdP's keys cannot be fetched: 503.
 * </ul>
 * Tokens never reach the logs: refusals are logged at DEBUG with their reason only.
 */
public final class OAuthAuthenticator implements Authenticator {
  private static final Logger LOG = LoggerFactory.getLogger(OAuthAuthenticator.class);
  private static final int MAX_SUBJECT = 255;

  private final ResourceServerConfig config;
  private final KeyDirectory keys;
  private final ProtectedResource resource;
  private final TokenVerifier verifier;

  public OAuthAuthenticator(ResourceServerConfig config, KeyDirectory keys, ProtectedResource resource) {
    this.config = config;
    this.keys = keys;
    this.resource = resource;
    this.verifier = new TokenVerifier(config);
  }

  /**
   * Locates and fetches the IdP's signing keys ahead of the first token; blocking, so call it off
   * the request path. True when they are in; on false the caller tries again later.
   */
  public boolean warmUp() {
    try {
      verifier.warmUp();
      LOG.info("OAuth: the signing keys of issuer {} are loaded", config.issuer());
      return true;
    } catch (TokenVerifier.KeysUnavailable e) {
      LOG.warn("OAuth: {} (issuer {}); trying again in the background", e.getMessage(), config.issuer());
      return false;
    }
  }

  @Override
  public Optional<String> authenticate(HttpRequest request, String group) {
    return Optional.ofNullable(identify(request, group).keyName());
  }

  @Override
  public Caller identify(HttpRequest request, String group) {
    if (group != null && !keys.groupExists(group)) {
      throw new Unauthorized(Fault.CLIENT_UNKNOWN_GROUP, "Not Found: unknown tool group " + group);
    }
    String bearer = bearer(request);
    boolean otherKey = header(request, "x-api-key").isPresent() || header(request, "x-bf-vk").isPresent();
    if (bearer != null && TokenVerifier.looksLikeJwt(bearer)) {
      if (otherKey) {
        throw refuse(Fault.CLIENT_AMBIGUOUS_CREDENTIALS, group, "invalid_request",
            "the request carries both a virtual key and an access token; send one");
      }
      return fromToken(bearer, group);
    }
    if (bearer == null && !otherKey) {
      throw new Unauthorized(Fault.CLIENT_UNAUTHENTICATED, "Unauthorized: an OAuth access token or a "
          + "virtual key is required (Authorization: Bearer ...)", challenge(group, null, null, true));
    }
    try {
      return keys.identify(request, group);
    } catch (Unauthorized e) {
      if (e.fault() == Fault.CLIENT_UNAUTHENTICATED) {
        throw new Unauthorized(e.fault(), e.getMessage(), challenge(group, "invalid_token",
            "the access token or virtual key is not valid", false));
      }
      throw e;
    }
  }

  private Caller fromToken(String token, String group) {
    String expected = resource.resource(group);
    JWTClaimsSet claims;
    try {
      claims = verifier.verify(token);
    } catch (TokenVerifier.Rejected e) {
      LOG.debug("OAuth token refused: {}", e.getMessage());
      throw refuse(Fault.CLIENT_UNAUTHENTICATED, group, "invalid_token", e.getMessage());
    } catch (TokenVerifier.KeysUnavailable e) {
      LOG.warn("OAuth: {} (issuer {})", e.getMessage(), config.issuer());
      throw new Unauthorized(Fault.GATEWAY_AUTH_UNAVAILABLE,
          "Service Unavailable: the authorization server's keys could not be fetched; try again");
    }
    List<String> aud = claims.getAudience() == null ? List.of() : claims.getAudience();
    if (expected == null || aud.stream().noneMatch(a -> a.equals(expected) || config.audiences().contains(a))) {
      LOG.debug("OAuth token refused: audience {} is not {}", aud, expected);
      throw refuse(Fault.CLIENT_UNAUTHENTICATED, group, "invalid_token",
          "the access token was issued for another resource (aud must be " + expected + ")");
    }
    Set<String> scopes = scopes(claims);
    List<String> missing = config.requiredScopes().stream().filter(s -> !scopes.contains(s)).toList();
    if (!missing.isEmpty()) {
      LOG.debug("OAuth token refused: it lacks scope {}", missing);
      throw new Unauthorized(Fault.POLICY_INSUFFICIENT_SCOPE, "Forbidden: the access token lacks scope "
          + String.join(" ", missing), challenge(group, "insufficient_scope",
              "the access token lacks a required scope", true));
    }
    String subject = subject(claims);
    String keyName = mappedKey(claims);
    if (keyName == null) {
      LOG.debug("OAuth token refused: no mapping covers subject {}", subject);
      throw new Unauthorized(Fault.POLICY_UNMAPPED_TOKEN,
          "Forbidden: no virtual key is mapped to this token's claims (gateway.oauth.mappings)");
    }
    Optional<KeyDirectory.Key> key = keys.byName(keyName);
    if (key.isEmpty()) {
      throw new Unauthorized(Fault.POLICY_UNMAPPED_TOKEN,
          "Forbidden: this token maps to virtual key " + keyName + ", which does not exist");
    }
    if (group != null && !key.get().config().toolGroups().contains(group)) {
      throw new Unauthorized(Fault.POLICY_GROUP_FORBIDDEN,
          "Forbidden: this token's key is not attached to tool group " + group);
    }
    return new Caller(keyName, subject);
  }

  /** The key of the first mapping whose claim equals (or, for a list claim, contains) its value; else the default. */
  String mappedKey(JWTClaimsSet claims) {
    for (ResourceServerConfig.Mapping m : config.mappings()) {
      Object v = claims.getClaim(m.claim());
      if (matches(v, m.value())) {
        return m.key();
      }
    }
    return config.defaultKey();
  }

  private static boolean matches(Object claim, String value) {
    if (claim instanceof Collection<?> c) {
      return c.stream().anyMatch(x -> x != null && value.equals(String.valueOf(x)));
    }
    if (claim instanceof String s) {
      return value.equals(s);
    }
    return claim instanceof Number || claim instanceof Boolean ? value.equals(String.valueOf(claim)) : false;
  }

  private String subject(JWTClaimsSet claims) {
    Object v = claims.getClaim(config.subjectClaim());
    String s = v instanceof String str ? str : v == null ? claims.getSubject() : String.valueOf(v);
    return s == null ? null : s.length() > MAX_SUBJECT ? s.substring(0, MAX_SUBJECT) : s;
  }

  /** {@code scope} (RFC 9068, space-separated) and {@code scp} (a list or a string, as some IdPs send). */
  static Set<String> scopes(JWTClaimsSet claims) {
    List<String> all = new ArrayList<>();
    for (String name : List.of("scope", "scp")) {
      Object v = claims.getClaim(name);
      if (v instanceof String s) {
        all.addAll(List.of(s.trim().split("\\s+")));
      } else if (v instanceof Collection<?> c) {
        c.forEach(x -> all.add(String.valueOf(x)));
      }
    }
    return Set.copyOf(all);
  }

  private Unauthorized refuse(Fault fault, String group, String error, String description) {
    return new Unauthorized(fault, (fault.httpStatus() == 400 ? "Bad Request: " : "Unauthorized: ") + description,
        challenge(group, error, description, false));
  }

  /** {@code Bearer resource_metadata="…"[, scope="…"][, error="…", error_description="…"]}. */
  String challenge(String group, String error, String description, boolean withScope) {
    StringBuilder sb = new StringBuilder("Bearer");
    List<String> params = new ArrayList<>();
    if (error != null) {
      params.add("error=\"" + error + "\"");
      params.add("error_description=\"" + quoted(description) + "\"");
    }
    if (withScope && !config.requiredScopes().isEmpty()) {
      params.add("scope=\"" + String.join(" ", config.requiredScopes()) + "\"");
    }
    String metadata = resource.metadataUrl(group);
    if (metadata != null) {
      params.add("resource_metadata=\"" + metadata + "\"");
    }
    return params.isEmpty() ? sb.toString() : sb.append(' ').append(String.join(", ", params)).toString();
  }

  /** RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E. */
  private static String quoted(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      sb.append(c >= 0x20 && c <= 0x7E && c != '"' && c != '\\' ? c : '\'');
    }
    return sb.toString();
  }

  private static String bearer(HttpRequest request) {
    Optional<String> auth = header(request, "Authorization");
    if (auth.isPresent()) {
      String v = auth.get().trim();
      if (v.regionMatches(true, 0, "Bearer ", 0, 7)) {
        String token = v.substring(7).trim();
        return token.isEmpty() ? null : token;
      }
    }
    return null;
  }

  private static Optional<String> header(HttpRequest req, String name) {
    return req.getHeader(name).map(HttpHeader::value).map(String::trim).filter(s -> !s.isEmpty());
  }
}
