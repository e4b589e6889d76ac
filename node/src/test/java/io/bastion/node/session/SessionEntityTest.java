package io.bastion.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.call.RequestStream;
import io.bastion.node.call.SessionInfo;
import io.bastion.node.upstream.UpstreamServer;
import io.bastion.protocol.ErrorCodes;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link SessionEntity} on its own: server→client requests expire (the upstream is told a timeout
 * error), are capped per session, and are answered when the session ends; a session's end reaches
 * the upstreams that hold its resource subscriptions. The upstream and the shard are probes.
 */
class SessionEntityTest {
  private static final JsonNodeFactory N = JsonNodeFactory.instance;
  private static final Duration SHORT = Duration.ofMillis(300);
  private static final Duration LONG = Duration.ofHours(1);
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("session-entity", ConfigFactory.parseString("""
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

  /** One session entity wired to probes. */
  private static final class Fixture {
    final TestProbe<UpstreamServer.Command> upstream = kit.createTestProbe();
    final TestProbe<ClusterSharding.ShardCommand> shard = kit.createTestProbe();
    final TestProbe<RequestStream.Event> stream = kit.createTestProbe();
    final TestProbe<SessionInfo> infos = kit.createTestProbe();
    final TestProbe<PendingAnswer> answers = kit.createTestProbe();
    final Set<String> asked = new HashSet<>();
    final ActorRef<SessionEntity.Command> session;

    Fixture(String id, Duration pendingTimeout, int maxPending, boolean open) {
      this(id, LONG, pendingTimeout, maxPending, open);
    }

    Fixture(String id, Duration idle, Duration pendingTimeout, int maxPending, boolean open) {
      session = kit.spawn(SessionEntity.create(id, idle, pendingTimeout, maxPending, server -> {
        asked.add(server);
        return upstream.ref();
      }, shard.ref(), null));
      if (open) {
        ObjectNode caps = N.objectNode();
        caps.putObject("sampling");
        session.tell(new SessionEntity.Open("2025-11-25", null, caps, null, infos.ref(), null));
        assertThat(infos.receiveMessage().found()).isTrue();
        session.tell(new SessionEntity.AttachStream(stream.ref()));
      }
    }

    /** Sends a sampling request from upstream id {@code upstreamId}; returns the downstream id it got. */
    String serverRequest(long upstreamId) {
      session.tell(new SessionEntity.ServerRequest("up", N.numberNode(upstreamId), "sampling/createMessage",
          N.objectNode(), null));
      ObjectNode request = ((RequestStream.Message) stream.receiveMessage()).json();
      assertThat(request.path("method").asText()).isEqualTo("sampling/createMessage");
      return request.path("id").asText();
    }

    UpstreamServer.ClientAnswer answer() {
      return upstream.expectMessageClass(UpstreamServer.ClientAnswer.class, Duration.ofSeconds(5));
    }

    PendingAnswer resolve(String downstreamId) {
      session.tell(new SessionEntity.ResolveClientResponse(N.textNode(downstreamId), answers.ref()));
      return answers.receiveMessage();
    }
  }

  @Test
  void anUnansweredServerRequestExpiresWithATimeoutErrorToTheUpstream() {
    Fixture f = new Fixture("expire", SHORT, SessionEntity.MAX_PENDING, true);
    String downstreamId = f.serverRequest(7);

    UpstreamServer.ClientAnswer a = f.answer();
    assertThat(a.upstreamId().asLong()).isEqualTo(7);
    assertThat(a.message().path("error").path("code").asInt()).isEqualTo(ErrorCodes.REQUEST_TIMEOUT);
    assertThat(a.message().path("error").path("message").asText()).contains("timed out").contains("sampling/createMessage");
    assertThat(f.asked).containsExactly("up");

    // The client is told the request is cancelled, and a late answer finds nothing.
    ObjectNode cancelled = ((RequestStream.Message) f.stream.receiveMessage()).json();
    assertThat(cancelled.path("method").asText()).isEqualTo("notifications/cancelled");
    assertThat(cancelled.path("params").path("requestId").asText()).isEqualTo(downstreamId);
    assertThat(f.resolve(downstreamId).found()).isFalse();
  }

  @Test
  void anAnsweredServerRequestDoesNotExpire() {
    Fixture f = new Fixture("answered", SHORT, SessionEntity.MAX_PENDING, true);
    String downstreamId = f.serverRequest(8);
    PendingAnswer p = f.resolve(downstreamId);
    assertThat(p.found()).isTrue();
    assertThat(p.upstreamId().asLong()).isEqualTo(8);
    f.upstream.expectNoMessage(SHORT.multipliedBy(3));
    f.stream.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void pendingRequestsAreCappedPerSession() {
    Fixture f = new Fixture("capped", LONG, 2, true);
    String first = f.serverRequest(1);
    f.serverRequest(2);

    f.session.tell(new SessionEntity.ServerRequest("up", N.numberNode(3), "sampling/createMessage", N.objectNode(), null));
    UpstreamServer.ClientAnswer refused = f.answer();
    assertThat(refused.upstreamId().asLong()).isEqualTo(3);
    assertThat(refused.message().path("error").path("code").asInt()).isEqualTo(ErrorCodes.GATEWAY_ERROR);
    f.stream.expectNoMessage(Duration.ofMillis(200));

    // Answering one makes room again.
    assertThat(f.resolve(first).found()).isTrue();
    f.serverRequest(4);
    f.upstream.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void terminatingAnswersPendingRequestsAndEndsSubscriptions() {
    Fixture f = new Fixture("terminated", LONG, SessionEntity.MAX_PENDING, true);
    f.serverRequest(5);
    f.session.tell(new SessionEntity.Subscribed("up"));
    ObjectNode updated = N.objectNode().put("jsonrpc", "2.0").put("method", "notifications/resources/updated");
    updated.putObject("params").put("uri", "up+test://x");
    f.session.tell(new SessionEntity.ResourceUpdated("up", updated));
    assertThat(((RequestStream.Message) f.stream.receiveMessage()).json()).isEqualTo(updated);

    f.session.tell(new SessionEntity.Terminate(f.infos.ref()));
    assertThat(f.infos.receiveMessage().found()).isTrue();
    List<UpstreamServer.Command> told = f.upstream.receiveSeveralMessages(2, Duration.ofSeconds(5));
    assertThat(told).contains(new UpstreamServer.SessionEnded("terminated"));
    UpstreamServer.ClientAnswer a = told.stream().filter(UpstreamServer.ClientAnswer.class::isInstance)
        .map(UpstreamServer.ClientAnswer.class::cast).findFirst().orElseThrow();
    assertThat(a.upstreamId().asLong()).isEqualTo(5);
    assertThat(a.message().has("error")).isTrue();
    f.shard.expectMessageClass(ClusterSharding.Passivate.class);

    // Stopping afterwards (the passivation) tells nobody twice.
    f.session.tell(SessionEntity.Stop.INSTANCE);
    f.upstream.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aSessionThatIdlesOutOrIsHandedOffEndsItsSubscriptions() {
    Fixture f = new Fixture("stopped", LONG, SessionEntity.MAX_PENDING, true);
    f.session.tell(new SessionEntity.Subscribed("up"));
    f.session.tell(new SessionEntity.Subscribed("up"));
    f.session.tell(SessionEntity.Stop.INSTANCE);
    assertThat(f.upstream.receiveMessage()).isEqualTo(new UpstreamServer.SessionEnded("stopped"));
    f.upstream.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aSubscriptionOrUpdateForAGoneSessionIsPrunedAtOnce() {
    Fixture f = new Fixture("gone", LONG, SessionEntity.MAX_PENDING, false);
    f.session.tell(new SessionEntity.Subscribed("up"));
    assertThat(f.upstream.receiveMessage()).isEqualTo(new UpstreamServer.SessionEnded("gone"));
    f.shard.expectMessageClass(ClusterSharding.Passivate.class);

    ObjectNode updated = N.objectNode().put("jsonrpc", "2.0").put("method", "notifications/resources/updated");
    f.session.tell(new SessionEntity.ResourceUpdated("up", updated));
    assertThat(f.upstream.receiveMessage()).isEqualTo(new UpstreamServer.SessionEnded("gone"));
    f.stream.expectNoMessage(Duration.ofMillis(100));
  }

  /**
   * Regression (found by the HTTP barrage's heap histogram): a GET stream that ends after its
   * session was deleted detaches from an id with no session; the entity this starts must passivate
   * at once instead of living until the idle timeout.
   */
  @Test
  void aStreamEndingAfterItsSessionWasDeletedLeavesNoEntityBehind() {
    Fixture f = new Fixture("deleted", LONG, SessionEntity.MAX_PENDING, false);
    f.session.tell(new SessionEntity.DetachStream(f.stream.ref()));
    f.shard.expectMessageClass(ClusterSharding.Passivate.class);

    Fixture open = new Fixture("open", LONG, SessionEntity.MAX_PENDING, true);
    open.session.tell(new SessionEntity.DetachStream(open.stream.ref()));
    open.shard.expectNoMessage(Duration.ofMillis(200));
  }

  /** A session opened without a GET stream (a stream alone keeps it from idling out). */
  private static Fixture openedWithoutStream(String id, Duration idle) {
    Fixture f = new Fixture(id, idle, LONG, SessionEntity.MAX_PENDING, false);
    f.session.tell(new SessionEntity.Open("2025-11-25", null, null, "k", f.infos.ref(), null));
    assertThat(f.infos.receiveMessage().found()).isTrue();
    return f;
  }

  @Test
  void anotherNodesCacheHearsEveryChangeAndADeleteWaitsForItsConfirmation() {
    Fixture f = openedWithoutStream("cached", LONG);
    TestProbe<RemoteSessions.Update> cache = kit.createTestProbe();

    f.session.tell(new SessionEntity.Validate(f.infos.ref(), cache.ref()));
    assertThat(f.infos.receiveMessage().keyName()).isEqualTo("k");
    RemoteSessions.Update first = cache.receiveMessage();
    assertThat(first.sessionId()).isEqualTo("cached");
    assertThat(first.info().found()).isTrue();
    assertThat(first.entity()).isEqualTo(f.session);
    assertThat(first.confirm()).isFalse();

    f.session.tell(new SessionEntity.AttachStream(f.stream.ref()));
    assertThat(cache.receiveMessage().info().stream()).isEqualTo(f.stream.ref());

    // The DELETE is answered only once the cache confirmed the end, and only then does it passivate.
    TestProbe<SessionInfo> deleted = kit.createTestProbe();
    f.session.tell(new SessionEntity.Terminate(deleted.ref()));
    RemoteSessions.Update end = cache.receiveMessage();
    assertThat(end.info().found()).isFalse();
    assertThat(end.confirm()).isTrue();
    deleted.expectNoMessage(Duration.ofMillis(300));
    f.shard.expectNoMessage(Duration.ofMillis(10));
    f.session.tell(new SessionEntity.Confirmed(cache.ref()));
    assertThat(deleted.receiveMessage().found()).as("the DELETE's answer: the session that was").isTrue();
    f.shard.expectMessageClass(ClusterSharding.Passivate.class);
    assertThat(LocalSessions.get(kit.system()).find("cached")).isEmpty();
  }

  @Test
  void aDeleteIsAnsweredEvenWhenACacheNeverConfirms() {
    Fixture f = openedWithoutStream("unconfirmed", LONG);
    TestProbe<RemoteSessions.Update> cache = kit.createTestProbe();
    f.session.tell(new SessionEntity.Validate(f.infos.ref(), cache.ref()));
    f.infos.receiveMessage();
    cache.receiveMessage();

    TestProbe<SessionInfo> deleted = kit.createTestProbe();
    f.session.tell(new SessionEntity.Terminate(deleted.ref()));
    assertThat(cache.receiveMessage().confirm()).isTrue();
    assertThat(deleted.receiveMessage(SessionPublication.CONFIRM_WITHIN.plusSeconds(5)).found()).isTrue();
    f.shard.expectMessageClass(ClusterSharding.Passivate.class);
  }

  @Test
  void anUnknownSessionTakesNoSubscriber() {
    Fixture f = new Fixture("unknown", LONG, SessionEntity.MAX_PENDING, false);
    TestProbe<RemoteSessions.Update> cache = kit.createTestProbe();
    f.session.tell(new SessionEntity.Validate(f.infos.ref(), cache.ref()));
    assertThat(f.infos.receiveMessage().found()).isFalse();
    cache.expectNoMessage(Duration.ofMillis(200));
    f.shard.expectMessageClass(ClusterSharding.Passivate.class);
  }

  /**
   * Regression: a request validated from {@link LocalSessions} sends the entity no message, so a
   * session used only that way idled out under its client after the idle timeout. Requests mark it
   * used ({@code LocalSessions.use}), other nodes' caches send {@code Touch}; neither idles out.
   */
  @Test
  void aSessionInUseOnItsOwnNodeOrThroughAnotherNodesCacheDoesNotIdleOut() throws InterruptedException {
    Duration idle = Duration.ofSeconds(1);
    Fixture local = openedWithoutStream("used-here", idle);
    Fixture remote = openedWithoutStream("used-elsewhere", idle);
    LocalSessions sessions = LocalSessions.get(kit.system());
    long until = System.nanoTime() + idle.multipliedBy(3).toNanos();
    while (System.nanoTime() < until) {
      assertThat(sessions.use("used-here")).isPresent();
      remote.session.tell(SessionEntity.Touch.INSTANCE);
      Thread.sleep(100);
    }
    local.shard.expectNoMessage(Duration.ofMillis(10));
    remote.shard.expectNoMessage(Duration.ofMillis(10));

    // Unused, both idle out.
    local.shard.expectMessageClass(ClusterSharding.Passivate.class, idle.multipliedBy(5));
    remote.shard.expectMessageClass(ClusterSharding.Passivate.class, idle.multipliedBy(5));
  }
}
