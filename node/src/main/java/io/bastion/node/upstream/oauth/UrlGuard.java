package io.bastion.node.upstream.oauth;

import io.bastion.config.Urls;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * SSRF checks on the URLs an upstream makes Bastion fetch or send secrets to: the challenge's
 * {@code resource_metadata}, the {@code authorization_servers} of its RFC 9728 metadata, and the
 * endpoints of the authorization server's metadata. A URL learned from an upstream must:
 *
 * <ul>
 *   <li>be {@code https}; {@code http} only when its host is loopback and the upstream itself is
 *       loopback (a local development setup);
 *   <li>never resolve to a link-local, cloud metadata, unspecified or multicast address
 *       ({@code 169.254.0.0/16}, {@code fe80::/10}, {@code fd00:ec2::254}, {@code 100.100.100.200},
 *       {@code 0.0.0.0}, …);
 *   <li>not reach further in than the upstream: a loopback address only for a loopback upstream, a
 *       private one ({@code 10/8}, {@code 172.16/12}, {@code 192.168/16}, {@code 100.64/10},
 *       {@code fc00::/7}) only for a private or loopback upstream. A public upstream can thus not
 *       point Bastion at the node itself or its internal network.
 * </ul>
 *
 * <p>Hosts in {@code bastion.upstream-oauth.trusted-hosts} ({@code "*"}: all) skip these checks
 * (development, tests, an authorization server on an unusual address). URLs the operator wrote in
 * the configuration (the server's {@code url}, {@code authorization_server}) are trusted as they
 * are. The check resolves names once; the HTTP client resolves them again, so a DNS answer that
 * changes in between (rebinding) is not caught.
 */
public final class UrlGuard {

  /** How far into the network an address reaches. */
  enum Reach { PUBLIC, PRIVATE, LOOPBACK }

  /** Resolves a host name (tests substitute one). */
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  /** Cloud metadata addresses outside the link-local ranges. */
  private static final Set<String> METADATA = Set.of("fd00:ec2:0:0:0:0:0:254", "100.100.100.200");

  private final Set<String> trustedHosts;
  private final Resolver resolver;

  public UrlGuard(Collection<String> trustedHosts) {
    this(trustedHosts, InetAddress::getAllByName);
  }

  UrlGuard(Collection<String> trustedHosts, Resolver resolver) {
    this.trustedHosts = trustedHosts.stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
    this.resolver = resolver;
  }

  /** No trusted hosts. */
  public static UrlGuard strict() {
    return new UrlGuard(Set.of());
  }

  /**
   * Checks {@code url}, learned from upstream {@code upstream}; {@code what} names it in the
   * error. {@code fetched}: false for a URL Bastion never calls itself (the authorization
   * endpoint, opened by the operator's browser): then only its scheme is checked.
   */
  public void check(URI url, URI upstream, String what, boolean fetched) throws OAuthFailure {
    if (url == null) {
      return;
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    String host = url.getHost() == null ? null : unbracket(url.getHost().toLowerCase(Locale.ROOT));
    if (host == null || !(scheme.equals("https") || scheme.equals("http"))) {
      throw refused(url, what, "not an http(s) URL with a host");
    }
    if (trustedHosts.contains("*") || trustedHosts.contains(host)) {
      return;
    }
    Reach upstreamReach = reachOf(upstream);
    if (scheme.equals("http") && !(upstreamReach == Reach.LOOPBACK && isLoopbackName(host))) {
      throw refused(url, what, "it must use https (http only on loopback, for a loopback upstream)");
    }
    if (!fetched) {
      return;
    }
    InetAddress[] addresses;
    try {
      addresses = resolver.resolve(host);
    } catch (UnknownHostException e) {
      throw new OAuthFailure("cannot resolve the host of the " + what + " " + Urls.redact(url), false);
    }
    for (InetAddress a : addresses) {
      if (forbidden(a)) {
        throw refused(url, what, "it resolves to a link-local, metadata or unspecified address");
      }
      Reach r = reach(a);
      if (r.compareTo(upstreamReach) > 0) {
        throw refused(url, what, "it resolves to a " + (r == Reach.LOOPBACK ? "loopback" : "private")
            + " address, and the upstream is " + upstreamReach.name().toLowerCase(Locale.ROOT)
            + " (add the host to bastion.upstream-oauth.trusted-hosts if this is intended)");
      }
    }
  }

  /** The reach of the upstream's own host: the furthest-in of its addresses (loopback if unresolvable names stay local). */
  Reach reachOf(URI upstream) {
    String host = upstream == null || upstream.getHost() == null ? null : unbracket(upstream.getHost());
    if (host == null) {
      return Reach.PUBLIC;
    }
    Reach out = Reach.PUBLIC;
    try {
      for (InetAddress a : resolver.resolve(host)) {
        Reach r = reach(a);
        out = r.compareTo(out) > 0 ? r : out;
      }
    } catch (UnknownHostException e) {
      return Reach.PUBLIC;
    }
    return out;
  }

  static boolean forbidden(InetAddress a) {
    return a.isLinkLocalAddress() || a.isAnyLocalAddress() || a.isMulticastAddress()
        || METADATA.contains(a.getHostAddress().toLowerCase(Locale.ROOT).replaceAll("%.*$", ""));
  }

  static Reach reach(InetAddress a) {
    if (a.isLoopbackAddress()) {
      return Reach.LOOPBACK;
    }
    byte[] b = a.getAddress();
    boolean uniqueLocal = a instanceof Inet6Address && (b[0] & 0xfe) == 0xfc;
    boolean sharedSpace = b.length == 4 && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64;
    return a.isSiteLocalAddress() || uniqueLocal || sharedSpace ? Reach.PRIVATE : Reach.PUBLIC;
  }

  private static boolean isLoopbackName(String host) {
    return host.equals("localhost") || host.equals("::1") || host.startsWith("127.");
  }

  private static String unbracket(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private static OAuthFailure refused(URI url, String what, String why) {
    return new OAuthFailure("the " + what + " " + Urls.redact(url) + " is refused: " + why, false);
  }
}
