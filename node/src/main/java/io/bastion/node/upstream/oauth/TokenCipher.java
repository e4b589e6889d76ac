package io.bastion.node.upstream.oauth;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals OAuth secrets (tokens, PKCE verifiers, registered client secrets) before they reach the
 * journal: AES-256-GCM with a random 96-bit nonce per value. A sealed value reads
 * {@code v1.<key id>.<base64url(nonce | ciphertext | tag)>}; the key id (the first 8 hex digits of
 * the key's SHA-256) names the key that sealed it, so a rotated-out key can still open old values
 * while every new value is sealed with the current key (docs/oauth-upstream.md, "Key rotation").
 */
public final class TokenCipher {

  private static final String PREFIX = "v1.";
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String currentId;
  private final Map<String, SecretKeySpec> keys;

  private TokenCipher(byte[] current, List<byte[]> previous) {
    this.keys = new LinkedHashMap<>();
    this.currentId = add(current);
    previous.forEach(this::add);
  }

  /**
   * A cipher from base64 (standard or url-safe) 32-byte keys: {@code current} seals and opens,
   * {@code previous} only open.
   */
  public static TokenCipher of(String current, List<String> previous) {
    return new TokenCipher(decodeKey(current), previous.stream().map(TokenCipher::decodeKey).toList());
  }

  /** Reads the current key from a file (its base64 text, surrounding whitespace ignored). */
  public static String readKeyFile(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot read the OAuth key file " + file + ": " + e.getMessage(), e);
    }
  }

  /** A new random key in the form {@link #of} reads (for operators: {@code openssl rand -base64 32} does the same). */
  public static String newKey() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  private static byte[] decodeKey(String text) {
    byte[] key;
    try {
      String t = text.strip();
      key = t.contains("-") || t.contains("_") ? Base64.getUrlDecoder().decode(t) : Base64.getDecoder().decode(t);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the OAuth token key is not base64 (expected 32 random bytes, e.g."
          + " `openssl rand -base64 32`)");
    }
    if (key.length != 32) {
      throw new IllegalArgumentException("the OAuth token key must be 32 bytes (AES-256), got " + key.length);
    }
    return key;
  }

  private String add(byte[] key) {
    try {
      String id = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 4);
      keys.putIfAbsent(id, new SecretKeySpec(key, "AES"));
      return id;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The id of the key new values are sealed with. */
  public String currentKeyId() {
    return currentId;
  }

  /** Seals {@code plain}; null stays null. */
  public String seal(String plain) {
    if (plain == null) {
      return null;
    }
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      RANDOM.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, keys.get(currentId), new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(currentId.getBytes(StandardCharsets.US_ASCII));
      byte[] sealed = c.doFinal(plain.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[nonce.length + sealed.length];
      System.arraycopy(nonce, 0, out, 0, nonce.length);
      System.arraycopy(sealed, 0, out, nonce.length, sealed.length);
      return PREFIX + currentId + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  /**
   * Opens a sealed value; null stays null. Fails (without showing the value) if no known key
   * sealed it or it was tampered with.
   */
  public String open(String sealed) {
    if (sealed == null) {
      return null;
    }
    String[] parts = sealed.split("\\.", 3);
    if (parts.length != 3 || !parts[0].equals("v1")) {
      throw new IllegalArgumentException("not a sealed OAuth value");
    }
    SecretKeySpec key = keys.get(parts[1]);
    if (key == null) {
      throw new IllegalArgumentException("sealed with OAuth key [" + parts[1] + "], which is not configured"
          + " (add it to the previous keys)");
    }
    try {
      byte[] in = Base64.getUrlDecoder().decode(parts[2]);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, NONCE_BYTES));
      c.updateAAD(parts[1].getBytes(StandardCharsets.US_ASCII));
      return new String(c.doFinal(in, NONCE_BYTES, in.length - NONCE_BYTES), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException("a sealed OAuth value failed authentication (wrong key or tampered)");
    }
  }

  /** True if {@code sealed} was sealed with a key other than the current one (re-seal it). */
  public boolean stale(String sealed) {
    return sealed != null && !sealed.startsWith(PREFIX + currentId + ".");
  }
}
