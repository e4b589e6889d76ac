package io.bastion.persistence;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;

/**
 * The node's store as plain JDBC coordinates: the database Pekko Persistence JDBC uses for the
 * journal and snapshots ({@code pekko-persistence-jdbc.shared-databases.bastion.db}), which also
 * holds the audit table. The vendor is read from the URL: {@code jdbc:h2:} or
 * {@code jdbc:postgresql:}; anything else is refused, since there are migrations only for those two.
 *
 * @param url JDBC URL
 * @param user user name, or null
 * @param password password, or null
 */
public record StoreDatabase(String url, String user, String password) {

  /** Where the node puts the store's coordinates (see {@code io.bastion.node.NodeConfig}). */
  public static final String CONFIG_PATH = "pekko-persistence-jdbc.shared-databases.bastion.db";

  /** The SQL dialects there are migrations for; {@link #folder()} names their folder. */
  public enum Vendor {
    H2("h2"),
    POSTGRESQL("postgresql");

    private final String folder;

    Vendor(String folder) {
      this.folder = folder;
    }

    /** The folder of this vendor's migrations under {@code db/migration/}. */
    public String folder() {
      return folder;
    }
  }

  public StoreDatabase {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("the store needs a JDBC URL");
    }
    vendorOf(url);
  }

  /** The store configured in a node's (resolved) config. */
  public static StoreDatabase fromConfig(Config root) {
    Config db = root.getConfig(CONFIG_PATH);
    return new StoreDatabase(db.getString("url"), db.hasPath("user") ? db.getString("user") : null,
        db.hasPath("password") ? db.getString("password") : null);
  }

  public Vendor vendor() {
    return vendorOf(url);
  }

  /** A new connection; the caller closes it. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  private static Vendor vendorOf(String url) {
    String u = url.toLowerCase(Locale.ROOT);
    if (u.startsWith("jdbc:h2:")) {
      return Vendor.H2;
    }
    if (u.startsWith("jdbc:postgresql:")) {
      return Vendor.POSTGRESQL;
    }
    throw new IllegalArgumentException("unsupported store URL (only jdbc:h2: and jdbc:postgresql: have "
        + "migrations): " + url.replaceAll("(?i)password=[^;&]*", "password=***"));
  }

  @Override
  public String toString() {
    return "StoreDatabase[" + url.replaceAll("(?i)password=[^;&]*", "password=***") + ", user " + user + "]";
  }
}
