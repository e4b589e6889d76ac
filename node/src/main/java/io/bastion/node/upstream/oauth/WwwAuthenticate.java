package io.bastion.node.upstream.oauth;

import java.net.URI;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parameters of a {@code WWW-Authenticate: Bearer ...} challenge (RFC 6750 §3, RFC 9728 §5.1):
 * {@code resource_metadata}, {@code scope}, {@code error}.
 *
 * @param resourceMetadata the protected-resource metadata URL, or null
 * @param scope the scopes the resource asks for (space-separated), or null
 * @param error the error code ({@code invalid_token}, {@code insufficient_scope}), or null
 */
public record WwwAuthenticate(URI resourceMetadata, String scope, String error) {

  private static final Pattern PARAM = Pattern.compile(
      "([A-Za-z0-9_!#$%&'*+.^`|~-]+)\\s*=\\s*(?:\"((?:[^\"\\\\]|\\\\.)*)\"|([^\\s,]+))");
  public static final WwwAuthenticate NONE = new WwwAuthenticate(null, null, null);

  /** The Bearer challenge among {@code header}'s challenges; {@link #NONE} if there is none. */
  public static WwwAuthenticate parse(String header) {
    if (header == null) {
      return NONE;
    }
    int at = header.toLowerCase(Locale.ROOT).indexOf("bearer");
    if (at < 0) {
      return NONE;
    }
    Map<String, String> params = new HashMap<>();
    Matcher m = PARAM.matcher(header.substring(at + "bearer".length()));
    while (m.find()) {
      String value = m.group(2) != null ? m.group(2).replaceAll("\\\\(.)", "$1") : m.group(3);
      params.putIfAbsent(m.group(1).toLowerCase(Locale.ROOT), value);
    }
    URI metadata = null;
    String rm = params.get("resource_metadata");
    if (rm != null) {
      try {
        metadata = URI.create(rm.trim());
      } catch (IllegalArgumentException e) {
        metadata = null;
      }
    }
    String scope = params.get("scope");
    return new WwwAuthenticate(metadata, scope == null || scope.isBlank() ? null : scope.trim(), params.get("error"));
  }
}
