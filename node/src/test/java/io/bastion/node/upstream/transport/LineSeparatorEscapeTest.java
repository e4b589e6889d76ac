package io.bastion.node.upstream.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LineSeparatorEscapeTest {
  private static final ActorTestKit KIT = ActorTestKit.create();

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  /** NEL, LS and PS among other multi-byte characters, some of whose bytes look alike (E2 80 80, E2 82 AC, C3 A9). */
  private static final String RAW = "data: {\"t\":\"a\u2028b\u0085c\u2029 \u2000\u20ac\u00e9\"}\n\n";
  private static final String ESCAPED = "data: {\"t\":\"a\\u2028b\\u0085c\\u2029 \u2000\u20ac\u00e9\"}\n\n";

  @Test
  void escapesTheThreeSeparatorsAndNothingElseWhereverTheChunksAreCut() throws Exception {
    byte[] bytes = RAW.getBytes(StandardCharsets.UTF_8);
    for (int a = 0; a <= bytes.length; a++) {
      for (int b = a; b <= bytes.length; b += 3) {
        List<ByteString> chunks = List.of(ByteString.fromArray(bytes, 0, a),
            ByteString.fromArray(bytes, a, b - a), ByteString.fromArray(bytes, b, bytes.length - b));
        ByteString out = Source.from(chunks).via(LineSeparatorEscape.flow())
            .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), KIT.system())
            .toCompletableFuture().get();
        assertThat(out.utf8String()).as("cut at %d and %d", a, b).isEqualTo(ESCAPED);
      }
    }
  }

  @Test
  void keepsAnUnfinishedSequenceForTheNextChunkAndPassesPlainChunksAsTheyAre() {
    Pair<ByteString, ByteString> r = LineSeparatorEscape.escape(ByteString.fromArray(new byte[] {'x', (byte) 0xE2, (byte) 0x80}));
    assertThat(r.first().toArray()).containsExactly((byte) 0xE2, (byte) 0x80);
    assertThat(r.second().utf8String()).isEqualTo("x");
    ByteString plain = ByteString.fromString("data: {}\n\n");
    assertThat(LineSeparatorEscape.escape(plain).second()).isSameAs(plain);
  }
}
