package io.bastion.node.upstream.oauth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class WwwAuthenticateTest {

  @Test
  void readsResourceMetadataScopeAndError() {
    WwwAuthenticate w = WwwAuthenticate.parse("Bearer error=\"insufficient_scope\", scope=\"files:read files:write\","
        + " resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"");

    assertThat(w.resourceMetadata()).isEqualTo(URI.create("https://mcp.example.com/.well-known/oauth-protected-resource/mcp"));
    assertThat(w.scope()).isEqualTo("files:read files:write");
    assertThat(w.error()).isEqualTo("insufficient_scope");
  }

  @Test
  void findsTheBearerChallengeAmongOthersAndToleratesTokensWithoutQuotes() {
    WwwAuthenticate w = WwwAuthenticate.parse("Basic realm=\"x\", Bearer realm=mcp, resource_metadata=https://a/b");

    assertThat(w.resourceMetadata()).isEqualTo(URI.create("https://a/b"));
    assertThat(w.scope()).isNull();
  }

  @Test
  void noHeaderOrNoBearerMeansNothing() {
    assertThat(WwwAuthenticate.parse(null)).isEqualTo(WwwAuthenticate.NONE);
    assertThat(WwwAuthenticate.parse("Basic realm=\"x\"")).isEqualTo(WwwAuthenticate.NONE);
  }
}
