package io.bastion.node.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.AuditConfig;
import io.bastion.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What the audit log keeps of a call's arguments ({@code audit.arguments}):
 * <ul>
 *   <li>{@code full}: the arguments, with secret-looking keys replaced by {@code "[REDACTED]"};
 *   <li>{@code redacted} (default): the same shape, every scalar replaced by its type
 *       ({@code "<string>"}, {@code "<number>"}, …) and secrets by {@code "[REDACTED]"};
 *   <li>{@code hashed}: {@code sha256:<hex>} of the arguments after secrets were redacted;
 *   <li>{@code off}: nothing (null).
 * </ul>
 * A key is secret when its lower-cased name, with {@code -} read as {@code _}, contains one of
 * {@code password, passwd, token, secret, authorization, api_key, apikey, private_key, credential,
 * cookie} or equals one of {@code audit.redact_keys} (case-insensitive). Secrets are removed in
 * every mode, at any depth.
 */
public final class ArgumentRedactor {
  static final String REDACTED = "[REDACTED]";
  private static final List<String> BUILT_IN = List.of("password", "passwd", "token", "secret",
      "authorization", "api_key", "apikey", "private_key", "credential", "cookie");

  private final AuditConfig.Arguments mode;
  private final Set<String> extra;

  public ArgumentRedactor(AuditConfig config) {
    this.mode = config.arguments();
    this.extra = config.redactKeys().stream().map(k -> k.toLowerCase(Locale.ROOT).replace('-', '_'))
        .collect(Collectors.toSet());
  }

  boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT).replace('-', '_');
    return extra.contains(k) || BUILT_IN.stream().anyMatch(k::contains)
        || Stream.of(k.split("_")).anyMatch(extra::contains);
  }

  /** The text to store for {@code args} (may be null). */
  public String render(JsonNode args) {
    if (mode == AuditConfig.Arguments.OFF || args == null || args.isNull()) {
      return null;
    }
    JsonNode safe = scrub(args, mode == AuditConfig.Arguments.REDACTED);
    if (mode == AuditConfig.Arguments.HASHED) {
      try {
        byte[] h = MessageDigest.getInstance("SHA-256").digest(Json.write(safe).getBytes(StandardCharsets.UTF_8));
        return "sha256:" + HexFormat.of().formatHex(h);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return Json.write(safe);
  }

  private JsonNode scrub(JsonNode n, boolean typesOnly) {
    if (n.isObject()) {
      ObjectNode o = Json.object();
      Iterator<Map.Entry<String, JsonNode>> it = n.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (isSecret(e.getKey())) {
          o.put(e.getKey(), REDACTED);
        } else {
          o.set(e.getKey(), scrub(e.getValue(), typesOnly));
        }
      }
      return o;
    }
    if (n.isArray()) {
      ArrayNode a = Json.object().arrayNode();
      n.forEach(x -> a.add(scrub(x, typesOnly)));
      return a;
    }
    if (!typesOnly || n.isNull()) {
      return n;
    }
    String type = n.isTextual() ? "<string>" : n.isNumber() ? "<number>" : n.isBoolean() ? "<boolean>" : "<value>";
    return Json.object().textNode(type);
  }
}
