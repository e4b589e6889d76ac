package io.bastion.node.http;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Header checks of the MCP streamable HTTP transport: Origin (403), Host on loopback binds (DNS rebinding), Accept (406). */
final class HttpChecks {
  private HttpChecks() {}

  static boolean isLoopbackHost(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return h.equals("localhost") || h.equals("::1") || h.startsWith("127.");
  }

  /** An absent Origin is fine (non-browser clients); a present one must be loopback or listed. */
  static boolean originAllowed(Optional<String> origin, List<String> allowed) {
    if (origin.isEmpty()) {
      return true;
    }
    String o = origin.get();
    if (allowed.contains("*") || allowed.contains(o)) {
      return true;
    }
    try {
      URI u = URI.create(o);
      return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && isLoopbackHost(u.getHost());
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** On a loopback bind, a Host naming anything but loopback is a DNS-rebinding attempt. */
  static boolean hostAllowed(Optional<String> hostHeader, EdgeSettings settings) {
    if (!settings.loopbackBind() || hostHeader.isEmpty()) {
      return true;
    }
    String h = hostHeader.get();
    int colon = h.lastIndexOf(':');
    if (colon > 0 && !h.endsWith("]")) {
      h = h.substring(0, colon);
    }
    return isLoopbackHost(h);
  }

  static boolean accepts(Optional<String> accept, String mediaType) {
    if (accept.isEmpty()) {
      return false;
    }
    for (String part : accept.get().split(",")) {
      // The media range is what precedes the first ';' (parameters follow). A part may be empty or
      // parameters only (";", ", ;q=1"): split(";")[0] threw on those and the edge answered 500.
      int semi = part.indexOf(';');
      String m = (semi < 0 ? part : part.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
      if (m.equals(mediaType) || m.equals("*/*")) {
        return true;
      }
    }
    return false;
  }
}
