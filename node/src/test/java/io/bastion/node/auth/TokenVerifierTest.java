package io.bastion.node.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.bastion.config.ResourceServerConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link TokenVerifier} against a JWKS served over real HTTP on 127.0.0.1 whose keys the test
 * rotates: the set is fetched once and cached, refetched for an unknown {@code kid}, and a
 * still-unknown kid right after is an invalid token (rate limit), not an outage.
 */
@Timeout(60)
class TokenVerifierTest {
  static final String ISSUER = "https://idp.example.com/realms/a";

  HttpServer jwksServer;
  final AtomicReference<JWKSet> published = new AtomicReference<>();
  final AtomicInteger fetches = new AtomicInteger();
  TokenVerifier verifier;

  @BeforeEach
  void start() throws Exception {
    jwksServer = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    jwksServer.createContext("/certs", ex -> {
      fetches.incrementAndGet();
      byte[] body = published.get().toString(true).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    jwksServer.start();
    URI jwks = URI.create("http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/certs");
    verifier = new TokenVerifier(new ResourceServerConfig(URI.create(ISSUER), jwks, null, List.of(), List.of(),
        Duration.ofSeconds(30), null, List.of(), null));
  }

  @AfterEach
  void stop() {
    jwksServer.stop(0);
  }

  private static String sign(RSAKey key, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static JWTClaimsSet claims(long expiresInSeconds) {
    return new JWTClaimsSet.Builder().issuer(ISSUER).subject("s").audience("https://bastion/mcp")
        .expirationTime(new Date(System.currentTimeMillis() + expiresInSeconds * 1000)).build();
  }

  @Test
  void keysAreCachedAndRefetchedForANewKidAfterRotation() throws Exception {
    RSAKey first = new RSAKeyGenerator(2048).keyID("k1").generate();
    RSAKey second = new RSAKeyGenerator(2048).keyID("k2").generate();
    RSAKey rogue = new RSAKeyGenerator(2048).keyID("k3").generate();
    String rogueToken = sign(rogue, claims(600));
    published.set(new JWKSet(first.toPublicJWK()));

    assertThat(verifier.verify(sign(first, claims(600))).getSubject()).isEqualTo("s");
    assertThat(verifier.verify(sign(first, claims(600))).getSubject()).isEqualTo("s");
    assertThat(fetches.get()).as("cached after the first fetch").isEqualTo(1);

    published.set(new JWKSet(List.of(first.toPublicJWK(), second.toPublicJWK())));
    assertThat(verifier.verify(sign(second, claims(600))).getSubject()).isEqualTo("s");
    assertThat(fetches.get()).as("one refetch for the unknown kid").isEqualTo(2);

    // Within nimbus's 30 s minimum interval between fetches (the token was signed up front).
    assertThatThrownBy(() -> verifier.verify(rogueToken))
        .isInstanceOf(TokenVerifier.Rejected.class).hasMessageContaining("signature");
    assertThat(fetches.get()).as("a refetch right after is rate limited").isEqualTo(2);
  }

  @Test
  void hmacExpiredAndForeignIssuerTokensAreRejectedWithFixedReasons() throws Exception {
    RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
    published.set(new JWKSet(key.toPublicJWK()));

    SignedJWT hmac = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims(600));
    hmac.sign(new MACSigner(new byte[32]));
    assertThatThrownBy(() -> verifier.verify(hmac.serialize())).isInstanceOf(TokenVerifier.Rejected.class)
        .hasMessageContaining("asymmetric");
    assertThatThrownBy(() -> verifier.verify(sign(key, claims(-120)))).isInstanceOf(TokenVerifier.Rejected.class)
        .hasMessage("the access token has expired");
    // 20 s past exp is inside the 30 s skew.
    assertThat(verifier.verify(sign(key, claims(-20))).getSubject()).isEqualTo("s");
    JWTClaimsSet foreign = new JWTClaimsSet.Builder(claims(600)).issuer("https://evil.example.com").build();
    int before = fetches.get();
    assertThatThrownBy(() -> verifier.verify(sign(key, foreign))).isInstanceOf(TokenVerifier.Rejected.class)
        .hasMessage("the access token was not issued by the configured issuer");
    assertThat(fetches.get()).as("no key lookup for a foreign issuer").isEqualTo(before);
  }

  @Test
  void withoutAJwksUrlARequestNeverWaitsForTheDiscovery() throws Exception {
    // An issuer nobody answers for: only the background warm-up may look its metadata up.
    TokenVerifier discovering = new TokenVerifier(new ResourceServerConfig(
        URI.create("http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/nothing-here"), null, null,
        List.of(), List.of(), null, null, List.of(), null));
    RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
    JWTClaimsSet c = new JWTClaimsSet.Builder(claims(600))
        .issuer("http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/nothing-here").build();

    assertThatThrownBy(() -> discovering.verify(sign(key, c))).isInstanceOf(TokenVerifier.KeysUnavailable.class)
        .hasMessageContaining("not been loaded yet");
    assertThatThrownBy(discovering::warmUp).isInstanceOf(TokenVerifier.KeysUnavailable.class)
        .hasMessageContaining("could not be located");
  }

  @Test
  void anUnreachableJwksIsAnOutageNotAnInvalidToken() throws Exception {
    RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
    jwksServer.stop(0);
    verifier.processor(false); // with jwks_url configured, built without any network
    assertThatThrownBy(() -> verifier.verify(sign(key, claims(600))))
        .isInstanceOf(TokenVerifier.KeysUnavailable.class);
  }
}
