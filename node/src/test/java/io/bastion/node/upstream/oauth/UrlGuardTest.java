package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The SSRF checks on URLs learned from upstreams, with a fixed name table instead of DNS. */
class UrlGuardTest {

  private static final Map<String, String> DNS = Map.of(
      "mcp.example.com", "93.184.216.34",
      "as.example.com", "93.184.216.35",
      "metadata.evil.example", "169.254.169.254",
      "ec2v6.evil.example", "fd00:ec2::254",
      "internal.example.com", "10.1.2.3",
      "ula.example.com", "fd12:3456::1",
      "cgnat.example.com", "100.64.1.1",
      "alibaba.evil.example", "100.100.100.200",
      "localhost", "127.0.0.1",
      "rebind.evil.example", "127.0.0.1");

  private static InetAddress[] resolve(String host) throws UnknownHostException {
    String ip = DNS.getOrDefault(host, host.matches("[0-9.]+|[0-9a-f:]+") ? host : null);
    if (ip == null) {
      throw new UnknownHostException(host);
    }
    return new InetAddress[] {InetAddress.getByName(ip)};
  }

  private final UrlGuard guard = new UrlGuard(Set.of(), UrlGuardTest::resolve);
  private static final URI PUBLIC_UPSTREAM = URI.create("https://mcp.example.com/mcp");
  private static final URI PRIVATE_UPSTREAM = URI.create("https://internal.example.com/mcp");
  private static final URI LOOPBACK_UPSTREAM = URI.create("http://127.0.0.1:8080/mcp");

  @Test
  void httpsOnPublicHostsIsAccepted() {
    assertThatCode(() -> guard.check(URI.create("https://as.example.com/token"), PUBLIC_UPSTREAM, "token endpoint",
        true)).doesNotThrowAnyException();
  }

  @Test
  void plainHttpIsRefusedExceptOnLoopbackForALoopbackUpstream() throws Exception {
    assertThatThrownBy(() -> guard.check(URI.create("http://as.example.com/token"), PUBLIC_UPSTREAM, "token endpoint",
        true)).isInstanceOf(OAuthFailure.class).hasMessageContaining("must use https");
    assertThatThrownBy(() -> guard.check(URI.create("http://127.0.0.1:9/token"), PUBLIC_UPSTREAM, "token endpoint",
        true)).hasMessageContaining("must use https");
    // Even the browser-only authorization endpoint must be https.
    assertThatThrownBy(() -> guard.check(URI.create("http://as.example.com/authorize"), PUBLIC_UPSTREAM,
        "authorization endpoint", false)).hasMessageContaining("must use https");
    guard.check(URI.create("http://127.0.0.1:9/token"), LOOPBACK_UPSTREAM, "token endpoint", true);
    guard.check(URI.create("http://localhost:9/token"), LOOPBACK_UPSTREAM, "token endpoint", true);
    assertThatThrownBy(() -> guard.check(URI.create("http://as.example.com/token"), LOOPBACK_UPSTREAM,
        "token endpoint", true)).hasMessageContaining("must use https");
  }

  @Test
  void linkLocalAndCloudMetadataAddressesAreAlwaysRefused() {
    for (String url : List.of("https://169.254.169.254/latest/meta-data", "https://metadata.evil.example/x",
        "https://[fd00:ec2::254]/latest", "https://ec2v6.evil.example/x", "https://[fe80::1]/x",
        "https://alibaba.evil.example/x", "https://0.0.0.0/x")) {
      for (URI upstream : List.of(PUBLIC_UPSTREAM, PRIVATE_UPSTREAM, LOOPBACK_UPSTREAM)) {
        assertThatThrownBy(() -> guard.check(URI.create(url), upstream, "resource_metadata URL", true))
            .as(url + " for " + upstream).isInstanceOf(OAuthFailure.class)
            .hasMessageContaining("link-local, metadata or unspecified");
      }
    }
  }

  @Test
  void aUrlMayNotReachFurtherInThanTheUpstream() throws Exception {
    // A public upstream cannot point at the node itself or the internal network.
    assertThatThrownBy(() -> guard.check(URI.create("https://rebind.evil.example/x"), PUBLIC_UPSTREAM,
        "authorization server", true)).hasMessageContaining("loopback address, and the upstream is public");
    for (String url : List.of("https://internal.example.com/x", "https://ula.example.com/x",
        "https://cgnat.example.com/x", "https://192.168.1.1/x", "https://172.16.0.1/x")) {
      assertThatThrownBy(() -> guard.check(URI.create(url), PUBLIC_UPSTREAM, "token endpoint", true))
          .as(url).hasMessageContaining("private address, and the upstream is public");
    }
    // A private upstream may use a private authorization server, not a loopback one.
    guard.check(URI.create("https://internal.example.com/token"), PRIVATE_UPSTREAM, "token endpoint", true);
    assertThatThrownBy(() -> guard.check(URI.create("https://localhost/x"), PRIVATE_UPSTREAM, "token endpoint",
        true)).hasMessageContaining("loopback address, and the upstream is private");
    // A loopback upstream (development) may use anything but link-local.
    guard.check(URI.create("https://internal.example.com/token"), LOOPBACK_UPSTREAM, "token endpoint", true);
    guard.check(URI.create("https://localhost/token"), LOOPBACK_UPSTREAM, "token endpoint", true);
  }

  @Test
  void theAuthorizationEndpointIsNotResolvedOnlyItsSchemeChecked() throws Exception {
    // Bastion never calls it (the operator's browser does): a name Bastion cannot resolve is fine.
    guard.check(URI.create("https://sso.corp.invalid/authorize"), PUBLIC_UPSTREAM, "authorization endpoint", false);
    assertThatThrownBy(() -> guard.check(URI.create("https://sso.corp.invalid/token"), PUBLIC_UPSTREAM,
        "token endpoint", true)).hasMessageContaining("cannot resolve");
  }

  @Test
  void trustedHostsSkipTheChecksAndOtherSchemesAreRefused() throws Exception {
    UrlGuard trusting = new UrlGuard(Set.of("Metadata.Evil.Example"), UrlGuardTest::resolve);
    trusting.check(URI.create("http://metadata.evil.example/x"), PUBLIC_UPSTREAM, "token endpoint", true);
    assertThatThrownBy(() -> trusting.check(URI.create("https://169.254.169.254/x"), PUBLIC_UPSTREAM,
        "token endpoint", true)).hasMessageContaining("link-local");
    new UrlGuard(Set.of("*"), UrlGuardTest::resolve)
        .check(URI.create("http://10.0.0.1/x"), PUBLIC_UPSTREAM, "token endpoint", true);
    assertThatThrownBy(() -> guard.check(URI.create("file:///etc/passwd"), PUBLIC_UPSTREAM, "token endpoint", true))
        .hasMessageContaining("not an http(s) URL");
    assertThatThrownBy(() -> guard.check(URI.create("ftp://as.example.com/x"), PUBLIC_UPSTREAM, "token endpoint",
        true)).hasMessageContaining("not an http(s) URL");
  }

  @Test
  void reachOfTheUpstreamIsItsFurthestInAddress() {
    assertThat(guard.reachOf(PUBLIC_UPSTREAM)).isEqualTo(UrlGuard.Reach.PUBLIC);
    assertThat(guard.reachOf(PRIVATE_UPSTREAM)).isEqualTo(UrlGuard.Reach.PRIVATE);
    assertThat(guard.reachOf(LOOPBACK_UPSTREAM)).isEqualTo(UrlGuard.Reach.LOOPBACK);
    assertThat(guard.reachOf(URI.create("https://unknown.invalid/mcp"))).isEqualTo(UrlGuard.Reach.PUBLIC);
  }
}
