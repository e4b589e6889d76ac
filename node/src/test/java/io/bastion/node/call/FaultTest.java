package io.bastion.node.call;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.Json;
import io.bastion.protocol.JsonRpc;
import io.bastion.protocol.Methods;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The fault taxonomy is closed and mapped once: every fault has a domain-prefixed name, an HTTP
 * status, a JSON-RPC code, an audit outcome the audit log knows, and a row in the table of
 * {@code docs/gateway-core.md} that says exactly what the enum says.
 */
class FaultTest {

  private static final Set<String> AUDIT_OUTCOMES =
      Set.of("ok", "tool_error", "denied", "rate_limited", "over_budget", "timeout", "upstream_down", "error");

  @Test
  void everyFaultIsNamedByItsDomainAndMappedToAKnownAuditOutcome() {
    for (Fault f : Fault.values()) {
      if (f != Fault.OTHER) {
        assertThat(f.name()).startsWith(f.domain().name() + "_");
      }
      assertThat(f.httpStatus()).as(f.name()).isIn(200, 400, 401, 403, 404, 406, 413, 415, 500, 503);
      assertThat(f.code()).as(f.name()).isNegative();
      assertThat(AUDIT_OUTCOMES).as(f.name()).contains(f.auditOutcome());
      assertThat(f.errorType()).as(f.name()).matches("[a-z_]+");
    }
  }

  @Test
  void theTableInGatewayCoreMatchesTheEnum() throws Exception {
    Map<String, List<String>> table = new LinkedHashMap<>();
    for (String line : Files.readAllLines(docs())) {
      String[] cells = line.split("\\|");
      if (line.startsWith("| `") && cells[1].trim().replace("`", "").matches("[A-Z_]+")) {
        List<String> row = new ArrayList<>();
        for (int i = 2; i < cells.length; i++) {
          row.add(cells[i].trim().replace("`", ""));
        }
        table.put(cells[1].trim().replace("`", ""), row);
      }
    }
    for (Fault f : Fault.values()) {
      assertThat(table).as("docs/gateway-core.md has a row for " + f).containsKey(f.name());
      assertThat(table.get(f.name())).as(f.name()).startsWith(
          String.valueOf(f.httpStatus()), String.valueOf(f.code()), f.toolError() ? "tool error" : "JSON-RPC error",
          f.auditOutcome(), f.errorType());
    }
    assertThat(table.keySet().stream().filter(k -> k.matches("[A-Z_]+")).count()).isEqualTo(Fault.values().length);
  }

  @Test
  void upstreamFailuresOfAToolCallAreToolErrorsTheModelCanRead() {
    ObjectNode a = Fault.UPSTREAM_TIMEOUT.answer(Json.NODES.numberNode(1), Methods.TOOLS_CALL, "slow", null);
    assertThat(a.path("result").path("isError").asBoolean()).isTrue();
    assertThat(a.path("result").path("_meta").path("io.bastion/error").path("reason").asText()).isEqualTo("timeout");
    ObjectNode b = Fault.UPSTREAM_UNAVAILABLE.answer(Json.NODES.numberNode(1), Methods.PROMPTS_GET, "down", null);
    assertThat(b.path("error").path("code").asInt()).isEqualTo(Fault.UPSTREAM_UNAVAILABLE.code());
  }

  @Test
  void outcomesComeFromTheTypedFaultNotFromTheJson() {
    ObjectNode ok = JsonRpc.result(Json.NODES.numberNode(1), Json.object());
    assertThat(Fault.outcomeOf(ok, null)).containsExactly("ok", null);
    assertThat(Fault.outcomeOf(JsonRpc.result(Json.NODES.numberNode(1), JsonRpc.toolError("bad input")), null))
        .containsExactly("tool_error", "is_error");
    assertThat(Fault.outcomeOf(ok, Fault.UPSTREAM_TIMEOUT)).containsExactly("timeout", "request_timeout");
    assertThat(Fault.outcomeOf(ok, Fault.UPSTREAM_UNAVAILABLE)).containsExactly("upstream_down", "upstream_unavailable");
    assertThat(Fault.outcomeOf(JsonRpc.error(Json.NODES.numberNode(1), -32603, "boom", null), Fault.UPSTREAM_ERROR))
        .containsExactly("tool_error", "jsonrpc_-32603");
    assertThat(Fault.outcomeOf(null, Fault.CLIENT_GONE)).containsExactly("error", "client_gone");
  }

  private static Path docs() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("docs/gateway-core.md"))) {
      p = p.getParent();
    }
    assertThat(p).as("docs/gateway-core.md above the working directory").isNotNull();
    return p.resolve("docs/gateway-core.md");
  }
}
