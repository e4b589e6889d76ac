package io.bastion.config;

/**
 * {@code mcp.servers[i].failover}: what calls for an upstream get while the node running it is lost
 * (unreachable, downed, leaving) and before it runs again on a survivor.
 *
 * <ul>
 *   <li>{@link #HOLD}: they wait at the edge (bounded) and are sent once the upstream runs on a
 *       live node again. The upstream never has more than one connection from the cluster.
 *   <li>{@link #STANDBY}: each node serves them through a connection of its own, opened when the
 *       first such call arrives and closed when it has been idle for a minute with the owner back.
 *   <li>{@link #WARM_STANDBY}: the same, with that connection opened at start and kept, so that
 *       a stdio upstream's process is already running (one more process per node).
 *   <li>{@link #ACTIVE_ACTIVE}: every node keeps that connection open and serves every call that
 *       enters it through its own connection whenever it is ready, not only while the owner is
 *       lost: a call entering a node that does not run the entity costs no hop to the owner. The
 *       entity still owns discovery, health and the catalog; resource subscriptions and the
 *       owner's own calls go through it.
 * </ul>
 *
 * <p>The default is {@link #STANDBY} for {@code http} and {@code sse} servers without OAuth (a
 * second HTTP client of the same server is harmless), {@link #HOLD} for stdio servers (a second
 * process of a server that keeps state locally would not see the first one's state) and for OAuth
 * upstreams (their tokens belong to the owner's entity). See {@code docs/cluster.md}.
 */
public enum Failover {
  HOLD("hold"),
  STANDBY("standby"),
  WARM_STANDBY("warm_standby"),
  ACTIVE_ACTIVE("active_active");

  private final String yamlName;

  Failover(String yamlName) {
    this.yamlName = yamlName;
  }

  public String yamlName() {
    return yamlName;
  }

  /** Whether calls are served by a node-local connection while the owner is lost. */
  public boolean standby() {
    return this != HOLD;
  }

  /** Whether every node but the owner keeps that connection open from the start. */
  public boolean warm() {
    return this == WARM_STANDBY || this == ACTIVE_ACTIVE;
  }

  /** Whether calls go through the node-local connection even while the owner is alive. */
  public boolean servesLocally() {
    return this == ACTIVE_ACTIVE;
  }

  /** The default of a server of {@code type}, with or without OAuth. */
  public static Failover defaultFor(TransportType type, OAuthConfig oauth) {
    return type == TransportType.STDIO || oauth != null ? HOLD : STANDBY;
  }
}
