package io.bastion.config;

import java.util.List;
import java.util.Objects;

/**
 * {@code cluster:}: how this node takes part in the Pekko cluster.
 *
 * @param host the Artery canonical hostname other nodes use to reach this node (default 127.0.0.1)
 * @param port the Artery port, 0 for an ephemeral one (default 25520)
 * @param seedNodes seed nodes as {@code host:port}; empty means this node forms a cluster of one
 * @param management Pekko Management HTTP ({@code /cluster/members}, leave and down)
 */
public record ClusterConfig(String host, int port, List<String> seedNodes, Management management) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 25520;
  /** The actor system name every node uses; seed addresses are {@code pekko://bastion@host:port}. */
  public static final String SYSTEM_NAME = "bastion";

  /**
   * {@code cluster.management}.
   *
   * @param host bind address of the management HTTP endpoint (default 127.0.0.1)
   * @param port its port (default 7626; 0 = ephemeral)
   * @param enabled whether it is started at all (default true)
   */
  public record Management(String host, int port, boolean enabled) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 7626;
    public static final Management DEFAULT = new Management(DEFAULT_HOST, DEFAULT_PORT, true);
    public static final Management DISABLED = new Management(DEFAULT_HOST, DEFAULT_PORT, false);

    public Management {
      Objects.requireNonNull(host, "host");
      checkPort(port);
    }
  }

  // Built with explicit Management instances, not Management.DEFAULT: Management's constructor
  // calls checkPort here, so initializing Management first runs this class's initializer while
  // Management.DEFAULT is still null (a YAML with a cluster.management block crashed the loader).
  public static final ClusterConfig DEFAULT = new ClusterConfig(DEFAULT_HOST, DEFAULT_PORT, List.of(),
      new Management(Management.DEFAULT_HOST, Management.DEFAULT_PORT, true));

  public ClusterConfig {
    Objects.requireNonNull(host, "host");
    checkPort(port);
    seedNodes = List.copyOf(seedNodes == null ? List.of() : seedNodes);
    for (String seed : seedNodes) {
      if (!isHostPort(seed)) {
        throw new IllegalArgumentException("seed node must be host:port, got " + seed);
      }
    }
    management = management != null ? management
        : new Management(Management.DEFAULT_HOST, Management.DEFAULT_PORT, true);
  }

  /** The seed nodes as Pekko addresses ({@code pekko://bastion@host:port}). */
  public List<String> seedAddresses() {
    return seedNodes.stream().map(s -> "pekko://" + SYSTEM_NAME + "@" + s).toList();
  }

  public ClusterConfig withHostPort(String host, int port) {
    return new ClusterConfig(host, port, seedNodes, management);
  }

  public ClusterConfig withSeedNodes(List<String> seeds) {
    return new ClusterConfig(host, port, seeds, management);
  }

  public ClusterConfig withManagement(Management m) {
    return new ClusterConfig(host, port, seedNodes, m);
  }

  /**
   * True for {@code host:port} with a non-empty host (name, IPv4, or {@code [IPv6]}) and a port
   * from 1 to 65535 (a seed needs a fixed port).
   */
  public static boolean isHostPort(String text) {
    if (text == null) {
      return false;
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      return false;
    }
    String host = text.substring(0, colon);
    String port = text.substring(colon + 1);
    boolean hostOk = host.startsWith("[")
        ? host.endsWith("]") && host.length() > 2 && host.substring(1, host.length() - 1).matches("[0-9A-Fa-f:.]+")
        : host.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
    if (!hostOk || !port.matches("[0-9]{1,5}")) {
      return false;
    }
    int p = Integer.parseInt(port);
    return p >= 1 && p <= 65535;
  }

  private static void checkPort(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }
}
