package io.bastion.node.upstream.transport;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** INTERNAL API: what {@link StdioTransport} needs to know about a child process and its descendants. */
final class ProcessTree {
  private ProcessTree() {}

  private static final Pattern CANNOT_RUN =
      Pattern.compile("Cannot run program \"([^\"]*)\".*error=(\\d+).*", Pattern.DOTALL);

  /** A message a human can act on for a program that could not be started. */
  static String describeStartFailure(String program, IOException e) {
    String msg = String.valueOf(e.getMessage());
    Matcher m = CANNOT_RUN.matcher(msg);
    if (m.matches()) {
      return switch (m.group(2)) {
        case "2" -> "command not found: " + m.group(1);
        case "13" -> "command not executable (permission denied): " + m.group(1);
        default -> "cannot run " + m.group(1) + ": " + msg;
      };
    }
    return "cannot run " + program + ": " + msg;
  }

  static void awaitAll(Set<ProcessHandle> handles, long deadlineNanos) throws InterruptedException {
    for (ProcessHandle h : handles) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        return;
      }
      try {
        h.onExit().get(left, TimeUnit.NANOSECONDS);
      } catch (ExecutionException | TimeoutException e) {
        return;
      }
    }
  }

  static void collectDescendants(Process p, Set<ProcessHandle> into) {
    try {
      p.descendants().forEach(into::add);
    } catch (RuntimeException ignored) {
      // process already gone
    }
  }
}
