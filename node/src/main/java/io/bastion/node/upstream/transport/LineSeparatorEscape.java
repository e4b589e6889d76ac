package io.bastion.node.upstream.transport;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * Rewrites U+0085, U+2028 and U+2029 in an upstream's SSE bytes as the JSON escapes
 * {@code \u0085}, {@code \u2028}, {@code \u2029}, before Pekko HTTP's SSE parser sees them.
 *
 * <p>Why: that parser drops a whole event whose data holds one of these characters (found by
 * {@code SseParsingFuzzTest}; docs/fuzzing.md), although JSON allows them raw inside strings, so
 * an upstream's answer carrying one was lost and its request timed out. MCP's SSE data are JSON
 * messages, and JSON allows these characters nowhere but inside strings, where the escape means
 * the same: the rewrite changes no message. It works on UTF-8 bytes (the three characters are
 * {@code C2 85}, {@code E2 80 A8}, {@code E2 80 A9}, which no other character's bytes contain)
 * and keeps a sequence split between two chunks until its end arrives. Chunks without a
 * {@code C2} or {@code E2} byte pass unchanged.
 */
final class LineSeparatorEscape {
  private static final byte C2 = (byte) 0xC2;
  private static final byte E2 = (byte) 0xE2;
  private static final byte X80 = (byte) 0x80;

  private LineSeparatorEscape() {}

  static Flow<ByteString, ByteString, NotUsed> flow() {
    return Flow.<ByteString>create().statefulMap(
        ByteString::emptyByteString,
        (carry, chunk) -> {
          Pair<ByteString, ByteString> r = escape(carry.concat(chunk));
          return Pair.create(r.first(), r.second());
        },
        carry -> carry.isEmpty() ? Optional.empty() : Optional.of(carry));
  }

  /** Returns (bytes to keep for the next chunk, bytes to send on). */
  static Pair<ByteString, ByteString> escape(ByteString in) {
    int n = in.size();
    if (in.indexOf(C2) < 0 && in.indexOf(E2) < 0) {
      return Pair.create(ByteString.emptyByteString(), in);
    }
    int keep = 0;
    if (n >= 1 && (in.apply(n - 1) == C2 || in.apply(n - 1) == E2)) {
      keep = 1;
    } else if (n >= 2 && in.apply(n - 2) == E2 && in.apply(n - 1) == X80) {
      keep = 2;
    }
    int end = n - keep;
    ByteStringBuilder out = new ByteStringBuilder();
    int from = 0;
    for (int i = 0; i < end; i++) {
      byte b = in.apply(i);
      String escape = null;
      int length = 0;
      if (b == C2 && i + 1 < end && in.apply(i + 1) == (byte) 0x85) {
        escape = "\\u0085";
        length = 2;
      } else if (b == E2 && i + 2 < end && in.apply(i + 1) == X80
          && (in.apply(i + 2) == (byte) 0xA8 || in.apply(i + 2) == (byte) 0xA9)) {
        escape = in.apply(i + 2) == (byte) 0xA8 ? "\\u2028" : "\\u2029";
        length = 3;
      }
      if (escape != null) {
        out.append(in.slice(from, i));
        out.putBytes(escape.getBytes(StandardCharsets.US_ASCII));
        i += length - 1;
        from = i + 1;
      }
    }
    out.append(in.slice(from, end));
    return Pair.create(in.drop(end), out.result());
  }
}
