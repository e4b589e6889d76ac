package io.bastion.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pekko Persistence JDBC writes and recovers events and snapshots on a store made only by the
 * migrations (through {@link StoreSchema#ensure}, as the node does).
 */
@Timeout(120)
class JournalOnMigratedStoreTest {
  @TempDir
  Path dir;

  @Test
  void eventsAndSnapshotsSurviveARestart() throws Exception {
    StoreDatabase db = TestStores.h2(dir);
    ActorTestKit first = ActorTestKit.create("journal-1", TestStores.pekkoConfig(db));
    try {
      StoreSchema.ensure(first.system()).toCompletableFuture().get();
      ActorRef<Log.Command> log = first.spawn(Log.create("log-1"));
      TestProbe<List<String>> probe = first.createTestProbe();
      for (int i = 1; i <= 5; i++) {
        log.tell(new Log.Append("e" + i, probe.ref()));
        assertThat(probe.receiveMessage(TestStores.timeout())).hasSize(i);
      }
    } finally {
      first.shutdownTestKit();
    }
    assertThat(StoreSchemaTest.count(db, "SELECT COUNT(*) FROM \"event_journal\"")).isEqualTo(5);
    assertThat(StoreSchemaTest.count(db, "SELECT COUNT(*) FROM \"snapshot\"")).isPositive();

    ActorTestKit second = ActorTestKit.create("journal-2", TestStores.pekkoConfig(db));
    try {
      StoreSchema.ensure(second.system()).toCompletableFuture().get();
      ActorRef<Log.Command> log = second.spawn(Log.create("log-1"));
      TestProbe<List<String>> probe = second.createTestProbe();
      log.tell(new Log.Append("e6", probe.ref()));
      assertThat(probe.receiveMessage(TestStores.timeout())).containsExactly("e1", "e2", "e3", "e4", "e5", "e6");
    } finally {
      second.shutdownTestKit();
    }
  }

  /** A list of strings, journalled, with a snapshot every 2 events. */
  static final class Log extends EventSourcedBehavior<Log.Command, Log.Appended, Log.State> {
    interface Command {}

    record Append(String item, ActorRef<List<String>> replyTo) implements Command {}

    record Appended(String item) implements CborSerializable {}

    record State(List<String> items) implements CborSerializable {
      State with(String item) {
        List<String> l = new ArrayList<>(items);
        l.add(item);
        return new State(List.copyOf(l));
      }
    }

    static Behavior<Command> create(String id) {
      return new Log(PersistenceId.ofUniqueId(id));
    }

    private Log(PersistenceId id) {
      super(id);
    }

    @Override
    public State emptyState() {
      return new State(List.of());
    }

    @Override
    public CommandHandler<Command, Appended, State> commandHandler() {
      return newCommandHandlerBuilder().forAnyState().onCommand(Append.class,
          (state, c) -> Effect().persist(new Appended(c.item())).thenReply(c.replyTo(), State::items)).build();
    }

    @Override
    public EventHandler<State, Appended> eventHandler() {
      return newEventHandlerBuilder().forAnyState().onEvent(Appended.class, (state, e) -> state.with(e.item()))
          .build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
      return RetentionCriteria.snapshotEvery(2, 2);
    }
  }
}
