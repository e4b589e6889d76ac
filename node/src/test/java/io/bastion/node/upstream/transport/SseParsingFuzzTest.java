package io.bastion.node.upstream.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.TestConfigs;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.LoggerFactory;

/**
 * Property-based fuzzing of how upstream SSE streams are read (docs/fuzzing.md): the parser the HTTP
 * transports use ({@link HttpSupport#events}, Pekko HTTP's EventStreamUnmarshalling with the
 * transports' settings) and the JSON hand-off after it ({@link HttpSupport#parseAndDeliver}).
 * Invariants: however a valid stream is cut into chunks (including between a CR and its LF), the
 * same events come out, and they are the events that were written; garbage in any chunking
 * completes with some events and never fails the stream; whatever an event's data is, only JSON
 * objects reach the transport, and nothing throws. Seeded.
 */
class SseParsingFuzzTest {

  static ActorTestKit testKit;
  static HttpSupport http;

  @BeforeContainer
  static void start() {
    testKit = ActorTestKit.create("sse-parsing-fuzz-test", TestConfigs.local());
    http = new HttpSupport(testKit.system(),
        ServerConfig.remote("fuzzed", TransportType.HTTP, URI.create("http://127.0.0.1:9/mcp")),
        LoggerFactory.getLogger(SseParsingFuzzTest.class));
  }

  @AfterContainer
  static void stop() {
    if (http != null) {
      http.shutdown();
    }
    if (testKit != null) {
      testKit.shutdownTestKit();
    }
  }

  /** One event as written by an upstream: optional comment, type, id and retry; zero or more data lines. */
  record Written(String comment, String type, String id, List<String> data, Integer retry) {
    String render(String eol) {
      StringBuilder b = new StringBuilder();
      if (comment != null) {
        b.append(':').append(comment).append(eol);
      }
      if (type != null) {
        b.append("event: ").append(type).append(eol);
      }
      if (id != null) {
        b.append("id: ").append(id).append(eol);
      }
      for (String d : data) {
        b.append("data: ").append(d).append(eol);
      }
      if (retry != null) {
        b.append("retry: ").append(retry).append(eol);
      }
      return b.append(eol).toString();
    }
  }

  @Property(tries = 250, seed = "10531")
  void anyChunkingOfAValidStreamGivesTheWrittenEvents(@ForAll("streams") List<Written> events,
      @ForAll("eols") String eol, @ForAll @Size(max = 12) List<@IntRange(min = 0, max = 10_000) Integer> cuts)
      throws Exception {
    byte[] bytes = events.stream().map(e -> e.render(eol)).collect(Collectors.joining())
        .getBytes(StandardCharsets.UTF_8);
    List<ServerSentEvent> whole = parse(List.of(bytes));
    List<ServerSentEvent> chunked = parse(cut(bytes, cuts));
    assertThat(chunked).as("chunked at %s with EOL %s", cuts, escape(eol)).isEqualTo(whole);
    // The events that carry data are exactly those written, in order.
    List<String> written = events.stream().filter(e -> !String.join("\n", e.data()).isEmpty())
        .map(e -> e.type() + "|" + String.join("\n", e.data())).toList();
    List<String> read = whole.stream().filter(e -> !e.getData().isEmpty())
        .map(e -> e.getEventType().orElse(null) + "|" + e.getData()).toList();
    assertThat(read).isEqualTo(written);
    for (ServerSentEvent e : whole) {
      deliverChecked(e.getData());
    }
  }

  @Property(tries = 200, seed = "10532")
  void garbageCompletesInAnyChunkingAndNeverThrows(@ForAll("garbage") byte[] bytes,
      @ForAll @Size(max = 8) List<@IntRange(min = 0, max = 2_000) Integer> cuts) throws Exception {
    List<ServerSentEvent> whole = parse(List.of(bytes));
    assertThat(parse(cut(bytes, cuts))).isEqualTo(whole);
    for (ServerSentEvent e : whole) {
      deliverChecked(e.getData());
    }
  }

  @Property(tries = 500, seed = "10533")
  void anyEventDataReachesTheTransportOnlyAsJsonObjects(@ForAll("eventData") String data) {
    deliverChecked(data);
  }

  /** parseAndDeliver: never throws; hands over JSON objects only. */
  static void deliverChecked(String data) {
    List<ObjectNode> got = new ArrayList<>();
    http.parseAndDeliver(data, got::add);
    assertThat(got).allSatisfy(o -> assertThat(o).isInstanceOf(ObjectNode.class));
  }

  static List<ServerSentEvent> parse(List<byte[]> chunks) throws Exception {
    HttpEntity entity = HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(),
        Source.from(chunks.stream().map(ByteString::fromArray).toList()));
    try {
      return http.events(entity).toCompletableFuture().get(10, TimeUnit.SECONDS)
          .runWith(Sink.seq(), http.mat).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("the SSE stream failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("the SSE stream did not complete", e);
    }
  }

  static List<byte[]> cut(byte[] bytes, List<Integer> cuts) {
    List<Integer> at = cuts.stream().map(c -> bytes.length == 0 ? 0 : c % (bytes.length + 1)).sorted().toList();
    List<byte[]> out = new ArrayList<>();
    int from = 0;
    for (int c : at) {
      out.add(java.util.Arrays.copyOfRange(bytes, from, Math.max(from, c)));
      from = Math.max(from, c);
    }
    out.add(java.util.Arrays.copyOfRange(bytes, from, bytes.length));
    return out;
  }

  private static String escape(String s) {
    return s.replace("\r", "\\r").replace("\n", "\\n");
  }

  // ------------------------------------------------------------------ generators

  @Provide
  Arbitrary<String> eols() {
    return Arbitraries.of("\n", "\r\n", "\r");
  }

  @Provide
  Arbitrary<List<Written>> streams() {
    Arbitrary<String> line = Arbitraries.oneOf(
        Arbitraries.of(MESSAGES),
        Arbitraries.strings().ofMaxLength(20).filter(s -> s.indexOf('\r') < 0 && s.indexOf('\n') < 0));
    Arbitrary<String> token = Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(8);
    Arbitrary<Written> event = Combinators.combine(
        token.injectNull(0.7),
        Arbitraries.of("message", "endpoint", "ping").injectNull(0.5),
        token.injectNull(0.5),
        line.list().ofMaxSize(3),
        Arbitraries.integers().between(0, 60_000).injectNull(0.8))
        .as(Written::new);
    return event.list().ofMaxSize(6);
  }

  @Provide
  Arbitrary<byte[]> garbage() {
    Arbitrary<byte[]> sseish = Arbitraries.strings().withChars("data:event:id:retry: \r\n{}\"x1")
        .ofMaxLength(200).map(s -> s.getBytes(StandardCharsets.UTF_8));
    return Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofMaxSize(300), sseish);
  }

  @Provide
  Arbitrary<String> eventData() {
    return Arbitraries.oneOf(Arbitraries.of(MESSAGES), Arbitraries.strings().ofMaxLength(40),
        Arbitraries.strings().withChars("{}[]\",:0123456789truefalsn ").ofMaxLength(40),
        Arbitraries.integers().between(1, 5000).map(n -> "[".repeat(n) + "]".repeat(n)),
        Arbitraries.integers().between(1, 5000).map(n -> "{\"a\":".repeat(n) + "1" + "}".repeat(n)));
  }

  static final List<String> MESSAGES = List.of(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}",
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":0.5}}",
      "[{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}]",
      "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"method\":\"sampling/createMessage\",\"params\":{}}",
      "/messages?sessionId=abc", "", "   ", "null", "42", "\"text\"", "{\"unterminated\":");
}
