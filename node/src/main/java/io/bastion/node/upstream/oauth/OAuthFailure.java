package io.bastion.node.upstream.oauth;

/**
 * An OAuth step failed. The message is safe to log and show (it never carries a token, code,
 * verifier or secret). {@link #permanent()} failures (the server refused the grant or the client:
 * {@code invalid_grant}, {@code invalid_client}, {@code unauthorized_client}) need new
 * authorization; every other failure (network, 5xx, unparsable answers) is retried with backoff.
 */
public final class OAuthFailure extends Exception {
  private final boolean permanent;

  public OAuthFailure(String message, boolean permanent) {
    super(message, null, false, false);
    this.permanent = permanent;
  }

  public boolean permanent() {
    return permanent;
  }

  /** What a failed OAuth step's future failed with, safe to log: an OAuthFailure's message, else the exception's type only. */
  public static String describe(Throwable err) {
    Throwable t = unwrap(err);
    return t instanceof OAuthFailure ? t.getMessage() : "OAuth step failed: " + t.getClass().getSimpleName();
  }

  /** True if a failed OAuth step's future failed with a permanent {@link OAuthFailure}. */
  public static boolean isPermanent(Throwable err) {
    return unwrap(err) instanceof OAuthFailure f && f.permanent();
  }

  private static Throwable unwrap(Throwable err) {
    return err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
  }
}
