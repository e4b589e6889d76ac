package io.bastion.node.http;

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The request id of a POST on the MCP edge: the caller's {@code X-Request-Id} when it is sane (1–128
 * characters from {@code [A-Za-z0-9._:/+=-]}), else the trace id of a valid W3C {@code traceparent},
 * else 32 random hex digits (the shape of a trace id). Stored in the audit row and returned as
 * the {@code X-Request-Id} response header.
 */
public final class RequestIds {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private RequestIds() {}

  public static String of(HttpRequest req) {
    Optional<String> given = req.getHeader("X-Request-Id").map(HttpHeader::value).filter(RequestIds::sane);
    if (given.isPresent()) {
      return given.get();
    }
    return req.getHeader("traceparent").map(HttpHeader::value).map(RequestIds::traceId)
        .orElseGet(RequestIds::generate);
  }

  static boolean sane(String s) {
    if (s.isEmpty() || s.length() > 128) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || ".-_:/+=".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** The trace id of {@code version-traceid-parentid-flags}, or null when malformed or all zeros. */
  static String traceId(String traceparent) {
    String[] parts = traceparent.trim().split("-");
    if (parts.length < 4 || parts[0].length() != 2 || parts[1].length() != 32 || parts[2].length() != 16
        || parts[0].equalsIgnoreCase("ff")) {
      return null;
    }
    String id = parts[1].toLowerCase();
    boolean nonZero = false;
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (HEX_DIGITS.indexOf(c) < 0) {
        return null;
      }
      nonZero |= c != '0';
    }
    return nonZero ? id : null;
  }

  private static final String HEX_DIGITS = "0123456789abcdef";

  static String generate() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    char[] out = new char[32];
    long a = r.nextLong();
    long b = r.nextLong();
    for (int i = 0; i < 16; i++) {
      out[i] = HEX[(int) ((a >>> (60 - 4 * i)) & 0xf)];
      out[16 + i] = HEX[(int) ((b >>> (60 - 4 * i)) & 0xf)];
    }
    return new String(out);
  }
}
