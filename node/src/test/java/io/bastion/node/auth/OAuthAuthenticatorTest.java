package io.bastion.node.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.JWTClaimsSet;
import io.bastion.config.BastionConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.node.governance.KeyDirectory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pieces of the resource server that need no network: mapping, scopes, challenges, URLs. */
class OAuthAuthenticatorTest {

  private static BastionConfig config(String oauth) {
    return ConfigLoader.parse("""
        gateway:
          public_url: https://bastion.example.com/
          oauth:
        %s
        virtual_keys:
          - {key_name: ci, key: vk-ci-0123456789}
          - {key_name: eng, key: vk-eng-0123456789}
          - {key_name: fallback, key: vk-fallback-0123456789}
        """.formatted(oauth.indent(4)), Path.of("t.yaml"), Map.of());
  }

  private static OAuthAuthenticator authenticator(BastionConfig c) {
    return new OAuthAuthenticator(c.gateway().oauth(), new KeyDirectory(c), new ProtectedResource(c.gateway()));
  }

  @Test
  void firstMatchingMappingWinsAndListClaimsMatchByMembership() {
    OAuthAuthenticator a = authenticator(config("""
        issuer: https://idp.example.com
        mappings:
          - {claim: client_id, value: ci-agent, key: ci}
          - {claim: groups, value: engineers, key: eng}
          - {claim: tier, value: 3, key: ci}
        default_key: fallback
        """));

    assertThat(a.mappedKey(new JWTClaimsSet.Builder().claim("client_id", "ci-agent")
        .claim("groups", List.of("engineers")).build())).isEqualTo("ci");
    assertThat(a.mappedKey(new JWTClaimsSet.Builder().claim("groups", List.of("sales", "engineers")).build()))
        .isEqualTo("eng");
    assertThat(a.mappedKey(new JWTClaimsSet.Builder().claim("tier", 3).build())).isEqualTo("ci");
    assertThat(a.mappedKey(new JWTClaimsSet.Builder().subject("someone").build())).isEqualTo("fallback");
  }

  @Test
  void withoutADefaultKeyAnUnmappedTokenHasNoKey() {
    OAuthAuthenticator a = authenticator(config("issuer: https://idp.example.com"));
    assertThat(a.mappedKey(new JWTClaimsSet.Builder().subject("someone").build())).isNull();
  }

  @Test
  void scopesComeFromScopeOrScp() {
    assertThat(OAuthAuthenticator.scopes(new JWTClaimsSet.Builder().claim("scope", " mcp:tools  openid ").build()))
        .containsExactlyInAnyOrder("mcp:tools", "openid");
    assertThat(OAuthAuthenticator.scopes(new JWTClaimsSet.Builder().claim("scp", List.of("mcp:tools")).build()))
        .containsExactly("mcp:tools");
    assertThat(OAuthAuthenticator.scopes(new JWTClaimsSet.Builder().build())).isEmpty();
  }

  @Test
  void challengesFollowRfc6750AndPointAtTheMetadata() {
    OAuthAuthenticator a = authenticator(config("""
        issuer: https://idp.example.com
        required_scopes: [mcp:tools, mcp:read]
        """));

    assertThat(a.challenge(null, null, null, true)).isEqualTo("Bearer scope=\"mcp:tools mcp:read\", "
        + "resource_metadata=\"https://bastion.example.com/.well-known/oauth-protected-resource/mcp\"");
    assertThat(a.challenge("ops", "invalid_token", "a \"quoted\" reason", false)).isEqualTo(
        "Bearer error=\"invalid_token\", error_description=\"a 'quoted' reason\", "
            + "resource_metadata=\"https://bastion.example.com/.well-known/oauth-protected-resource/mcp/ops\"");
  }

  @Test
  void resourceComesFromTheConfigThePublicUrlOrTheBoundAddress() {
    BastionConfig explicit = config("""
        issuer: https://idp.example.com
        resource: https://gw.example.com/tenant-a/mcp
        """);
    ProtectedResource r = new ProtectedResource(explicit.gateway());
    assertThat(r.resource(null)).isEqualTo("https://gw.example.com/tenant-a/mcp");
    assertThat(r.metadataUrl("ops"))
        .isEqualTo("https://gw.example.com/.well-known/oauth-protected-resource/tenant-a/mcp/ops");
    assertThat(r.groupOfMetadataPath("/.well-known/oauth-protected-resource/tenant-a/mcp")).isEmpty();
    assertThat(r.groupOfMetadataPath("/.well-known/oauth-protected-resource/tenant-a/mcp/ops")).isEqualTo("ops");
    assertThat(r.groupOfMetadataPath("/.well-known/oauth-protected-resource")).isEmpty();
    assertThat(r.groupOfMetadataPath("/.well-known/oauth-protected-resource/other")).isNull();

    assertThat(new ProtectedResource(config("issuer: https://idp.example.com").gateway()).resource(null))
        .isEqualTo("https://bastion.example.com/mcp");

    BastionConfig none = ConfigLoader.parse("gateway: {oauth: {issuer: \"https://idp.example.com\"}}",
        Path.of("t.yaml"), Map.of());
    ProtectedResource bound = new ProtectedResource(none.gateway());
    assertThat(bound.resource(null)).isNull();
    bound.bound(new InetSocketAddress("127.0.0.1", 18080));
    assertThat(bound.resource("ops")).isEqualTo("http://127.0.0.1:18080/mcp/ops");
  }

  @Test
  void authorizationServerMetadataIsLookedUpInTheSpecsOrder() {
    assertThat(JwksLocation.candidates(URI.create("https://idp.example.com/realms/a"))).containsExactly(
        URI.create("https://idp.example.com/.well-known/oauth-authorization-server/realms/a"),
        URI.create("https://idp.example.com/realms/a/.well-known/openid-configuration"),
        URI.create("https://idp.example.com/.well-known/openid-configuration/realms/a"),
        URI.create("https://idp.example.com/realms/a/.well-known/oauth-authorization-server"));
    assertThat(JwksLocation.candidates(URI.create("https://idp.example.com"))).containsExactly(
        URI.create("https://idp.example.com/.well-known/oauth-authorization-server"),
        URI.create("https://idp.example.com/.well-known/openid-configuration"));
  }

  @Test
  void onlyJwtShapedCredentialsAreTreatedAsTokens() {
    assertThat(TokenVerifier.looksLikeJwt("vk-ci-0123456789")).isFalse();
    assertThat(TokenVerifier.looksLikeJwt("a.b.c")).isFalse();
    assertThat(TokenVerifier.looksLikeJwt(new com.nimbusds.jwt.PlainJWT(
        new JWTClaimsSet.Builder().subject("x").build()).serialize())).isTrue();
  }
}
