package io.bastion.node.auth;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.ResourceServerConfig;
import io.bastion.protocol.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the authorization server's signing keys are: {@code gateway.oauth.jwks_url} when set, else
 * the {@code jwks_uri} of its metadata, looked up in the order RFC 8414 §3.1 and OpenID Connect
 * Discovery give: {@code /.well-known/oauth-authorization-server} inserted before the issuer's
 * path, {@code /.well-known/openid-configuration} appended to it, then inserted before it. The
 * metadata's {@code issuer} must equal the configured one (RFC 8414 §3.3).
 */
final class JwksLocation {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private JwksLocation() {}

  /** The JWKS URL; blocking (call off the request path, or accept the wait once). */
  static URL resolve(ResourceServerConfig config, HttpClient http) throws IOException {
    if (config.jwksUrl() != null) {
      return config.jwksUrl().toURL();
    }
    List<String> tried = new ArrayList<>();
    IOException last = null;
    for (URI candidate : candidates(config.issuer())) {
      tried.add(candidate.toString());
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(candidate).timeout(TIMEOUT)
            .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          continue;
        }
        JsonNode m = Json.MAPPER.readTree(r.body());
        String issuer = m.path("issuer").asText("");
        if (!sameIssuer(issuer, config.issuer().toString())) {
          throw new IOException("the metadata at " + candidate + " names issuer " + issuer + ", not "
              + config.issuer());
        }
        String jwks = m.path("jwks_uri").asText(null);
        if (jwks == null) {
          throw new IOException("the metadata at " + candidate + " has no jwks_uri");
        }
        return URI.create(jwks).toURL();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        // not metadata: try the next form
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("the metadata at")) {
          throw e;
        }
        last = e; // unreachable or too slow: try the next form
      }
    }
    throw new IOException("no authorization server metadata for issuer " + config.issuer() + " at " + tried
        + (last == null ? "" : " (last failure: " + last.getClass().getSimpleName() + ")")
        + "; set gateway.oauth.jwks_url");
  }

  private static boolean sameIssuer(String a, String b) {
    return strip(a).equals(strip(b));
  }

  private static String strip(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  static List<URI> candidates(URI issuer) {
    String origin = issuer.getScheme() + "://" + issuer.getRawAuthority();
    String path = issuer.getRawPath() == null ? "" : strip(issuer.getRawPath());
    List<URI> list = new ArrayList<>();
    list.add(URI.create(origin + "/.well-known/oauth-authorization-server" + path));
    list.add(URI.create(origin + path + "/.well-known/openid-configuration"));
    if (!path.isEmpty()) {
      list.add(URI.create(origin + "/.well-known/openid-configuration" + path));
      list.add(URI.create(origin + path + "/.well-known/oauth-authorization-server"));
    }
    return list;
  }
}
