package io.bastion.config;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Upstream URLs for humans: logs, {@code lastError}, the operator API, the launcher's output.
 * A configured URL may carry credentials in its userinfo ({@code https://user:pass@host}) or
 * secrets in its query ({@code ?api_key=...}); this is the one place that hides them.
 *
 * <p>Kept: scheme, host, port, path and the names of query parameters. Replaced by {@code ***}:
 * the userinfo, every query parameter value and the fragment.
 */
public final class Urls {
  public static final String MASK = "***";


  private Urls() {}

  /** {@code url} without its secrets; null for null. */
  public static String redact(URI url) {
    if (url == null) {
      return null;
    }
    if (url.isOpaque()) {
      return url.getScheme() + ":" + MASK;
    }
    StringBuilder b = new StringBuilder();
    if (url.getScheme() != null) {
      b.append(url.getScheme()).append(':');
    }
    String authority = url.getRawAuthority();
    if (authority != null) {
      int at = authority.lastIndexOf('@');
      b.append("//").append(at < 0 ? authority : MASK + authority.substring(at));
    }
    if (url.getRawPath() != null) {
      b.append(url.getRawPath());
    }
    if (url.getRawQuery() != null) {
      b.append('?').append(redactQuery(url.getRawQuery()));
    }
    if (url.getRawFragment() != null) {
      b.append('#').append(MASK);
    }
    return b.toString();
  }

  /**
   * {@code url} without its secrets. Text that is not a valid URI is still masked the same way,
   * on a best-effort textual basis (a config error must not echo a password either).
   */
  public static String redact(String url) {
    if (url == null) {
      return null;
    }
    try {
      return redact(new URI(url.trim()));
    } catch (URISyntaxException e) {
      return redactText(url);
    }
  }

  /**
   * The textual fallback: everything between {@code ://} and the last {@code @} before the query
   * is userinfo (over-masking an {@code @} in a path is the safe mistake), query values end at
   * {@code &} or {@code #}, the fragment is masked whole.
   */
  private static String redactText(String url) {
    String s = url;
    int fragment = s.indexOf('#');
    if (fragment >= 0) {
      s = s.substring(0, fragment) + "#" + MASK;
    }
    int scheme = s.indexOf("://");
    int authority = scheme < 0 ? 0 : scheme + 3;
    int query = s.indexOf('?', authority);
    int end = query >= 0 ? query : fragment >= 0 ? s.indexOf('#') : s.length();
    int at = s.lastIndexOf('@', end - 1);
    if (scheme >= 0 && at >= authority) {
      s = s.substring(0, authority) + MASK + s.substring(at);
    }
    query = s.indexOf('?', authority);
    if (query >= 0) {
      int hash = s.indexOf('#', query);
      int qEnd = hash >= 0 ? hash : s.length();
      s = s.substring(0, query + 1) + redactQuery(s.substring(query + 1, qEnd)) + s.substring(qEnd);
    }
    return s;
  }

  /**
   * {@code text} (an error message, say) with every occurrence of {@code url}, and of its raw
   * userinfo and query, replaced by their redacted forms. Null-safe in both arguments.
   */
  public static String scrub(String text, URI url) {
    if (text == null || url == null) {
      return text;
    }
    String s = text.replace(url.toString(), redact(url));
    if (url.getRawUserInfo() != null && !url.getRawUserInfo().isEmpty()) {
      s = s.replace(url.getRawUserInfo() + "@", MASK + "@");
    }
    if (url.getRawQuery() != null && !url.getRawQuery().isEmpty()) {
      s = s.replace(url.getRawQuery(), redactQuery(url.getRawQuery()));
    }
    return s;
  }

  private static String redactQuery(String rawQuery) {
    java.util.StringJoiner j = new java.util.StringJoiner("&");
    for (String part : rawQuery.split("&", -1)) {
      int eq = part.indexOf('=');
      j.add(eq < 0 ? part : part.substring(0, eq) + "=" + MASK);
    }
    return j.toString();
  }
}
