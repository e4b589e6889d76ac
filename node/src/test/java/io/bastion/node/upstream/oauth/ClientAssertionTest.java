package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT;
import io.bastion.config.OAuthConfig;
import io.bastion.protocol.Json;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.Date;
import org.junit.jupiter.api.Test;

/**
 * {@code private_key_jwt} (RFC 7523): the client assertion Bastion signs for a token request. The
 * conformance suite's {@code auth/client-credentials-jwt} checks one against a real authorization
 * server; this checks the claims and the options.
 */
class ClientAssertionTest {

  private static final String ISSUER = "https://as.example.com/tenant";

  @Test
  void anEcKeySignsEs256WithTheIssuerAsAudience() throws Exception {
    KeyPair keys = generate("EC", 256);
    SignedJWT jwt = assertion(keys, null, null);

    assertThat(jwt.getHeader().getAlgorithm().getName()).isEqualTo("ES256");
    assertThat(jwt.verify(new ECDSAVerifier((ECPublicKey) keys.getPublic()))).isTrue();
    assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo("bastion-gw");
    assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo("bastion-gw");
    assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(ISSUER);
    assertThat(jwt.getJWTClaimsSet().getJWTID()).isNotBlank();
    assertThat(jwt.getJWTClaimsSet().getExpirationTime()).isAfter(new Date());
    // A fresh one (new jti) for every request.
    assertThat(assertion(keys, null, null).getJWTClaimsSet().getJWTID()).isNotEqualTo(jwt.getJWTClaimsSet().getJWTID());
  }

  @Test
  void anRsaKeySignsWithTheConfiguredAlgorithmForTheTokenEndpoint() throws Exception {
    KeyPair keys = generate("RSA", 2048);
    SignedJWT jwt = assertion(keys, "PS256", "token_endpoint");

    assertThat(jwt.getHeader().getAlgorithm().getName()).isEqualTo("PS256");
    assertThat(jwt.verify(new RSASSAVerifier((RSAPublicKey) keys.getPublic()))).isTrue();
    assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(ISSUER + "/oauth2/token");
    assertThat(assertion(keys, null, null).getHeader().getAlgorithm().getName()).isEqualTo("RS256");
  }

  private static SignedJWT assertion(KeyPair keys, String alg, String audience) throws Exception {
    OAuthConfig cfg = new OAuthConfig(OAuthConfig.Grant.CLIENT_CREDENTIALS, "bastion-gw", null, null, "private_key_jwt",
        null, null, null, pem(keys), alg, audience, false);
    var md = Json.object().put("issuer", ISSUER).put("token_endpoint", ISSUER + "/oauth2/token");
    String stored = AuthorizationServerMetadata.parse(md.toString()).toJSONObject().toJSONString();
    StoredAuth a = StoredAuth.discovered(ISSUER, stored, "https://mcp.example.com/mcp", null)
        .withClient("bastion-gw", null, "private_key_jwt", null, false);
    return ((PrivateKeyJWT) OAuthFlows.assertion(a, cfg)).getClientAssertion();
  }

  private static KeyPair generate(String algorithm, int size) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
    g.initialize(size);
    return g.generateKeyPair();
  }

  private static String pem(KeyPair keys) {
    return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(keys.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }
}
