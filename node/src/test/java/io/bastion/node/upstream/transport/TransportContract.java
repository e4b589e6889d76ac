package io.bastion.node.upstream.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.testkit.RecordingListener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The scenario every transport must pass against server-everything: handshake, tools/list,
 * tools/call echo, progress notifications, close. Subclasses create {@link #transport} and
 * {@link #listener} before each test and say whether progress is tied to its request.
 */
abstract class TransportContract {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration WAIT = Duration.ofSeconds(20);

  UpstreamTransport transport;
  RecordingListener listener;
  final AtomicInteger ids = new AtomicInteger();

  /** True when messages on a request's stream carry its id (streamable HTTP). */
  abstract boolean relatesMessagesToRequests();

  static ObjectNode request(int id, String method, ObjectNode params) {
    ObjectNode msg = JSON.createObjectNode().put("jsonrpc", "2.0").put("id", id).put("method", method);
    if (params != null) {
      msg.set("params", params);
    }
    return msg;
  }

  static ObjectNode notification(String method) {
    return JSON.createObjectNode().put("jsonrpc", "2.0").put("method", method);
  }

  ObjectNode call(String method, ObjectNode params) throws Exception {
    int id = ids.incrementAndGet();
    transport.send(request(id, method, params)).toCompletableFuture().get(20, TimeUnit.SECONDS);
    ObjectNode response = listener.awaitResponse(IntNode.valueOf(id), WAIT);
    assertThat(response.has("error")).as("error in %s", response).isFalse();
    return (ObjectNode) response.get("result");
  }

  /** initialize (2025-11-25) + notifications/initialized; returns the negotiated version. */
  String initialize() throws Exception {
    ObjectNode params = JSON.createObjectNode().put("protocolVersion", "2025-11-25");
    params.putObject("capabilities");
    params.putObject("clientInfo").put("name", "bastion-transport-test").put("version", "0");
    ObjectNode result = call("initialize", params);
    String version = result.path("protocolVersion").asText();
    assertThat(version).isNotBlank();
    assertThat(result.path("serverInfo").path("name").asText()).isNotBlank();
    transport.protocolVersion(version);
    transport.send(notification("notifications/initialized")).toCompletableFuture().get(20, TimeUnit.SECONDS);
    return version;
  }

  static ObjectNode toolCall(String name, ObjectNode arguments) {
    ObjectNode params = JSON.createObjectNode().put("name", name);
    params.set("arguments", arguments);
    return params;
  }

  @Test
  void handshakeListsToolsAndEchoes() throws Exception {
    assertThat(initialize()).isEqualTo("2025-11-25");

    ObjectNode tools = call("tools/list", JSON.createObjectNode());
    List<String> names = tools.path("tools").findValuesAsText("name");
    assertThat(names).contains("echo", "get-sum");

    ObjectNode echoed = call("tools/call", toolCall("echo", JSON.createObjectNode().put("message", "hello bastion")));
    assertThat(echoed.path("content").get(0).path("text").asText()).isEqualTo("Echo: hello bastion");

    ObjectNode sum = call("tools/call", toolCall("get-sum", JSON.createObjectNode().put("a", 2).put("b", 40)));
    assertThat(sum.path("content").get(0).path("text").asText()).contains("42");
  }

  @Test
  void progressNotificationsReachTheListener() throws Exception {
    initialize();
    int id = ids.incrementAndGet();
    ObjectNode params = toolCall("trigger-long-running-operation",
        JSON.createObjectNode().put("duration", 1).put("steps", 3));
    params.putObject("_meta").put("progressToken", "progress-" + id);
    transport.send(request(id, "tools/call", params)).toCompletableFuture().get(20, TimeUnit.SECONDS);

    ObjectNode response = listener.awaitResponse(IntNode.valueOf(id), WAIT);
    assertThat(response.path("result").path("content").get(0).path("text").asText())
        .contains("Long running operation completed");
    List<RecordingListener.Received> progress = listener.withMethod("notifications/progress");
    assertThat(progress).hasSize(3);
    for (RecordingListener.Received r : progress) {
      assertThat(r.message().path("params").path("progressToken").asText()).isEqualTo("progress-" + id);
      JsonNode expected = relatesMessagesToRequests() ? IntNode.valueOf(id) : null;
      assertThat(r.relatedRequestId()).isEqualTo(expected);
    }
    assertThat(progress.stream().map(r -> r.message().path("params").path("progress").asInt()))
        .containsExactly(1, 2, 3);
  }

  @Test
  void closeSignalsOnClosedOnceWithoutCause() throws Exception {
    initialize();
    transport.close().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertThat(listener.awaitClosed(WAIT)).isEmpty();
    transport.close().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertThat(listener.closedCalls()).isEqualTo(1);
    assertThat(transport.send(notification("notifications/initialized")).toCompletableFuture())
        .failsWithin(Duration.ofSeconds(5));
  }
}
