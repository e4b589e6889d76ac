package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import io.bastion.node.upstream.SubscriptionBook.Action;
import io.bastion.protocol.Json;
import io.bastion.protocol.Methods;
import org.junit.jupiter.api.Test;

class SubscriptionBookTest {

  private static UpstreamServer.Forward sub(String session, String uri) {
    return new UpstreamServer.Forward(session, IntNode.valueOf(1), Methods.RESOURCES_SUBSCRIBE,
        Json.object().put("uri", uri), null);
  }

  private static UpstreamServer.Forward unsub(String session, String uri) {
    return new UpstreamServer.Forward(session, IntNode.valueOf(2), Methods.RESOURCES_UNSUBSCRIBE,
        Json.object().put("uri", uri), null);
  }

  @Test
  void onlyTheFirstSubscriberAndTheLastLeaverReachTheUpstream() {
    SubscriptionBook book = new SubscriptionBook();
    assertThat(book.request(sub("a", "u"))).isEqualTo(Action.SEND);
    SubscriptionBook.Op op = book.op("u");
    assertThat(op.method).isEqualTo(Methods.RESOURCES_SUBSCRIBE);
    assertThat(book.answered("u", op, true)).isTrue();
    assertThat(book.op("u")).isNull();
    assertThat(book.request(sub("b", "u"))).isEqualTo(Action.ANSWER_NEW_SUBSCRIBER);
    assertThat(book.request(sub("b", "u"))).isEqualTo(Action.ANSWER);
    assertThat(book.subscribers("u")).containsExactlyInAnyOrder("a", "b");
    assertThat(book.request(unsub("a", "u"))).isEqualTo(Action.ANSWER);
    assertThat(book.request(unsub("a", "u"))).isEqualTo(Action.ANSWER);
    assertThat(book.request(unsub("b", "u"))).isEqualTo(Action.SEND);
    assertThat(book.op("u").method).isEqualTo(Methods.RESOURCES_UNSUBSCRIBE);
    assertThat(book.uris()).isEmpty();
  }

  @Test
  void requestsWaitWhileAnOpIsOnTheWire() {
    SubscriptionBook book = new SubscriptionBook();
    book.request(sub("a", "u"));
    SubscriptionBook.Op op = book.op("u");
    var later = unsub("a", "u");
    assertThat(book.request(later)).isEqualTo(Action.WAIT);
    assertThat(op.waiting).containsExactly(later);
    book.answered("u", op, true);
    // Replayed in order by the entity: now the unsubscribe goes upstream.
    assertThat(book.request(op.waiting.poll())).isEqualTo(Action.SEND);
  }

  @Test
  void aRefusedSubscribeLeavesNoSubscriber() {
    SubscriptionBook book = new SubscriptionBook();
    book.request(sub("a", "u"));
    assertThat(book.answered("u", book.op("u"), false)).isFalse();
    assertThat(book.subscribers("u")).isEmpty();
    assertThat(book.request(sub("a", "u"))).isEqualTo(Action.SEND);
  }

  @Test
  void aSessionEndUnsubscribesWhatNobodyWatchesNowOrAfterTheResubscribe() {
    SubscriptionBook book = new SubscriptionBook();
    for (String uri : new String[] {"u1", "u2", "u3"}) {
      book.request(sub("a", uri));
      book.answered(uri, book.op(uri), true);
    }
    book.request(sub("b", "u3"));
    // u2 is being re-subscribed after a reconnect.
    SubscriptionBook.Op resubscribe = book.start("u2", Methods.RESOURCES_SUBSCRIBE, null);
    assertThat(book.sessionEnded("a", true)).containsExactly("u1");
    assertThat(book.subscribers("u3")).containsExactly("b");
    assertThat(book.answered("u2", resubscribe, true)).isFalse();
    assertThat(book.unsubscribeDue("u2", resubscribe)).isTrue();
    // Not connected: nothing to send, the next connection does not re-subscribe.
    assertThat(book.sessionEnded("b", false)).isEmpty();
    assertThat(book.uris()).isEmpty();
  }

  @Test
  void aLostConnectionHandsBackTheWaitingClientsAndKeepsTheSubscribers() {
    SubscriptionBook book = new SubscriptionBook();
    book.request(sub("a", "u"));
    book.answered("u", book.op("u"), true);
    var first = sub("b", "v");
    var waiting = sub("c", "v");
    book.request(first);
    book.request(waiting);
    assertThat(book.abandonOps()).containsExactly(first, waiting);
    assertThat(book.op("v")).isNull();
    assertThat(book.uris()).containsExactly("u");
  }

  @Test
  void onlySubscribeAndUnsubscribeWithAUriAreSubscriptions() {
    assertThat(SubscriptionBook.isSubscription(sub("a", "u"))).isTrue();
    assertThat(SubscriptionBook.isSubscription(new UpstreamServer.Forward("a", IntNode.valueOf(1),
        Methods.RESOURCES_SUBSCRIBE, Json.object(), null))).isFalse();
    assertThat(SubscriptionBook.isSubscription(new UpstreamServer.Forward("a", IntNode.valueOf(1),
        Methods.TOOLS_CALL, Json.object().put("uri", "u"), null))).isFalse();
  }
}
