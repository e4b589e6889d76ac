package io.bastion.node.http;

import io.bastion.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The admin token check of {@code /api/v1/...}: {@code Authorization: Bearer <admin.token>},
 * compared as SHA-256 digests in constant time.
 *
 * <ul>
 *   <li>{@link #refuse}: the admin API proper (audit, keys, teams, customers, groups). Without an
 *       {@code admin.token} in the config it is off: 404 saying so. Wrong or missing token: 401.
 *   <li>{@link #refuseOperator}: the read-only operator views ({@code /api/v1/servers},
 *       {@code /api/v1/cluster}). With a token configured: the same 401. Without one: open on a
 *       loopback bind (as before there was an admin token), 404 on any other bind.
 * </ul>
 */
public final class AdminGuard {
  private final byte[] tokenHash;
  private final boolean loopback;

  public AdminGuard(String adminToken, String host) {
    this.tokenHash = adminToken == null || adminToken.isEmpty() ? null : sha256(adminToken);
    this.loopback = isLoopback(host);
  }

  /** Empty when the request may use the admin API, else the refusal to send. */
  public Optional<HttpResponse> refuse(HttpRequest r) {
    if (tokenHash == null) {
      return Optional.of(EdgeResponses.json(StatusCodes.NOT_FOUND.intValue(), Json.object().put("error",
          "the admin API is disabled: set admin.token in the config to enable it")));
    }
    return checkToken(r);
  }

  /** As {@link #refuse}, but open without a configured token on a loopback bind. */
  public Optional<HttpResponse> refuseOperator(HttpRequest r) {
    if (tokenHash == null && loopback) {
      return Optional.empty();
    }
    return refuse(r);
  }

  private Optional<HttpResponse> checkToken(HttpRequest r) {
    String presented = r.getHeader("Authorization").map(HttpHeader::value)
        .filter(a -> a.regionMatches(true, 0, "Bearer ", 0, 7))
        .map(a -> a.substring(7).trim()).orElse("");
    if (MessageDigest.isEqual(sha256(presented), tokenHash)) {
      return Optional.empty();
    }
    return Optional.of(EdgeResponses.json(StatusCodes.UNAUTHORIZED.intValue(), Json.object().put("error",
            "Unauthorized: the admin API needs Authorization: Bearer <admin token>"))
        .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"bastion-admin\"")));
  }

  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    return h.equals("localhost") || h.equals("::1") || h.equals("[::1]") || h.startsWith("127.");
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
