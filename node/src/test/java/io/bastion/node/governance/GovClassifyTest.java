package io.bastion.node.governance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.persistence.audit.AuditRecord;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import org.junit.jupiter.api.Test;

/** Outcomes of final answers as the audit log and the metrics record them. */
class GovClassifyTest {

  private static ObjectNode bastionToolError(String reason) {
    ObjectNode result = JsonRpc.toolError("upstream x: " + reason);
    result.putObject("_meta").putObject("io.bastion/error").put("reason", reason);
    return JsonRpc.result(Json.NODES.numberNode(1), result);
  }

  @Test
  void bastionsOwnToolErrorsAreTimeoutsAndOutagesNotToolErrors() {
    assertThat(Governance.classify(bastionToolError("timeout"))).containsExactly(AuditRecord.TIMEOUT, "request_timeout");
    assertThat(Governance.classify(bastionToolError("upstream_unavailable")))
        .containsExactly(AuditRecord.UPSTREAM_DOWN, "upstream_unavailable");
  }

  @Test
  void anUpstreamsToolErrorAndASuccessAreKeptApart() {
    assertThat(Governance.classify(JsonRpc.result(Json.NODES.numberNode(1), JsonRpc.toolError("bad input"))))
        .containsExactly(AuditRecord.TOOL_ERROR, "is_error");
    assertThat(Governance.classify(JsonRpc.result(Json.NODES.numberNode(1), Json.object())))
        .containsExactly(AuditRecord.OK, null);
  }
}
