package io.bastion.protocol;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Exposed names of federated tools and prompts.
 *
 * <p>An exposed name is {@code <prefix>__<name>} (or the bare name when the server's prefix is
 * empty), made valid for every LLM API ({@code ^[a-zA-Z0-9_-]{1,64}$}): characters outside the set
 * become {@code _}, and a name that had to change or is too long gets a deterministic suffix of
 * eight hex digits of SHA-256 over the original prefix and name, so two different originals never
 * collapse into the same exposed name by sanitizing. The mapping back is a table lookup in {@link
 * FederatedCatalog}, never a split on the separator: tool names may themselves contain {@code __}.
 */
public final class ToolNames {
  public static final Pattern VALID = Pattern.compile("^[a-zA-Z0-9_-]{1,64}$");
  public static final String SEPARATOR = "__";
  public static final int MAX_LENGTH = 64;
  private static final int HASH_CHARS = 8;

  private ToolNames() {}

  public static String expose(String prefix, String name) {
    prefix = prefix == null ? "" : prefix;
    String joined = prefix.isEmpty() ? name : prefix + SEPARATOR + name;
    if (VALID.matcher(joined).matches()) {
      return joined;
    }
    String sanitized = joined.replaceAll("[^a-zA-Z0-9_-]", "_");
    String suffix = "_" + hash(prefix + "\u0000" + name);
    int keep = Math.min(sanitized.length(), MAX_LENGTH - suffix.length());
    return sanitized.substring(0, keep) + suffix;
  }

  /** A variant used when two servers expose the same name: the later one (in stable order) is suffixed with its server's hash. */
  public static String disambiguate(String exposed, String server) {
    String suffix = "_" + hash(server + "\u0000" + exposed);
    int keep = Math.min(exposed.length(), MAX_LENGTH - suffix.length());
    return exposed.substring(0, keep) + suffix;
  }

  static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, HASH_CHARS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
