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
 * @param updatedAtMillis when this entry was written
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
    long updatedAtMillis) implements CborSerializable {

  public UpstreamStatus {
    serverInfo = JsonFields.absentAsNull(serverInfo);
    capabilities = JsonFields.absentAsNull(capabilities);
  }

  public static final String CONNECTING = "connecting";
  public static final String READY = "ready";
  public static final String BACKING_OFF = "backing-off";
  public static final String FAILED = "failed";

  public boolean ready() {
    return READY.equals(state);
  }
}
