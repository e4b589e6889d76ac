package io.bastion.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.call.Fault;
import io.bastion.node.call.Reply;
import io.bastion.node.call.RequestStream;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.session.PendingAnswer;
import io.bastion.node.session.SessionEntity;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.node.upstream.UpstreamStatus;
import io.bastion.node.testkit.McpHttp;
import io.bastion.protocol.UpstreamCatalog;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every message that crosses nodes (entity commands, replies, stream events, the replicated
 * {@link UpstreamStatus}, persisted events) goes through Jackson CBOR and comes back equal,
 * including absent (null) JSON fields and numeric ids of every size.
 */
class ClusterSerializationTest {
  private static ActorTestKit kit;
  private static final JsonNodeFactory N = JsonNodeFactory.instance;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("serialization", ConfigFactory.parseString("""
        pekko.actor.provider = local
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
        pekko.persistence.journal.plugin = ""
        pekko.persistence.snapshot-store.plugin = ""
        """).withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  static Stream<Object> messages() {
    TestProbe<Object> probe = TestProbe.create(kit.system());
    @SuppressWarnings({"unchecked", "rawtypes"})
    var events = (org.apache.pekko.actor.typed.ActorRef<RequestStream.Event>) (org.apache.pekko.actor.typed.ActorRef) probe.ref();
    @SuppressWarnings({"unchecked", "rawtypes"})
    var infos = (org.apache.pekko.actor.typed.ActorRef<SessionInfo>) (org.apache.pekko.actor.typed.ActorRef) probe.ref();
    @SuppressWarnings({"unchecked", "rawtypes"})
    var answers = (org.apache.pekko.actor.typed.ActorRef<PendingAnswer>) (org.apache.pekko.actor.typed.ActorRef) probe.ref();
    ObjectNode params = McpHttp.json("{\"name\":\"t\",\"arguments\":{\"x\":1.5,\"big\":12345678901234,\"s\":\"\\u00e9\"},"
        + "\"_meta\":{\"progressToken\":\"p\"}}");
    ObjectNode tool = McpHttp.json("{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\"},\"annotations\":null}");
    UpstreamCatalog catalog = new UpstreamCatalog("s", "s", List.of(tool), List.of(), List.of(), List.of());
    return Stream.of(
        new UpstreamServer.Forward("sess", N.numberNode(5), "tools/call", params, new Reply(events, 42)),
        new UpstreamServer.Forward("sess", N.textNode("id-1"), "ping", null, Reply.toStream(events)),
        new UpstreamServer.Forward("sess", N.numberNode(12345678901234L), "tools/list", params, new Reply(events, 7)),
        new UpstreamServer.Cancel("sess", N.numberNode(5), null),
        new UpstreamServer.ClientAnswer(N.numberNode(7), McpHttp.json("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}")),
        new UpstreamServer.SessionEnded("sess"),
        new SessionEntity.Subscribed("s"),
        new SessionEntity.ResourceUpdated("s", McpHttp.json("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/updated\",\"params\":{\"uri\":\"s+test://x\"}}")),
        UpstreamServer.Wakeup.INSTANCE,
        UpstreamServer.Stop.INSTANCE,
        new UpstreamServer.State(catalog, null),
        new UpstreamServer.CatalogListed(catalog, 42L),
        new SessionEntity.Open("2025-11-25", null, null, null, infos, null),
        new SessionEntity.Open("2025-11-25", McpHttp.json("{\"name\":\"c\"}"), McpHttp.json("{\"sampling\":{}}"), "key", infos,
            "ci-agent"),
        new SessionEntity.Validate(infos),
        new SessionEntity.Initialized("2024-11-05", null, McpHttp.json("{}")),
        new SessionEntity.AttachStream(events),
        new SessionEntity.DetachStream(events),
        new SessionEntity.Notify(McpHttp.json("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}")),
        new SessionEntity.ServerRequest("s", N.numberNode(3), "sampling/createMessage", params, null),
        new SessionEntity.ServerRequest("s", N.numberNode(3), "roots/list", null, Reply.toStream(events)),
        new SessionEntity.ResolveClientResponse(N.textNode("bastion-s2c-1"), answers),
        new SessionEntity.Terminate(infos),
        SessionEntity.Stop.INSTANCE,
        SessionInfo.NOT_FOUND,
        new SessionInfo(true, "2025-11-25", "k", McpHttp.json("{\"name\":\"c\"}"), null, events),
        new SessionInfo(true, "2025-11-25", "k", null, null, null, "ci-agent"),
        new PendingAnswer(null, null),
        new PendingAnswer("s", N.numberNode(9)),
        new RequestStream.Message(McpHttp.json("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}")),
        new RequestStream.Final(McpHttp.json("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}")),
        new RequestStream.Final(9, McpHttp.json("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"), Fault.UPSTREAM_TIMEOUT),
        new RequestStream.Message(9, McpHttp.json("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}")),
        new UpstreamStatus("s", UpstreamStatus.CONNECTING, null, "pekko://bastion@127.0.0.1:1", 0, List.of(),
            null, null, UpstreamCatalog.empty("s", ""), 1L, UpstreamStatus.version(1, 1)),
        new UpstreamStatus("s", UpstreamStatus.READY, "boom", "pekko://bastion@127.0.0.1:1", 2, List.of(100L, 200L),
            McpHttp.json("{\"name\":\"srv\"}"), McpHttp.json("{\"tools\":{}}"), catalog, 2L, UpstreamStatus.version(7, 123)));
  }

  @ParameterizedTest
  @MethodSource("messages")
  void roundTripsThroughJacksonCbor(Object message) {
    Serialization serialization = SerializationExtension.get(kit.system());
    var serializer = serialization.findSerializerFor(message);
    assertThat(serializer).isInstanceOf(JacksonCborSerializer.class);
    byte[] bytes = serialization.serialize(message).get();
    Object back = serialization.deserialize(bytes, serializer.identifier(),
        Serializers.manifestFor(serializer, message)).get();
    assertThat(back).isEqualTo(message);
  }

  private static Object roundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(kit.system());
    var serializer = serialization.findSerializerFor(message);
    return serialization.deserialize(serialization.serialize(message).get(), serializer.identifier(),
        Serializers.manifestFor(serializer, message)).get();
  }

  /**
   * CBOR writes a small long compactly and reads it back as an int node: the value is kept (ids
   * minted as longs by the upstream entity go back to the upstream as the same number).
   */
  @org.junit.jupiter.api.Test
  void numericIdsKeepTheirValue() {
    for (long v : new long[] {0, 7, Integer.MAX_VALUE + 1L, 12345678901234L}) {
      var back = (UpstreamServer.ClientAnswer) roundTrip(new UpstreamServer.ClientAnswer(N.numberNode(v), McpHttp.json("{}")));
      assertThat(back.upstreamId().isIntegralNumber()).isTrue();
      assertThat(back.upstreamId().longValue()).isEqualTo(v);
    }
  }

  /** A param-less server→client request relayed by another node must not grow {@code "params": null}. */
  @org.junit.jupiter.api.Test
  void absentJsonStaysAbsent() {
    var back = (SessionEntity.ServerRequest) roundTrip(
        new SessionEntity.ServerRequest("s", N.numberNode(3), "roots/list", null, null));
    assertThat(back.params()).isNull();
    var info = (SessionInfo) roundTrip(SessionInfo.NOT_FOUND);
    assertThat(info.clientInfo()).isNull();
    assertThat(info.capabilities()).isNull();
  }
}
