package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

class EarlyCancelsTest {

  @Test
  void aRememberedCancelIsTakenOnceForItsSessionAndIdOnly() {
    EarlyCancels c = new EarlyCancels();
    c.remember("s1", IntNode.valueOf(1), 0);
    assertThat(c.take("s2", IntNode.valueOf(1), 1)).isFalse();
    assertThat(c.take("s1", TextNode.valueOf("1"), 1)).isFalse();
    assertThat(c.take("s1", IntNode.valueOf(1), 1)).isTrue();
    assertThat(c.take("s1", IntNode.valueOf(1), 2)).isFalse();
  }

  @Test
  void cancelsAreForgottenAfterTheirTimeAndBeyondTheBound() {
    EarlyCancels c = new EarlyCancels();
    c.remember("s1", IntNode.valueOf(1), 0);
    assertThat(c.take("s1", IntNode.valueOf(1), EarlyCancels.KEEP.toNanos())).isFalse();

    for (int i = 0; i < EarlyCancels.MAX + 10; i++) {
      c.remember("s", IntNode.valueOf(i), 1);
    }
    assertThat(c.size()).isEqualTo(EarlyCancels.MAX);
    assertThat(c.take("s", IntNode.valueOf(0), 2)).as("the oldest went first").isFalse();
    assertThat(c.take("s", IntNode.valueOf(EarlyCancels.MAX + 9), 2)).isTrue();
    // Expired entries are dropped when the next cancel is remembered.
    c.remember("t", IntNode.valueOf(1), 1 + EarlyCancels.KEEP.toNanos());
    assertThat(c.size()).isEqualTo(1);
  }
}
