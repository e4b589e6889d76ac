package io.bastion.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code store:}: where journal, snapshots and audit records live.
 *
 * @param type {@link Type#H2} (default, embedded) or {@link Type#POSTGRES}
 * @param url JDBC URL; required for postgres ({@code jdbc:postgresql://...}); for h2 null means a
 *     file database under {@code dataDir}
 * @param user database user, or null
 * @param password database password, or null; never printed by {@link #toString()}
 * @param dataDir h2 only: directory of the database files (default {@code ./data}); null for postgres
 * @param limitsOnOutage what a call of a key with budgets or rate limits gets when its counters
 *     cannot be reached (the store is down): refused ({@link OnOutage#FAIL_CLOSED}, the default) or
 *     forwarded uncounted ({@link OnOutage#FAIL_OPEN}). Keys without limits never touch the store.
 */
public record StoreConfig(Type type, String url, String user, String password, Path dataDir,
    OnOutage limitsOnOutage) {

  public static final Path DEFAULT_DATA_DIR = Path.of("./data");
  public static final StoreConfig DEFAULT = new StoreConfig(Type.H2, null, null, null, DEFAULT_DATA_DIR);

  /** {@code store.limits_on_outage}: {@code fail_closed | fail_open}. */
  public enum OnOutage {
    FAIL_CLOSED("fail_closed"),
    FAIL_OPEN("fail_open");

    private final String yamlName;

    OnOutage(String yamlName) {
      this.yamlName = yamlName;
    }

    public String yamlName() {
      return yamlName;
    }
  }

  /** A store whose limited keys fail closed on an outage. */
  public StoreConfig(Type type, String url, String user, String password, Path dataDir) {
    this(type, url, user, password, dataDir, OnOutage.FAIL_CLOSED);
  }

  /** {@code h2 | postgres}. */
  public enum Type {
    H2("h2"),
    POSTGRES("postgres");

    private final String yamlName;

    Type(String yamlName) {
      this.yamlName = yamlName;
    }

    public String yamlName() {
      return yamlName;
    }
  }

  public StoreConfig {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(limitsOnOutage, "limitsOnOutage");
  }

  @Override
  public String toString() {
    return "StoreConfig[type=" + type.yamlName() + ", url=" + url + ", user=" + user + ", password="
        + (password == null ? null : "***") + ", dataDir=" + dataDir + ", limitsOnOutage=" + limitsOnOutage.yamlName()
        + "]";
  }
}
