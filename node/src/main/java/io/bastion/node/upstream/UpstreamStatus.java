package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.node.JsonFields;
import io.bastion.persistence.CborSerializable;
import io.bastion.protocol.UpstreamCatalog;
import java.util.List;

/**
 * What every node knows about one upstream, replicated with Distributed Data so that the catalog
 * and the state are read locally on every request (architecture §2).
 *
 * @param state connecting, ready, backing-off or failed
 * @param lastError the last connection error, or null
 * @param owner the cluster address of the node running the upstream's entity
 * @param attempts consecutive failed connection attempts
 * @param recentBackoffMs the last few reconnect delays chosen, newest last (for operators and tests)
 * @param serverInfo what the upstream said about itself in {@code initialize}
 * @param capabilities the upstream's declared capabilities
 * @param catalog its tools, resources, templates and prompts under their own names
 * @param updatedAtMillis when this entry was written, by the owner's clock (shown to operators;
 *     never compared across nodes)
 * @param version orders the statuses of one server: {@code incarnation << 32 | sequence}, where the
 *     incarnation grows with every start of the server's entity (a journal sequence number, so it
 *     grows across nodes too) and the sequence with every publish of that incarnation
 */
public record UpstreamStatus(
    String name,
    String state,
    String lastError,
    String owner,
    int attempts,
    List<Long> recentBackoffMs,
    JsonNode serverInfo,
    JsonNode capabilities,
    UpstreamCatalog catalog,
    long updatedAtMillis,
    long version,
    String authorizationUrl) implements CborSerializable {

  public UpstreamStatus {
    serverInfo = JsonFields.absentAsNull(serverInfo);
    capabilities = JsonFields.absentAsNull(capabilities);
  }

  /** A status without an authorization URL (every server but an OAuth one waiting for an operator). */
  public UpstreamStatus(String name, String state, String lastError, String owner, int attempts,
      List<Long> recentBackoffMs, JsonNode serverInfo, JsonNode capabilities, UpstreamCatalog catalog,
      long updatedAtMillis, long version) {
    this(name, state, lastError, owner, attempts, recentBackoffMs, serverInfo, capabilities, catalog,
        updatedAtMillis, version, null);
  }

  public static final String CONNECTING = "connecting";
  public static final String READY = "ready";
  public static final String BACKING_OFF = "backing-off";
  public static final String FAILED = "failed";
  /** An OAuth upstream without a usable token: an operator must open {@link #authorizationUrl()}. */
  public static final String NEEDS_AUTHORIZATION = "needs_authorization";
  /** Every state, in the order the metrics list them. */
  public static final java.util.List<String> STATES =
      java.util.List.of(CONNECTING, READY, BACKING_OFF, FAILED, NEEDS_AUTHORIZATION);

  /** The version of the {@code sequence}-th publish of the entity's {@code incarnation}. */
  public static long version(long incarnation, long sequence) {
    return (incarnation << 32) | (sequence & 0xFFFF_FFFFL);
  }

  /** The entity start that wrote this status. */
  public long incarnation() {
    return version >>> 32;
  }

  public boolean ready() {
    return READY.equals(state);
  }
}
