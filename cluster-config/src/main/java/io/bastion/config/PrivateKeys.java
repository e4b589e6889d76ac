package io.bastion.config;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * PKCS#8 PEM private keys ({@code -----BEGIN PRIVATE KEY-----}), for {@code private_key_jwt} client
 * authentication: read with the JDK's own key factories (no BouncyCastle), and the JWS algorithms
 * each key can sign with.
 */
public final class PrivateKeys {

  private static final String BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String END = "-----END PRIVATE KEY-----";

  private PrivateKeys() {}

  /** The key in {@code pem}; an {@link IllegalArgumentException} that never quotes the key otherwise. */
  public static PrivateKey parse(String pem) {
    String text = pem.trim();
    int begin = text.indexOf(BEGIN);
    int end = text.indexOf(END);
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY")
          ? "expected a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----), got a traditional one; convert it with"
              + " openssl pkcs8 -topk8 -nocrypt"
          : "expected a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY----- … -----END PRIVATE KEY-----)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(begin + BEGIN.length(), end));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the PEM key's body is not valid base64");
    }
    for (String type : new String[] {"EC", "RSA"}) {
      try {
        return KeyFactory.getInstance(type).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next type
      }
    }
    throw new IllegalArgumentException("the PEM key is neither an RSA nor an EC private key");
  }

  /** The usual algorithm of {@code key}: RS256 for RSA, ES256/ES384/ES512 for EC by curve size. */
  public static String defaultAlgorithm(PrivateKey key) {
    if (key instanceof ECPrivateKey ec) {
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      return bits > 384 ? "ES512" : bits > 256 ? "ES384" : "ES256";
    }
    return "RS256";
  }

  /** Whether {@code key} can sign with JWS algorithm {@code alg} (RS/PS with RSA, ES with EC). */
  public static boolean fits(PrivateKey key, String alg) {
    return alg.startsWith("ES") ? key instanceof ECPrivateKey : key instanceof RSAPrivateKey;
  }
}
