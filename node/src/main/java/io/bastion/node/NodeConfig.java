package io.bastion.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ClusterConfig;
import io.bastion.config.StoreConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns the user's YAML (the store, the listener, the cluster block) into the HOCON that configures Pekko, layered
 * over {@code reference.conf}: explicit overrides (tests, {@code -D} flags) win, then what the
 * YAML says, then the defaults.
 */
public final class NodeConfig {
  private NodeConfig() {}

  public static Config pekkoConfig(BastionConfig config, Config overrides) {
    Map<String, Object> m = new HashMap<>();
    String db = "pekko-persistence-jdbc.shared-databases.bastion";
    StoreConfig store = config.store();
    if (store.type() == StoreConfig.Type.POSTGRES) {
      m.put(db + ".profile", "slick.jdbc.PostgresProfile$");
      m.put(db + ".db.url", store.url());
      m.put(db + ".db.user", store.user() == null ? "postgres" : store.user());
      m.put(db + ".db.password", store.password() == null ? "" : store.password());
      m.put(db + ".db.driver", "org.postgresql.Driver");
    } else {
      Path dir = store.dataDir().toAbsolutePath().normalize();
      m.put(db + ".profile", "slick.jdbc.H2Profile$");
      m.put(db + ".db.url", store.url() != null ? store.url()
          : "jdbc:h2:file:" + dir.resolve("bastion") + ";DB_CLOSE_DELAY=-1");
      m.put(db + ".db.user", "sa");
      m.put(db + ".db.password", "");
      m.put(db + ".db.driver", "org.h2.Driver");
    }
    ClusterConfig cluster = config.cluster();
    m.put("pekko.remote.artery.canonical.hostname", cluster.host());
    m.put("pekko.remote.artery.canonical.port", cluster.port());
    m.put("pekko.cluster.seed-nodes", cluster.seedAddresses());
    ClusterConfig.Management mgmt = cluster.management();
    m.put("pekko.management.http.hostname", mgmt.host());
    m.put("pekko.management.http.port", mgmt.port());
    m.put("pekko.management.http.route-providers-read-only", false);
    m.put("bastion.cluster.management-enabled", mgmt.enabled());
    long max = config.gateway().maxRequestBytes();
    m.put("pekko.http.server.parsing.max-content-length", Long.toString(max));
    m.put("bastion.node.session-idle-timeout", config.gateway().sessionIdleTimeout().toMillis() + "ms");
    return overrides.withFallback(ConfigFactory.parseMap(m, "bastion config " + config.source()))
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  /** Overrides for a node that must not take fixed ports (tests, several nodes on one host). */
  public static Config ephemeralRemoting() {
    return ConfigFactory.empty()
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("pekko.cluster.jmx.multi-mbeans-in-same-jvm", ConfigValueFactory.fromAnyRef("on"));
  }
}
