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
}
