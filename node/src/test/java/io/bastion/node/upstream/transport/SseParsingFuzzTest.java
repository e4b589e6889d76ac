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
import java.util.SplittableRandom;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;
import org.slf4j.LoggerFactory;

/**
 * Property-based fuzzing of how upstream SSE streams are read (docs/fuzzing.md): the parser the HTTP
 * transports use ({@link HttpSupport#events}, Pekko HTTP's EventStreamUnmarshalling with the
 * transports' settings) and the JSON hand-off after it ({@link HttpSupport#parseAndDeliver}).
 * Invariants: however a valid stream is cut into chunks (including between a CR and its LF), the
 * same events come out, and they are the events that were written; garbage in any chunking
 * completes with some events and never fails the stream; whatever an event's data is, only JSON
 * objects reach the transport, and nothing throws. Seeded plain JUnit: each property draws its cases
 * from a {@link SplittableRandom} seeded from {@link #SEED}; a failure names the property, the seed
 * and the case's own seed (from which {@code new SplittableRandom(caseSeed)} regenerates the input)
 * and prints the input. No shrinking.
 */
class SseParsingFuzzTest {

  static ActorTestKit testKit;
  static HttpSupport http;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("sse-parsing-fuzz-test", TestConfigs.local());
    http = new HttpSupport(testKit.system(),
        ServerConfig.remote("fuzzed", TransportType.HTTP, URI.create("http://127.0.0.1:9/mcp")),
        LoggerFactory.getLogger(SseParsingFuzzTest.class));
  }

  @AfterAll
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

  /** Property k draws its cases from {@code new SplittableRandom(SEED + k)}. */
  static final long SEED = 10530L;

  record Chunked(List<Written> events, String eol, List<Integer> cuts) {
    @Override
    public String toString() {
      return "Chunked[events=" + events + ", eol=" + escape(eol) + ", cuts=" + cuts + "]";
    }
  }

  record Garbage(byte[] bytes, List<Integer> cuts) {
    @Override
    public String toString() {
      return "Garbage[bytes=base64 " + java.util.Base64.getEncoder().encodeToString(bytes) + ", cuts=" + cuts + "]";
    }
  }

  @Test
  void aMessageWithRawLineSeparatorsInAJsonStringIsDeliveredIntact() throws Exception {
    // Pekko HTTP's SSE parser alone drops such an event (the generators above leave these three
    // characters out for that reason); HttpSupport escapes them first (LineSeparatorEscape).
    String text = "a\u2028b\u0085c\u2029d";
    String event = "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"t\":\"" + text + "\"}}\n\n";
    List<ServerSentEvent> events = parse(List.of(event.getBytes(StandardCharsets.UTF_8)));
    assertThat(events).hasSize(1);
    List<ObjectNode> got = new ArrayList<>();
    http.parseAndDeliver(events.get(0).getData(), got::add);
    assertThat(got).singleElement().satisfies(o -> assertThat(o.at("/result/t").asText()).isEqualTo(text));
  }

  @Test
  void anyChunkingOfAValidStreamGivesTheWrittenEvents() {
    forAll("validStreamChunked", 1, 250, r -> new Chunked(stream(r), pick(r, EOLS), cuts(r, 12, 10_000)), c -> {
      List<Written> events = c.events();
      byte[] bytes = events.stream().map(e -> e.render(c.eol())).collect(Collectors.joining())
          .getBytes(StandardCharsets.UTF_8);
      List<ServerSentEvent> whole = parse(List.of(bytes));
      List<ServerSentEvent> chunked = parse(cut(bytes, c.cuts()));
      assertThat(chunked).as("chunked at %s with EOL %s", c.cuts(), escape(c.eol())).isEqualTo(whole);
      // The events that carry data are exactly those written, in order.
      List<String> written = events.stream().filter(e -> !String.join("\n", e.data()).isEmpty())
          .map(e -> e.type() + "|" + String.join("\n", e.data())).toList();
      List<String> read = whole.stream().filter(e -> !e.getData().isEmpty())
          .map(e -> e.getEventType().orElse(null) + "|" + e.getData()).toList();
      assertThat(read).isEqualTo(written);
      for (ServerSentEvent e : whole) {
        deliverChecked(e.getData());
      }
    });
  }

  @Test
  void garbageCompletesInAnyChunkingAndNeverThrows() {
    forAll("garbageChunked", 2, 200, r -> new Garbage(garbage(r), cuts(r, 8, 2_000)), c -> {
      List<ServerSentEvent> whole = parse(List.of(c.bytes()));
      assertThat(parse(cut(c.bytes(), c.cuts()))).isEqualTo(whole);
      for (ServerSentEvent e : whole) {
        deliverChecked(e.getData());
      }
    });
  }

  @Test
  void anyEventDataReachesTheTransportOnlyAsJsonObjects() {
    forAll("eventData", 3, 500, SseParsingFuzzTest::eventData, SseParsingFuzzTest::deliverChecked);
  }

  /**
   * Runs {@code check} on {@code tries} inputs; case i is generated from its own
   * {@code SplittableRandom(caseSeed)}, the case seeds coming from {@code SplittableRandom(SEED + property)}.
   */
  static <T> void forAll(String name, int property, int tries, Function<SplittableRandom, T> gen,
      ThrowingConsumer<T> check) {
    SplittableRandom cases = new SplittableRandom(SEED + property);
    for (int i = 0; i < tries; i++) {
      long caseSeed = cases.nextLong();
      T input = gen.apply(new SplittableRandom(caseSeed));
      try {
        check.accept(input);
      } catch (Throwable t) {
        String shown = input instanceof String text ? '"' + escape(text) + '"' : String.valueOf(input);
        throw new AssertionError(String.format("property %s failed at case %d of %d (SEED %d + %d, case seed %d)"
            + "; input: %s", name, i, tries, SEED, property, caseSeed, shown), t);
      }
    }
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

  static final List<String> EOLS = List.of("\n", "\r\n", "\r");

  static <T> T pick(SplittableRandom r, List<T> from) {
    return from.get(r.nextInt(from.size()));
  }

  /** Up to max cut points in [0, bound]. */
  static List<Integer> cuts(SplittableRandom r, int max, int bound) {
    List<Integer> out = new ArrayList<>();
    for (int i = r.nextInt(max + 1); i > 0; i--) {
      out.add(r.nextInt(bound + 1));
    }
    return out;
  }

  /** Any string up to maxLength: mostly ASCII, also controls, Latin-1, other BMP and supplementary characters. */
  static String anyString(SplittableRandom r, int maxLength) {
    int n = r.nextInt(8) == 0 ? 0 : r.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.appendCodePoint(switch (r.nextInt(10)) {
        case 0 -> r.nextInt(0x20);
        case 1 -> r.nextInt(0x80, 0x100);
        case 2 -> r.nextInt(0x100, 0xD800);
        case 3 -> r.nextInt(0xE000, 0xFFFE);
        case 4 -> r.nextInt(0x10000, 0x110000);
        default -> r.nextInt(0x20, 0x7F);
      });
    }
    return b.toString();
  }

  static String charsFrom(SplittableRandom r, String chars, int maxLength) {
    int n = r.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(chars.charAt(r.nextInt(chars.length())));
    }
    return b.toString();
  }

  /** Present with probability 1 - nullShare, else null. */
  private static <T> T orNull(SplittableRandom r, double nullShare, Function<SplittableRandom, T> gen) {
    return r.nextDouble() < nullShare ? null : gen.apply(r);
  }

  private static String token(SplittableRandom r) {
    String alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    StringBuilder b = new StringBuilder();
    for (int n = r.nextInt(1, 9); n > 0; n--) {
      b.append(alnum.charAt(r.nextInt(alnum.length())));
    }
    return b.toString();
  }

  /** Up to 6 events: a comment (30 %), a type (50 %), an id (50 %), up to 3 data lines, a retry (20 %). */
  static List<Written> stream(SplittableRandom r) {
    List<Written> events = new ArrayList<>();
    for (int i = r.nextInt(7); i > 0; i--) {
      String comment = orNull(r, 0.7, SseParsingFuzzTest::token);
      String type = orNull(r, 0.5, x -> pick(x, List.of("message", "endpoint", "ping")));
      String id = orNull(r, 0.5, SseParsingFuzzTest::token);
      List<String> data = new ArrayList<>();
      for (int k = r.nextInt(4); k > 0; k--) {
        data.add(r.nextBoolean() ? pick(r, MESSAGES) : dataLine(r));
      }
      Integer retry = orNull(r, 0.8, x -> x.nextInt(60_001));
      events.add(new Written(comment, type, id, data, retry));
    }
    return events;
  }

  /**
   * A data line: any string without CR or LF, and (known, not fixed: docs/fuzzing.md) without
   * U+0085, U+2028 or U+2029, which make Pekko HTTP's SSE parser drop the whole event.
   */
  private static String dataLine(SplittableRandom r) {
    return anyString(r, 20).replaceAll("[\r\n\u0085\u2028\u2029]", "");
  }

  static byte[] garbage(SplittableRandom r) {
    if (r.nextBoolean()) {
      return charsFrom(r, "data:event:id:retry: \r\n{}\"x1", 200).getBytes(StandardCharsets.UTF_8);
    }
    byte[] b = new byte[r.nextInt(301)];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) r.nextInt(256);
    }
    return b;
  }

  static String eventData(SplittableRandom r) {
    return switch (r.nextInt(5)) {
      case 0 -> pick(r, MESSAGES);
      case 1 -> anyString(r, 40);
      case 2 -> charsFrom(r, "{}[]\",:0123456789truefalsn ", 40);
      case 3 -> {
        int n = r.nextInt(1, 5001);
        yield "[".repeat(n) + "]".repeat(n);
      }
      default -> {
        int n = r.nextInt(1, 5001);
        yield "{\"a\":".repeat(n) + "1" + "}".repeat(n);
      }
    };
  }

  static final List<String> MESSAGES = List.of(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}",
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":0.5}}",
      "[{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}]",
      "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"method\":\"sampling/createMessage\",\"params\":{}}",
      "/messages?sessionId=abc", "", "   ", "null", "42", "\"text\"", "{\"unterminated\":");
}
