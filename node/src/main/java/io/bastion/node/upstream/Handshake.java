package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.Version;
import io.bastion.protocol.Json;
import io.bastion.protocol.ProtocolVersions;

/** The MCP handshake as Bastion's upstream connections speak it (the entity's and the standby's). */
final class Handshake {

  private Handshake() {}

  /**
   * The params of Bastion's {@code initialize}. Only what Bastion can honour is advertised:
   * sampling and elicitation only where server→client requests are forwarded to the client
   * ({@code forwardsClientRequests}); a session whose client lacks one refuses it itself.
   */
  static ObjectNode initializeParams(boolean forwardsClientRequests) {
    ObjectNode params = Json.object().put("protocolVersion", ProtocolVersions.LATEST);
    ObjectNode caps = params.putObject("capabilities");
    caps.putObject("roots").put("listChanged", true);
    if (forwardsClientRequests) {
      caps.putObject("sampling");
      caps.putObject("elicitation");
    }
    params.putObject("clientInfo").put("name", "bastion").put("version", Version.VERSION);
    return params;
  }

  /** Why the upstream's answer to {@code initialize} is not usable, or null when it is. */
  static String refusal(ObjectNode answer) {
    if (answer.has("error")) {
      return "initialize failed: " + UpstreamConnection.errorText(answer);
    }
    String version = answer.path("result").path("protocolVersion").asText(null);
    return ProtocolVersions.isSupported(version) ? null
        : "upstream answered initialize with unsupported protocol version " + version;
  }
}
