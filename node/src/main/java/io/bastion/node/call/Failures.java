package io.bastion.node.call;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** The one place a wrapped failure is unwrapped. */
public final class Failures {
  private Failures() {}

  /** {@code t} without its {@link CompletionException} / {@link ExecutionException} wrappers. */
  public static Throwable root(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
