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
 */
public record StoreConfig(Type type, String url, String user, String password, Path dataDir) {

  public static final Path DEFAULT_DATA_DIR = Path.of("./data");
  public static final StoreConfig DEFAULT = new StoreConfig(Type.H2, null, null, null, DEFAULT_DATA_DIR);

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
  }

  @Override
  public String toString() {
    return "StoreConfig[type=" + type.yamlName() + ", url=" + url + ", user=" + user + ", password="
        + (password == null ? null : "***") + ", dataDir=" + dataDir + "]";
  }
}
