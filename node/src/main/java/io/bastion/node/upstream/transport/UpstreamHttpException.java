package io.bastion.node.upstream.transport;

/** A non-2xx answer from an HTTP upstream. 404 on a request carrying a session id means the upstream session expired. */
public final class UpstreamHttpException extends RuntimeException {
  private final int status;

  public UpstreamHttpException(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** True when the upstream forgot our session: the owner must re-initialize. */
  public boolean sessionExpired() {
    return status == 404;
  }
}
