package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code gateway.oauth}: the resource-server block, its defaults and its path-precise errors. */
class OAuthParsingTest {

  private static final String KEYS = """
      virtual_keys:
        - {key_name: ci, key: vk-ci-0123456789}
        - {key_name: humans, key: vk-humans-0123456789}
      """;

  @Test
  void fullBlockIsRead() {
    BastionConfig c = Yaml.parse("""
        gateway:
          public_url: https://bastion.example.com
          oauth:
            issuer: https://idp.example.com/realms/agents
            jwks_url: https://idp.example.com/realms/agents/certs
            resource: https://bastion.example.com/mcp
            audiences: ["api://bastion"]
            required_scopes: [mcp:tools, openid]
            clock_skew: 30s
            subject_claim: client_id
            mappings:
              - {claim: client_id, value: ci-agent, key: ci}
              - {claim: groups, value: engineers, key: humans}
            default_key: humans
        """ + KEYS);

    ResourceServerConfig o = c.gateway().oauth();
    assertThat(o).isEqualTo(new ResourceServerConfig(URI.create("https://idp.example.com/realms/agents"),
        URI.create("https://idp.example.com/realms/agents/certs"), URI.create("https://bastion.example.com/mcp"),
        List.of("api://bastion"), List.of("mcp:tools", "openid"), Duration.ofSeconds(30), "client_id",
        List.of(new ResourceServerConfig.Mapping("client_id", "ci-agent", "ci"),
            new ResourceServerConfig.Mapping("groups", "engineers", "humans")), "humans"));
    assertThat(c.warnings()).noneMatch(w -> w.startsWith("gateway"));
  }

  @Test
  void onlyTheIssuerIsRequiredAndTheRestHasDefaults() {
    ResourceServerConfig o = Yaml.parse("gateway: {oauth: {issuer: \"https://idp.example.com\"}}\n" + KEYS)
        .gateway().oauth();

    assertThat(o.jwksUrl()).isNull();
    assertThat(o.resource()).isNull();
    assertThat(o.audiences()).isEmpty();
    assertThat(o.requiredScopes()).isEmpty();
    assertThat(o.clockSkew()).isEqualTo(Duration.ofSeconds(60));
    assertThat(o.subjectClaim()).isEqualTo("sub");
    assertThat(o.mappings()).isEmpty();
    assertThat(o.defaultKey()).isNull();
  }

  @Test
  void withoutTheBlockOnlyKeysAuthenticate() {
    assertThat(Yaml.parse(KEYS).gateway().oauth()).isNull();
  }

  @Test
  void missingIssuerAndUnknownKeysAreReportedWithTheirPath() {
    assertThat(Yaml.problems("gateway: {oauth: {jwks: \"https://idp/certs\"}}")).containsExactlyInAnyOrder(
        "gateway.oauth.jwks: unknown key; expected one of: issuer, jwks_url, resource, audiences,"
            + " required_scopes, clock_skew, subject_claim, mappings, default_key",
        "gateway.oauth.issuer: is required: the authorization server's issuer URL (what tokens carry as iss)");
  }

  @Test
  void badValuesAreReportedWithTheirPath() {
    assertThat(Yaml.problems("""
        gateway:
          oauth:
            issuer: "ftp://idp.example.com"
            resource: "https://bastion.example.com/mcp?x=1"
            clock_skew: 10m
            required_scopes: ["mcp tools"]
            subject_claim: "a b"
            mappings:
              - {claim: sub, key: ci}
              - {claim: sub, value: x, key: ci, team: t}
            default_key: ""
        """)).containsExactlyInAnyOrder(
        "gateway.oauth.issuer: expected an http(s) URL, got \"ftp://idp.example.com\"",
        "gateway.oauth.resource: a resource URL must not have a query or fragment (RFC 8707), got"
            + " \"https://bastion.example.com/mcp?x=1\"",
        "gateway.oauth.clock_skew: expected at most 5m (a larger skew keeps expired tokens alive), got \"10m\"",
        "gateway.oauth.required_scopes[0]: expected a scope token (printable ASCII, no spaces, quotes or"
            + " backslashes), got \"mcp tools\"",
        "gateway.oauth.subject_claim: expected a claim name like sub or client_id, got \"a b\"",
        "gateway.oauth.mappings[0].value: is required: the claim value that selects the key",
        "gateway.oauth.mappings[1].team: unknown key; expected one of: claim, value, key",
        "gateway.oauth.default_key: must not be empty (leave it out to refuse tokens no mapping matches)");
  }

  @Test
  void blockThatIsNotAMapIsReported() {
    assertThat(Yaml.problems("gateway: {oauth: true}")).singleElement().asString()
        .startsWith("gateway.oauth: expected a map with keys issuer, jwks_url");
  }

  @Test
  void mappingsToUndefinedKeysAndPlainHttpAreWarnings() {
    BastionConfig c = Yaml.parse("""
        gateway:
          oauth:
            issuer: http://idp.internal:8080/realms/a
            mappings: [{claim: sub, value: alice, key: nobody}]
            default_key: ghost
        """ + KEYS);

    assertThat(c.warnings()).anySatisfy(w -> assertThat(w).startsWith(
        "gateway.oauth.issuer: plain http outside loopback"));
    assertThat(c.warnings()).anySatisfy(w -> assertThat(w).startsWith(
        "gateway.oauth.mappings[0].key: no virtual key \"nobody\" is defined in this file"));
    assertThat(c.warnings()).anySatisfy(w -> assertThat(w).startsWith(
        "gateway.oauth.default_key: no virtual key \"ghost\" is defined in this file"));
  }

  @Test
  void issuerAndResourceComeFromTheEnvironment() {
    ResourceServerConfig o = Yaml.parse("""
        gateway:
          oauth: {issuer: "${IDP}", resource: "${IDP}/mcp"}
        """ + KEYS, java.util.Map.of("IDP", "http://127.0.0.1:9000")).gateway().oauth();

    assertThat(o.issuer()).isEqualTo(URI.create("http://127.0.0.1:9000"));
    assertThat(o.resource()).isEqualTo(URI.create("http://127.0.0.1:9000/mcp"));
  }
}
