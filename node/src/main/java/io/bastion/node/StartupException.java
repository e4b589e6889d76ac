package io.bastion.node;

/**
 * A node could not start for a reason the operator can act on: a port already in use, a store
 * that cannot be reached, seed nodes that never answered. The message is meant to be printed as
 * it is ({@link Main} prints it and exits 1); it never contains a password.
 */
public final class StartupException extends RuntimeException {
  public StartupException(String message, Throwable cause) {
    super(message, cause);
  }

  public StartupException(String message) {
    super(message);
  }
}
