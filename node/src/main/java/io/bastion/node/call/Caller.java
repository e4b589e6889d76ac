package io.bastion.node.call;

import java.util.Objects;

/**
 * Who is calling, as the edge authenticated them: the virtual key whose policy, limits and budget
 * apply (null when anonymous access is allowed) and, for an OAuth access token, the token's subject
 * (null for a virtual key). A session is bound to both: another subject mapped to the same key
 * cannot use it.
 */
public record Caller(String keyName, String subject) {

  public static final Caller ANONYMOUS = new Caller(null, null);

  /** True when {@code session} was opened by this caller. */
  public boolean owns(SessionInfo session) {
    return Objects.equals(session.keyName(), keyName) && Objects.equals(session.subject(), subject);
  }
}
