package io.bastion.node.governance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.testkit.BastionTestCluster;
import io.bastion.node.testkit.BastionTestNode;
import io.bastion.node.testkit.Eventually;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.TcpProxy;
import io.bastion.protocol.Json;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * PostgreSQL goes away under a node (a TCP relay in front of the real server is cut: connections
 * reset, new ones refused) and comes back, and nothing needs a restart: a key without limits keeps
 * calling tools throughout; a key with limits whose counters cannot be reached is refused
 * (fail_closed, the default) or forwarded uncounted (fail_open); every call, refused or not, has
 * exactly one audit row once the store is back.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class StoreOutageTest {
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final List<String> databases = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    databases.forEach(BastionTestCluster::dropDatabase);
  }

  private record Setup(BastionTestNode node, TcpProxy proxy, String database) {}

  private Setup start(String policy) throws Exception {
    String db = BastionTestCluster.createDatabase();
    databases.add(db);
    TcpProxy proxy = new TcpProxy("127.0.0.1", 5432);
    toClose.add(proxy);
    String yaml = """
        store:
          type: postgres
          url: jdbc:postgresql://127.0.0.1:%d/%s?connectTimeout=2&socketTimeout=5
          user: %s
          limits_on_outage: %s
        audit: {flush_interval: 100ms}
        mcp:
          servers:
            - name: everything
              type: stdio
              command: ["%s", "%s", "stdio"]
              pricing: {default: 0.001}
        virtual_keys:
          - key_name: free
            key: vk-free-outage-1
            mcp_clients: [{name: everything, allowed_tools: ["*"]}]
          - key_name: capped
            key: vk-capped-outage-1
            mcp_clients: [{name: everything, allowed_tools: ["*"]}]
            budget: {max_usd: 1000, reset: 1d}
        """.formatted(proxy.port(), db, BastionTestCluster.PG_USER, policy, EverythingServer.nodeBinary(),
        EverythingServer.script());
    BastionTestNode node = BastionTestNode.startYaml(yaml, Map.of(), ConfigFactory.parseString(
        "bastion.node.ask-timeout = 3s"));
    toClose.add(node);
    node.awaitReady("everything");
    return new Setup(node, proxy, db);
  }

  private static GovClient client(BastionTestNode node, String key) {
    GovClient c = GovClient.mcp(node.baseUrl(), "/mcp", GovClient.bearer(key));
    assertThat(c.initialize()).isEqualTo(200);
    return c;
  }

  private static boolean echoed(ObjectNode r, String message) {
    return r.path("result").path("content").path(0).path("text").asText().equals("Echo: " + message);
  }

  private static ObjectNode echo(GovClient c, AtomicInteger calls, String message) {
    calls.incrementAndGet();
    return c.call("everything__echo", Json.object().put("message", message));
  }

  @Test
  void keysWithoutLimitsKeepWorkingLimitedOnesFailClosedAndEveryCallIsAudited() throws Exception {
    Setup s = start("fail_closed");
    GovClient free = client(s.node(), "vk-free-outage-1");
    AtomicInteger calls = new AtomicInteger();
    assertThat(echoed(echo(free, calls, "before"), "before")).isTrue();

    s.proxy().cut();
    // The capped key's counters were never loaded: they cannot be read from the store now.
    GovClient capped = client(s.node(), "vk-capped-outage-1");
    for (int i = 0; i < 30; i++) {
      ObjectNode r = echo(free, calls, "during " + i);
      assertThat(echoed(r, "during " + i)).as("free key during the outage: %s", r).isTrue();
    }
    for (int i = 0; i < 2; i++) {
      ObjectNode r = echo(capped, calls, "refused " + i);
      assertThat(r.path("error").path("message").asText()).as("capped key during the outage: %s", r)
          .contains("could not check this key's limits");
    }

    s.proxy().restore();
    Eventually.until(Duration.ofSeconds(90), () -> echoed(echo(capped, calls, "after"), "after"),
        "the capped key is served again once the store is back");
    assertThat(echoed(echo(free, calls, "after"), "after")).isTrue();

    // Every call has its audit row: those of the outage were kept and written when it ended.
    Eventually.until(Duration.ofSeconds(60), () -> auditRows(s.database()) == calls.get(),
        "audit rows equal the " + calls.get() + " calls made");
    Eventually.pause(Duration.ofMillis(500));
    assertThat(auditRows(s.database())).isEqualTo(calls.get());
  }

  @Test
  void failOpenForwardsALimitedKeysCallsUncountedWhileTheStoreIsAway() throws Exception {
    Setup s = start("fail_open");
    s.proxy().cut();
    GovClient capped = client(s.node(), "vk-capped-outage-1");
    AtomicInteger calls = new AtomicInteger();
    ObjectNode r = echo(capped, calls, "open");
    assertThat(echoed(r, "open")).as("capped key, fail_open, during the outage: %s", r).isTrue();
    s.proxy().restore();
    Eventually.until(Duration.ofSeconds(60), () -> auditRows(s.database()) == calls.get(),
        "the audit row of the call made during the outage");
  }

  private static int auditRows(String database) {
    try (Connection c = DriverManager.getConnection(BastionTestCluster.PG_ADMIN_URL + database,
        BastionTestCluster.PG_USER, "");
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM bastion_audit")) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      return -1;
    }
  }
}
