package io.bastion.node.call;

import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/** Resolves the caller's virtual key from a request (Bearer, x-api-key, x-bf-vk). */
public interface Authenticator {

  /** The key name, empty when anonymous access is allowed; throws {@link Unauthorized} when refused. */
  Optional<String> authenticate(HttpRequest request, String group);

  /** Refusal: {@link Fault#CLIENT_UNAUTHENTICATED} (no or wrong key, 401) or {@link Fault#POLICY_GROUP_FORBIDDEN} (403). */
  final class Unauthorized extends RuntimeException {
    private final Fault fault;

    public Unauthorized(Fault fault, String message) {
      super(message, null, false, false);
      this.fault = fault;
    }

    public Fault fault() {
      return fault;
    }
  }
}
