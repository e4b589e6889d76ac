package io.bastion.node.codemode;

import java.nio.charset.StandardCharsets;
import net.starlark.java.eval.EvalException;

/** What a run printed, capped at {@code limits.max_output} bytes (UTF-8). Thread-safe. */
final class Output {
  private final long limit;
  private final StringBuilder text = new StringBuilder();
  private long bytes;
  private boolean truncated;

  Output(long limit) {
    this.limit = limit;
  }

  /** Appends, or fails the program once the output would pass the limit. */
  synchronized void append(String s) throws EvalException {
    long n = s.getBytes(StandardCharsets.UTF_8).length;
    if (bytes + n > limit) {
      truncated = true;
      throw new Guards.LimitExceeded("the program printed more than " + limit + " bytes (limits.max_output)");
    }
    text.append(s);
    bytes += n;
  }

  /** Appends what fits (for Starlark's own print hook, which cannot fail). */
  synchronized void appendUnchecked(String s) {
    try {
      append(s + "\n");
    } catch (EvalException e) {
      truncated = true;
    }
  }

  synchronized String text() {
    return truncated ? text + "\n[output truncated at " + limit + " bytes]" : text.toString();
  }

  synchronized long size() {
    return bytes;
  }
}
