package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SettingsParsingTest {

  @Test
  void gatewayKeysAreRead() {
    GatewayConfig g = Yaml.parse("""
        gateway:
          host: 0.0.0.0
          port: 0
          max_request_bytes: 512KiB
          allowed_origins: ["http://localhost:6274", "*"]
          session_idle_timeout: 1h
          public_url: https://mcp.example.com/
        """).gateway();

    assertThat(g).isEqualTo(new GatewayConfig("0.0.0.0", 0, 512 * 1024,
        java.util.List.of("http://localhost:6274", "*"), Duration.ofHours(1), URI.create("https://mcp.example.com/")));
    assertThat(g.allowsAnyOrigin()).isTrue();
    assertThat(g.withHostPort("127.0.0.1", 1234).port()).isEqualTo(1234);
    assertThat(g.withHostPort("127.0.0.1", 1234).maxRequestBytes()).isEqualTo(512 * 1024);
  }

  @Test
  void requestSizeAcceptsUnitsAndPlainBytesAboveOneKiB() {
    assertThat(Yaml.parse("gateway: {max_request_bytes: 4MiB}").gateway().maxRequestBytes()).isEqualTo(4 << 20);
    assertThat(Yaml.parse("gateway: {max_request_bytes: 2048}").gateway().maxRequestBytes()).isEqualTo(2048);
    assertThat(Yaml.problems("gateway: {max_request_bytes: 100}"))
        .containsExactly("gateway.max_request_bytes: expected a size from 1KiB to 1GiB, got \"100\"");
    assertThat(Yaml.problems("gateway: {max_request_bytes: 4MB}")).singleElement().asString()
        .startsWith("gateway.max_request_bytes: expected a size like 512KiB");
  }

  @Test
  void originWithAPathIsRejected() {
    assertThat(Yaml.problems("gateway: {allowed_origins: [\"http://localhost:6274/x\"]}")).singleElement()
        .asString().startsWith("gateway.allowed_origins[0]: expected an origin like http://localhost:6274");
  }

  @Test
  void postgresStoreNeedsAJdbcPostgresUrl() {
    assertThat(Yaml.problems("store: {type: postgres}")).singleElement().asString()
        .startsWith("store.url: is required for type postgres");
    assertThat(Yaml.problems("store: {type: postgres, url: \"postgres://h/db\"}")).containsExactly(
        "store.url: expected a URL starting with jdbc:postgresql://, got \"postgres://h/db\"");
    StoreConfig s = Yaml.parse("store: {type: postgres, url: \"jdbc:postgresql://h/db\", password: p}").store();
    assertThat(s.type()).isEqualTo(StoreConfig.Type.POSTGRES);
    assertThat(s.dataDir()).isNull();
    assertThat(s.toString()).doesNotContain("=p,");
  }

  @Test
  void storeDefaultsToH2UnderData() {
    assertThat(Yaml.parse("store: {}").store()).isEqualTo(StoreConfig.DEFAULT);
    assertThat(Yaml.parse("store: {data_dir: /var/lib/bastion}").store().dataDir())
        .isEqualTo(Path.of("/var/lib/bastion"));
    assertThat(Yaml.problems("store: {type: mysql}"))
        .containsExactly("store.type: expected one of: h2, postgres; got \"mysql\"");
  }

  @Test
  void limitedKeysFailClosedOnAStoreOutageUnlessToldOtherwise() {
    assertThat(Yaml.parse("store: {}").store().limitsOnOutage()).isEqualTo(StoreConfig.OnOutage.FAIL_CLOSED);
    assertThat(Yaml.parse("store: {limits_on_outage: fail_open}").store().limitsOnOutage())
        .isEqualTo(StoreConfig.OnOutage.FAIL_OPEN);
    assertThat(Yaml.problems("store: {limits_on_outage: maybe}"))
        .containsExactly("store.limits_on_outage: expected one of: fail_closed, fail_open; got \"maybe\"");
  }

  @Test
  void auditKeysAreReadAndChecked() {
    AuditConfig a = Yaml.parse("audit: {arguments: off, queue_size: 100, batch_size: 10, flush_interval: 250ms,"
        + " redact_keys: [ssn]}").audit();
    assertThat(a).isEqualTo(new AuditConfig(AuditConfig.Arguments.OFF, 100, 10, Duration.ofMillis(250),
        java.util.List.of("ssn")));
    assertThat(Yaml.parse("audit: {arguments: \"off\"}").audit().arguments()).isEqualTo(AuditConfig.Arguments.OFF);
    assertThat(Yaml.problems("audit: {arguments: true}"))
        .containsExactly("audit.arguments: expected a string, got a boolean");
    assertThat(Yaml.problems("audit: {arguments: everything}"))
        .containsExactly("audit.arguments: expected one of: full, redacted, hashed, off; got \"everything\"");
    assertThat(Yaml.problems("audit: {queue_size: 10, batch_size: 20}"))
        .containsExactly("audit.batch_size: must not be greater than queue_size (20 > 10)");
  }

  @Test
  void adminTokenMustBeLongEnough() {
    assertThat(Yaml.problems("admin: {token: short}")).containsExactly(
        "admin.token: too short: the admin token needs at least 16 characters, this one has 5");
    assertThat(Yaml.parse("admin: {token: \"${NOPE:-}\"}").adminToken()).isNull();
  }
}
