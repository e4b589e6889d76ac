package io.bastion.protocol;

import java.util.List;

/** The MCP revisions Bastion speaks downstream and upstream, newest first. */
public final class ProtocolVersions {
  public static final String V2025_11_25 = "2025-11-25";
  public static final String V2025_06_18 = "2025-06-18";
  public static final String V2025_03_26 = "2025-03-26";
  public static final String V2024_11_05 = "2024-11-05";

  public static final String LATEST = V2025_11_25;
  /** What a request without {@code MCP-Protocol-Version} is assumed to speak (spec: 2025-03-26). */
  public static final String ASSUMED_WHEN_ABSENT = V2025_03_26;
  public static final List<String> SUPPORTED = List.of(V2025_11_25, V2025_06_18, V2025_03_26, V2024_11_05);

  private ProtocolVersions() {}

  public static boolean isSupported(String version) {
    return version != null && SUPPORTED.contains(version);
  }

  /**
   * Whether a client that negotiated {@code version} may send JSON-RPC batches (one POST body
   * holding an array of messages). 2025-03-26 requires receivers to accept them; 2024-11-05 is
   * plain JSON-RPC 2.0, which has them; 2025-06-18 removed them (its changelog, item 1), so later
   * revisions refuse them.
   */
  public static boolean allowsBatches(String version) {
    return V2025_03_26.equals(version) || V2024_11_05.equals(version);
  }

  /** The version to answer an {@code initialize} with: the client's if we speak it, else our latest. */
  public static String negotiate(String requested) {
    return isSupported(requested) ? requested : LATEST;
  }
}
