package io.bastion.node.upstream.transport;

/** A stdio upstream's process ended without Bastion asking for it (or before it was ready). */
public final class UpstreamProcessExitedException extends RuntimeException {
  private final int exitCode;

  public UpstreamProcessExitedException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  /** The process's exit code (128 + signal number when it was killed by a signal). */
  public int exitCode() {
    return exitCode;
  }
}
