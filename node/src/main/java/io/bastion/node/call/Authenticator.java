package io.bastion.node.call;

import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/** Resolves the caller's virtual key from a request (Bearer, x-api-key, x-bf-vk, or an OAuth token). */
public interface Authenticator {

  /** The key name, empty when anonymous access is allowed; throws {@link Unauthorized} when refused. */
  Optional<String> authenticate(HttpRequest request, String group);

  /**
   * The caller: its key and, when it presented an OAuth access token, the token's subject. By
   * default the key of {@link #authenticate} with no subject.
   */
  default Caller identify(HttpRequest request, String group) {
    return new Caller(authenticate(request, group).orElse(null), null);
  }

  /**
   * Refusal: {@link Fault#CLIENT_UNAUTHENTICATED} (no or wrong key, 401), {@link
   * Fault#POLICY_GROUP_FORBIDDEN} (403), or one of the OAuth faults; {@code challenge} is the
   * {@code WWW-Authenticate} value to send (null: the edge's default for the fault).
   */
  final class Unauthorized extends RuntimeException {
    private final Fault fault;
    private final String challenge;

    public Unauthorized(Fault fault, String message) {
      this(fault, message, null);
    }

    public Unauthorized(Fault fault, String message, String challenge) {
      super(message, null, false, false);
      this.fault = fault;
      this.challenge = challenge;
    }

    public Fault fault() {
      return fault;
    }

    /** The {@code WWW-Authenticate} header value, or null for the default. */
    public String challenge() {
      return challenge;
    }
  }
}
