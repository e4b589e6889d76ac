package io.bastion.node.upstream.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** A legacy SSE upstream may only announce a POST endpoint on its own origin (the POSTs carry its headers). */
class LegacySseEndpointOriginTest {

  @Test
  void relativeAndSameOriginEndpointsAreAcceptedOthersAreNot() {
    URI base = URI.create("http://127.0.0.1:3001/sse");
    assertThat(LegacySseTransport.sameOrigin(base.resolve("/message?sessionId=1"), base)).isTrue();
    assertThat(LegacySseTransport.sameOrigin(URI.create("http://127.0.0.1:3001/x"), base)).isTrue();
    assertThat(LegacySseTransport.sameOrigin(URI.create("http://127.0.0.1:3002/x"), base)).isFalse();
    assertThat(LegacySseTransport.sameOrigin(URI.create("https://evil.example/x"), base)).isFalse();
    assertThat(LegacySseTransport.sameOrigin(URI.create("https://h/x"), URI.create("https://h:443/sse"))).isTrue();
  }
}
