package io.bastion.node.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.bastion.config.ResourceServerConfig;
import java.io.IOException;
import java.net.URL;
import java.net.http.HttpClient;
import java.text.ParseException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * Checks a JWT access token with nimbus-jose-jwt: an asymmetric signature (RSA, RSA-PSS, EC, EdDSA;
 * never {@code none} or an HMAC) by a key of the issuer's JWKS, {@code iss} equal to the configured
 * issuer, {@code exp} present and {@code exp}/{@code nbf} within the clock skew, and {@code typ}
 * (when present) {@code JWT} or {@code at+jwt} (RFC 9068). The audience and scopes are checked by
 * the caller, per request path.
 *
 * <p>The JWKS is fetched once and cached (nimbus's {@link JWKSourceBuilder}: 5 minute TTL, refreshed
 * ahead of expiry in the background, retried once, and re-fetched when a token names an unknown
 * {@code kid}, at most once per 30 s so that junk tokens cannot hammer the IdP). A token is never
 * logged or put into an error message.
 */
final class TokenVerifier {

  /** Why a token was refused; the message is safe to show (it never contains the token). */
  static final class Rejected extends Exception {
    Rejected(String message) {
      super(message, null, false, false);
    }
  }

  /** The signing keys could not be fetched: the token is neither good nor bad yet. */
  static final class KeysUnavailable extends Exception {
    KeysUnavailable(String message) {
      super(message, null, false, false);
    }
  }

  private static final Set<JWSAlgorithm> ALGORITHMS = algorithms();
  private static final int HTTP_TIMEOUT_MS = 3000;

  private final ResourceServerConfig config;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3))
      .followRedirects(HttpClient.Redirect.NEVER).build();
  private volatile DefaultJWTProcessor<SecurityContext> processor;

  TokenVerifier(ResourceServerConfig config) {
    this.config = config;
  }

  private static Set<JWSAlgorithm> algorithms() {
    Set<JWSAlgorithm> s = new HashSet<>();
    s.addAll(JWSAlgorithm.Family.RSA);
    s.addAll(JWSAlgorithm.Family.EC);
    s.addAll(JWSAlgorithm.Family.ED);
    return Set.copyOf(s);
  }

  /** True when {@code credential} is shaped like a JWT (so it is a token, not a virtual key). */
  static boolean looksLikeJwt(String credential) {
    if (credential.chars().filter(c -> c == '.').count() != 2 || credential.startsWith(".")) {
      return false;
    }
    try {
      JWTParser.parse(credential);
      return true;
    } catch (ParseException e) {
      return false;
    }
  }

  /**
   * The processor, built once. With {@code jwks_url} configured that needs no network. Otherwise
   * the JWKS location comes from the issuer's metadata, a blocking lookup that only the background
   * warm-up does ({@code mayDiscover}): a request never waits for it (nor queues behind it while
   * the IdP is down); it is refused with 503 until the warm-up has succeeded.
   */
  DefaultJWTProcessor<SecurityContext> processor(boolean mayDiscover) throws KeysUnavailable {
    DefaultJWTProcessor<SecurityContext> p = processor;
    if (p != null) {
      return p;
    }
    if (!mayDiscover && config.jwksUrl() == null) {
      throw new KeysUnavailable("the authorization server's metadata has not been loaded yet");
    }
    synchronized (this) {
      if (processor == null) {
        URL jwks;
        try {
          jwks = JwksLocation.resolve(config, http);
        } catch (IOException e) {
          throw new KeysUnavailable("the authorization server's keys could not be located: " + e.getMessage());
        }
        JWKSource<SecurityContext> keys = JWKSourceBuilder.<SecurityContext>create(jwks,
                new DefaultResourceRetriever(HTTP_TIMEOUT_MS, HTTP_TIMEOUT_MS, 512 * 1024))
            .cache(true).refreshAheadCache(true).rateLimited(true).retrying(true).build();
        DefaultJWTProcessor<SecurityContext> np = new DefaultJWTProcessor<>();
        np.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT,
            new JOSEObjectType("at+jwt"), new JOSEObjectType("application/at+jwt"), null));
        np.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(null,
            new JWTClaimsSet.Builder().issuer(config.issuer().toString()).build(), Set.of("exp"), null);
        claims.setMaxClockSkew((int) config.clockSkew().toSeconds());
        np.setJWTClaimsSetVerifier(claims);
        processor = np;
      }
      return processor;
    }
  }

  /** Warms the JWKS cache (and the discovery) so the first token need not wait; failures are retried later. */
  void warmUp() throws KeysUnavailable {
    DefaultJWTProcessor<SecurityContext> p = processor(true);
    JWSVerificationKeySelector<SecurityContext> selector = (JWSVerificationKeySelector<SecurityContext>) p.getJWSKeySelector();
    try {
      selector.getJWKSource().get(new JWKSelector(new com.nimbusds.jose.jwk.JWKMatcher.Builder().build()), null);
    } catch (KeySourceException e) {
      throw new KeysUnavailable("the authorization server's keys could not be fetched: " + e.getMessage());
    }
  }

  /** The verified claims of {@code token}, or why it is refused. */
  JWTClaimsSet verify(String token) throws Rejected, KeysUnavailable {
    JWT jwt;
    try {
      jwt = JWTParser.parse(token);
    } catch (ParseException e) {
      throw new Rejected("the access token is not a well-formed JWT");
    }
    if (jwt instanceof PlainJWT) {
      throw new Rejected("unsigned access tokens (alg none) are refused");
    }
    if (!(jwt instanceof SignedJWT signed)) {
      throw new Rejected("encrypted access tokens are not supported");
    }
    try {
      // Before any key is looked up: a token of another issuer must not make Bastion fetch keys.
      if (!config.issuer().toString().equals(signed.getJWTClaimsSet().getIssuer())) {
        throw new Rejected("the access token was not issued by the configured issuer");
      }
    } catch (ParseException e) {
      throw new Rejected("the access token's claims are not well-formed");
    }
    if (!ALGORITHMS.contains(signed.getHeader().getAlgorithm())) {
      throw new Rejected("access tokens signed with " + signed.getHeader().getAlgorithm()
          + " are refused (an asymmetric algorithm is required)");
    }
    try {
      return processor(false).process(signed, null);
    } catch (com.nimbusds.jose.jwk.source.RateLimitReachedException e) {
      // The keys were re-fetched for an unknown kid moments ago: this kid is not among them.
      throw new Rejected("the access token's signature does not verify with the issuer's keys");
    } catch (KeySourceException e) {
      throw new KeysUnavailable("the authorization server's keys could not be fetched");
    } catch (BadJWTException e) {
      throw new Rejected(claimProblem(e.getMessage()));
    } catch (BadJOSEException e) {
      String m = String.valueOf(e.getMessage());
      throw new Rejected(m.contains("no matching key") || m.contains("Invalid signature")
          ? "the access token's signature does not verify with the issuer's keys"
          : m.contains("type") ? "the access token's typ header is not JWT or at+jwt"
          : "the access token was refused");
    } catch (JOSEException e) {
      throw new Rejected("the access token's signature could not be checked");
    }
  }

  /** nimbus's claim messages, reduced to fixed texts (they may quote claim values). */
  private static String claimProblem(String m) {
    String s = String.valueOf(m);
    if (s.contains("Expired")) {
      return "the access token has expired";
    }
    if (s.contains("before use time")) {
      return "the access token is not valid yet (nbf)";
    }
    if (s.contains("iss")) {
      return "the access token was not issued by the configured issuer";
    }
    if (s.contains("missing required claims")) {
      return "the access token lacks an exp claim";
    }
    return "the access token's claims were refused";
  }
}
