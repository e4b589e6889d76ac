package io.bastion.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;

class PendingRequestsTest {
  private static final JsonNodeFactory N = JsonNodeFactory.instance;

  @Test
  void mintsDistinctDownstreamIdsAndResolvesEachOnce() {
    PendingRequests book = new PendingRequests(10);
    String a = book.add("up", N.numberNode(1), "sampling/createMessage", null);
    String b = book.add("up", N.numberNode(1), "roots/list", null);
    assertThat(a).isNotEqualTo(b).startsWith("bastion-s2c-");
    PendingRequests.Pending p = book.take(N.textNode(a));
    assertThat(p.method()).isEqualTo("sampling/createMessage");
    assertThat(book.take(N.textNode(a))).as("a second answer finds nothing").isNull();
    assertThat(book.take(N.numberNode(7))).as("ids Bastion never minted").isNull();
    assertThat(book.size()).isEqualTo(1);
  }

  @Test
  void isBoundedAndDrainsOldestFirst() {
    PendingRequests book = new PendingRequests(2);
    String first = book.add("a", N.numberNode(1), "roots/list", null);
    String second = book.add("b", N.numberNode(2), "roots/list", null);
    assertThat(book.full()).isTrue();
    assertThat(book.drain()).extracting(e -> e.getKey()).containsExactly(first, second);
    assertThat(book.full()).isFalse();
    assertThat(book.size()).isZero();
  }
}
