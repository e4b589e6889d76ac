package io.bastion.node.upstream;

import io.bastion.node.testkit.McpHttp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.bastion.node.call.Reply;
import io.bastion.protocol.Json;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class InFlightTableTest {
  private static final Duration T = Duration.ofSeconds(30);

  /** Client entries are the ones with a reply address; the table never uses it. */
  private static final Reply CLIENT = new Reply(null, 1);


  @Test
  void everyRequestGetsAFreshIdAndItsProgressTokenBecomesThatId() {
    InFlightTable<String> t = new InFlightTable<>();
    ObjectNode p1 = McpHttp.json("{\"_meta\":{\"progressToken\":\"client-token\"}}");
    var a = t.addClient("s1", TextNode.valueOf("x"), "tools/call", p1, CLIENT, 0, T);
    var b = t.addInternal("ping", "cb", 0, T);
    ObjectNode p3 = McpHttp.json("{\"name\":\"t\"}");
    var c = t.addClient("s2", IntNode.valueOf(1), "tools/call", p3, CLIENT, 0, T);
    assertThat(new long[] {a.id(), b.id(), c.id()}).containsExactly(1, 2, 3);
    assertThat(p1.at("/_meta/progressToken").asLong()).isEqualTo(1);
    assertThat(a.downstreamProgressToken().asText()).isEqualTo("client-token");
    assertThat(p3.has("_meta")).isFalse();
    assertThat(c.downstreamProgressToken()).isNull();
    assertThat(b.callback()).isEqualTo("cb");
    assertThat(t.size()).isEqualTo(3);
  }

  @Test
  void progressIsMappedBackToTheClientsToken() {
    InFlightTable<String> t = new InFlightTable<>();
    var e = t.addClient("s1", IntNode.valueOf(7), "tools/call",
        McpHttp.json("{\"_meta\":{\"progressToken\":42}}"), CLIENT, 0, T);
    ObjectNode upstream = McpHttp.json("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":"
        + e.id() + ",\"progress\":1}}");
    var p = t.progress(upstream).orElseThrow();
    assertThat(p.entry()).isSameAs(e);
    assertThat(p.notification().at("/params/progressToken").asInt()).isEqualTo(42);
    assertThat(upstream.at("/params/progressToken").asLong()).isEqualTo(e.id()); // not mutated
    assertThat(t.progress(McpHttp.json("{\"params\":{\"progressToken\":999}}"))).isEmpty();
    // A request without a token of its own gets no progress, even if the upstream uses its id.
    var quiet = t.addClient("s1", IntNode.valueOf(8), "tools/call", Json.object(), CLIENT, 0, T);
    assertThat(t.progress(McpHttp.json("{\"params\":{\"progressToken\":" + quiet.id() + "}}"))).isEmpty();
  }

  @Test
  void timeoutRestartsOnProgressButNeverPastTheMaximum() {
    InFlightTable<String> t = new InFlightTable<>();
    var e = t.addInternal("x", "cb", 0, T);
    Duration req = Duration.ofSeconds(30);
    Duration max = Duration.ofSeconds(100);
    assertThat(InFlightTable.timeoutAfterProgress(e, Duration.ofSeconds(10).toNanos(), req, max)).contains(req);
    assertThat(InFlightTable.timeoutAfterProgress(e, Duration.ofSeconds(90).toNanos(), req, max))
        .contains(Duration.ofSeconds(10));
    assertThat(InFlightTable.timeoutAfterProgress(e, Duration.ofSeconds(101).toNanos(), req, max)).isEmpty();
  }

  @Test
  void expiredRequestsAreReportedOnceAndProgressMovesTheDeadline() {
    InFlightTable<String> t = new InFlightTable<>();
    var a = t.addInternal("ping", "cb", 0, Duration.ofSeconds(5));
    var b = t.addClient("s1", IntNode.valueOf(1), "tools/call", Json.object(), CLIENT, 0, Duration.ofSeconds(30));
    assertThat(t.expire(Duration.ofSeconds(4).toNanos())).isEmpty();
    assertThat(t.expire(Duration.ofSeconds(5).toNanos())).containsExactly(a.id());
    assertThat(t.expire(Duration.ofSeconds(6).toNanos())).as("reported once").isEmpty();
    assertThat(t.get(a.id())).as("still matched until the entity removes it").isNotNull();
    t.extend(b.id(), Duration.ofSeconds(25).toNanos(), Duration.ofSeconds(30));
    assertThat(t.expire(Duration.ofSeconds(40).toNanos())).isEmpty();
    assertThat(t.expire(Duration.ofSeconds(55).toNanos())).containsExactly(b.id());
  }

  @Test
  void relatedMessagesGoToTheCarryingRequestElseTheLatestClientRequest() {
    InFlightTable<String> t = new InFlightTable<>();
    assertThat(t.related(null)).isNull();
    var a = t.addClient("s1", IntNode.valueOf(1), "tools/call", Json.object(), CLIENT, 0, T);
    var b = t.addClient("s2", IntNode.valueOf(1), "tools/call", Json.object(), CLIENT, 0, T);
    var internal = t.addInternal("ping", "cb", 0, T);
    assertThat(t.related(LongNode.valueOf(a.id()))).isSameAs(a);
    assertThat(t.related(null)).isSameAs(b);
    assertThat(t.related(LongNode.valueOf(internal.id()))).isSameAs(b);
    t.remove(b.id());
    assertThat(t.related(null)).isSameAs(a);
  }

  @Test
  void cancelFindsTheClientRequestBySessionAndDownstreamId() {
    InFlightTable<String> t = new InFlightTable<>();
    var a = t.addClient("s1", IntNode.valueOf(1), "tools/call", Json.object(), CLIENT, 0, T);
    t.addClient("s2", IntNode.valueOf(1), "tools/call", Json.object(), CLIENT, 0, T);
    assertThat(t.removeClient("s1", IntNode.valueOf(2))).isNull();
    assertThat(t.removeClient("s1", IntNode.valueOf(1))).isSameAs(a);
    assertThat(t.removeClient("s1", IntNode.valueOf(1))).isNull();
    assertThat(t.size()).isEqualTo(1);
    assertThat(t.clear()).hasSize(1);
    assertThat(t.size()).isZero();
  }

  @Test
  void answersAreReaddressedToTheClientsId() {
    ObjectNode ok = InFlightTable.downstreamAnswer(McpHttp.json("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"a\":1}}"),
        TextNode.valueOf("c"));
    assertThat(ok.toString()).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"result\":{\"a\":1}}");
    ObjectNode err = InFlightTable.downstreamAnswer(McpHttp.json("{\"id\":5,\"error\":{\"code\":-1}}"), IntNode.valueOf(3));
    assertThat(err.toString()).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-1}}");
    ObjectNode empty = InFlightTable.downstreamAnswer(McpHttp.json("{\"id\":5}"), IntNode.valueOf(3));
    assertThat(empty.get("result").isEmpty()).isTrue();
  }
}
