package io.bastion.node.http;

import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The operator console: static files (plain ES modules, no build step) from the node jar's
 * {@code console/} resources, at {@code /console/} on every node, same origin as the admin API it
 * calls. The files hold no secret, so they are served without the admin token; every call the page
 * makes sends the token the operator typed ({@code docs/console.md}). The Content-Security-Policy
 * lets the page load and call nothing but this origin.
 */
public final class ConsoleRoutes extends AllDirectives {
  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
  private static final List<HttpHeader> HEADERS = List.of(
      RawHeader.create("Content-Security-Policy", CSP),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Referrer-Policy", "no-referrer"),
      RawHeader.create("X-Frame-Options", "DENY"),
      RawHeader.create("Cache-Control", "no-cache"));

  public Route route() {
    return concat(
        path("console", () -> redirect(org.apache.pekko.http.javadsl.model.Uri.create("/console/"),
            StatusCodes.PERMANENT_REDIRECT)),
        pathPrefix("console", () -> get(() -> respondWithHeaders(HEADERS, () -> concat(
            pathSingleSlash(() -> getFromResource("console/index.html")),
            getFromResourceDirectory("console"))))));
  }
}
