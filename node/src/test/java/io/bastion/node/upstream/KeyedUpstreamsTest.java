package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.bastion.config.OAuthConfig;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class KeyedUpstreamsTest {

  private static final ServerConfig SHARED = ServerConfig.remote("linear", TransportType.HTTP,
      URI.create("https://mcp.example.com/mcp")).withOAuth(OAuthConfig.discovered());
  private static final ServerConfig PER_KEY = ServerConfig.remote("github", TransportType.HTTP,
      URI.create("https://gh.example.com/mcp")).withOAuth(new OAuthConfig(null, null, null, null, null, null, null,
          null, null, null, null, true));
  private static final Map<String, ServerConfig> SERVERS = Map.of("linear", SHARED, "github", PER_KEY);
  private final Function<String, Optional<ServerConfig>> configs =
      KeyedUpstreams.configs(n -> Optional.ofNullable(SERVERS.get(n)), Set.of("alice", "ops@team")::contains);

  @Test
  void entityIdsSplitAtTheFirstSeparator() {
    assertThat(KeyedUpstreams.entityId("github", "ops@team")).isEqualTo("github@ops@team");
    assertThat(KeyedUpstreams.server("github@ops@team")).isEqualTo("github");
    assertThat(KeyedUpstreams.key("github@ops@team")).isEqualTo("ops@team");
    assertThat(KeyedUpstreams.isKeyed("github")).isFalse();
    assertThat(KeyedUpstreams.server("github")).isEqualTo("github");
    assertThat(KeyedUpstreams.key("github")).isNull();
  }

  @Test
  void aKeyOfAPerKeyServerGetsTheServersConfigUnderItsOwnName() {
    ServerConfig alice = configs.apply("github@alice").orElseThrow();
    assertThat(alice.name()).isEqualTo("github@alice");
    assertThat(alice.toolPrefix()).isEqualTo("github");
    assertThat(alice.withName("github")).isEqualTo(PER_KEY);
    assertThat(configs.apply("github@ops@team")).isPresent();
    assertThat(configs.apply("github")).contains(PER_KEY);
  }

  @Test
  void unknownKeysSharedServersAndUnknownServersHaveNone() {
    assertThat(configs.apply("github@mallory")).isEmpty();
    assertThat(configs.apply("github@")).isEmpty();
    assertThat(configs.apply("linear@alice")).isEmpty();
    assertThat(configs.apply("nope@alice")).isEmpty();
    assertThat(KeyedUpstreams.perKey(SHARED)).isFalse();
    assertThat(KeyedUpstreams.perKey(PER_KEY)).isTrue();
  }
}
