package io.bastion.node.governance;

import static org.assertj.core.api.Assertions.assertThat;

import io.bastion.config.BudgetConfig;
import io.bastion.config.CustomerConfig;
import io.bastion.config.RateLimitConfig;
import io.bastion.config.ResetPeriod;
import io.bastion.config.TeamConfig;
import io.bastion.config.VirtualKeyConfig;
import io.bastion.node.governance.BudgetEntity.Admit;
import io.bastion.node.governance.BudgetEntity.GetUsage;
import io.bastion.node.governance.BudgetEntity.Level;
import io.bastion.node.governance.BudgetEntity.Reserved;
import io.bastion.node.governance.BudgetEntity.Settled;
import io.bastion.node.governance.BudgetEntity.State;
import io.bastion.node.governance.BudgetEntity.Usage;
import io.bastion.node.governance.BudgetEntity.Verdict;
import io.bastion.node.testkit.JournalFixtures;
import io.bastion.node.testkit.TestConfigs;
import io.bastion.protocol.ErrorCodes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BudgetEntity} on the persistence test kit: which calls are admitted, what is persisted
 * (a reservation per block, the exact spend on a tick or a stop, nothing for a refusal), and what
 * a restart recovers. One entity for the budget root {@code customer:acme}; the clock is manual
 * and the tick never fires on its own, so every event in a test is caused by that test.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class BudgetEntityTest {
  private static final String ROOT = "customer:acme";
  private static final long START = Instant.parse("2030-03-04T10:00:00Z").toEpochMilli();
  private static final long DAY_END = Instant.parse("2030-03-05T00:00:00Z").toEpochMilli();
  private static final long MILLI_USD = 1_000_000L; // $0.001 in nano-dollars

  @JUnit5TestKit
  public final ActorTestKit testKit = new JUnit5TestKitBuilder().withName("budget-entity")
      .withCustomConfig(TestConfigs.eventSourced()).build();

  private final AtomicLong clock = new AtomicLong(START);
  private final Map<String, KeyDirectory.Key> keys = new ConcurrentHashMap<>();
  private final EventSourcedBehaviorTestKit<BudgetEntity.Command, BudgetEntity.Event, State> budget =
      EventSourcedBehaviorTestKit.create(testKit.system(), BudgetEntity.create(ROOT,
          name -> Optional.ofNullable(keys.get(name)), clock::get, Duration.ofDays(100)));

  private static final CustomerConfig ACME = new CustomerConfig("acme", daily(1.0));
  private static final TeamConfig TEAM = new TeamConfig("t1", "acme", daily(0.5));

  private static BudgetConfig daily(double usd) {
    return new BudgetConfig(usd, ResetPeriod.DAY);
  }

  private static KeyDirectory.Key key(String name, BudgetConfig budget, RateLimitConfig rate, TeamConfig team,
      CustomerConfig customer) {
    return new KeyDirectory.Key(new VirtualKeyConfig(name, "secret-" + name, List.of(), team == null ? null
        : team.name(), List.of(), budget, rate), team, customer, new byte[32]);
  }

  @BeforeEach
  void reset() {
    budget.clear();
    clock.set(START);
    keys.clear();
    keys.put("spender", key("spender", daily(0.0025), null, TEAM, ACME));
    keys.put("limited", key("limited", null, new RateLimitConfig(new RateLimitConfig.Limit(2, Duration.ofMinutes(1)),
        Map.of("s__slow", new RateLimitConfig.Limit(1, Duration.ofMinutes(1)))), TEAM, ACME));
    keys.put("elsewhere", key("elsewhere", daily(1.0), null, null, null)); // root key:elsewhere
  }

  private CommandResultWithReply<BudgetEntity.Command, BudgetEntity.Event, State, Verdict> admit(String key,
      String tool, long costNanos) {
    return budget.runCommand(replyTo -> new Admit(key, tool, costNanos, replyTo));
  }

  private CommandResultWithReply<BudgetEntity.Command, BudgetEntity.Event, State, Verdict> admit(String key,
      long admissionId) {
    return budget.runCommand(replyTo -> new Admit(key, "s__echo", 0, admissionId, replyTo));
  }

  private Usage usage() {
    return budget.<Usage>runCommand(GetUsage::new).reply();
  }

  @Test
  void theFirstChargedCallReservesABlockAtEveryLevelBeforeItIsAdmitted() {
    var result = admit("spender", "s__echo", MILLI_USD);

    assertThat(result.reply().admitted()).isTrue();
    assertThat(result.reply().outcome()).isEqualTo("ok");
    // Spend + a block of 100 calls' cost, capped at each level's limit.
    Reserved reserved = result.eventOfType(Reserved.class);
    assertThat(reserved.levels()).containsOnly(
        Map.entry("key:spender", new Level(DAY_END, 2_500_000L)),
        Map.entry("team:t1", new Level(DAY_END, 101 * MILLI_USD)),
        Map.entry("customer:acme", new Level(DAY_END, 101 * MILLI_USD)));
    assertThat(result.state().levels()).isEqualTo(reserved.levels());
  }

  @Test
  void callsWithinTheReservationAreAdmittedWithoutAWrite() {
    admit("spender", "s__echo", MILLI_USD);
    var second = admit("spender", "s__echo", MILLI_USD);

    assertThat(second.reply().admitted()).isTrue();
    assertThat(second.hasNoEvents()).isTrue();
    assertThat(usage().usd()).containsEntry("key:spender", 0.002).containsEntry("team:t1", 0.002);
  }

  @Test
  void aCallThatWouldPassABudgetIsRefusedAndPersistsNothing() {
    admit("spender", "s__echo", MILLI_USD);
    admit("spender", "s__echo", MILLI_USD);
    var refused = admit("spender", "s__echo", MILLI_USD);

    assertThat(refused.hasNoEvents()).isTrue();
    Verdict v = refused.reply();
    assertThat(v.admitted()).isFalse();
    assertThat(v.code()).isEqualTo(ErrorCodes.BUDGET_EXCEEDED);
    assertThat(v.outcome()).isEqualTo("over_budget");
    assertThat(v.message()).startsWith("Budget exceeded: the key spender has spent $0.002 of $0.0025");
    assertThat(v.data().path("level").asText()).isEqualTo("key");
    assertThat(v.data().path("resetAt").asText()).isEqualTo("2030-03-05T00:00:00Z");
    // The refused call was not charged.
    assertThat(usage().usd()).containsEntry("key:spender", 0.002);
  }

  @Test
  void aRetriedAdmissionIsAnsweredAgainWithoutBeingCountedTwice() {
    var first = admit("limited", 42L);
    // The edge asks again with the same id (its first ask timed out while a shard moved).
    var again = admit("limited", 42L);
    assertThat(first.reply().admitted()).isTrue();
    assertThat(again.reply()).isEqualTo(first.reply());
    assertThat(again.hasNoEvents()).isTrue();
    // The limit is 2 per minute: the retry did not use the second call.
    assertThat(admit("limited", 43L).reply().admitted())
        .isTrue();
    assertThat(admit("limited", "s__echo", 0).reply().admitted()).isFalse();
    // A retry is answered from memory, whatever happened since: a refused call stays refused.
    var refused = admit("limited", 44L);
    assertThat(refused.reply().admitted()).isFalse();
    clock.addAndGet(60_000);
    assertThat(admit("limited", 44L).reply())
        .isEqualTo(refused.reply());
  }

  @Test
  void aBudgetWindowThatEndedStartsAgainFromZero() {
    admit("spender", "s__echo", MILLI_USD);
    admit("spender", "s__echo", MILLI_USD);
    clock.set(DAY_END);

    var next = admit("spender", "s__echo", MILLI_USD);

    assertThat(next.reply().admitted()).isTrue();
    long nextEnd = DAY_END + Duration.ofDays(1).toMillis();
    assertThat(next.eventOfType(Reserved.class).levels()).containsEntry("key:spender", new Level(nextEnd, 2_500_000L));
    assertThat(usage().usd()).containsEntry("key:spender", 0.001);
  }

  @Test
  void rateLimitsRefuseWithARetryHintAndCountOnlyAdmittedCalls() {
    assertThat(admit("limited", "s__echo", 0).reply().admitted()).isTrue();
    assertThat(admit("limited", "s__echo", 0).reply().admitted()).isTrue();
    var refused = admit("limited", "s__echo", 0);

    assertThat(refused.hasNoEvents()).isTrue();
    assertThat(refused.reply().code()).isEqualTo(ErrorCodes.RATE_LIMITED);
    assertThat(refused.reply().outcome()).isEqualTo("rate_limited");
    assertThat(refused.reply().data().path("scope").asText()).isEqualTo("key");
    assertThat(refused.reply().data().path("retryAfterMs").asLong()).isEqualTo(60_000L);

    clock.addAndGet(60_000);
    assertThat(admit("limited", "s__echo", 0).reply().admitted()).isTrue();
  }

  @Test
  void usageCountsEachRateWindowWithWhenItFreesAndEmpties() {
    assertThat(usage().rate()).isEmpty();
    admit("limited", "s__slow", 0);
    clock.addAndGet(20_000);
    admit("limited", "s__echo", 0);
    clock.addAndGet(5_000);

    Map<String, BudgetEntity.RateUse> rate = usage().rate();
    assertThat(rate).containsOnly(
        Map.entry("key:limited", new BudgetEntity.RateUse(2, START + 60_000, START + 80_000)),
        Map.entry("key:limited|tool:s__slow", new BudgetEntity.RateUse(1, START + 60_000, START + 60_000)));
    // A key whose limit is gone no longer reports its window.
    keys.put("limited", key("limited", null, null, TEAM, ACME));
    assertThat(usage().rate()).isEmpty();
  }

  @Test
  void aToolsOwnRateLimitAppliesToThatToolOnly() {
    assertThat(admit("limited", "s__slow", 0).reply().admitted()).isTrue();
    Verdict refused = admit("limited", "s__slow", 0).reply();
    assertThat(refused.code()).isEqualTo(ErrorCodes.RATE_LIMITED);
    assertThat(refused.data().path("scope").asText()).isEqualTo("tool");
    assertThat(refused.data().path("tool").asText()).isEqualTo("s__slow");
    assertThat(admit("limited", "s__echo", 0).reply().admitted()).isTrue();
  }

  @Test
  void aKeyThisEntityDoesNotServeIsRefused() {
    for (String name : List.of("nobody", "elsewhere")) {
      var result = admit(name, "s__echo", MILLI_USD);
      assertThat(result.hasNoEvents()).isTrue();
      assertThat(result.reply().admitted()).isFalse();
      assertThat(result.reply().code()).isEqualTo(ErrorCodes.GATEWAY_ERROR);
      assertThat(result.reply().outcome()).isEqualTo("denied");
    }
  }

  @Test
  void aTickSettlesTheExactSpendOnceAndOnlyWhenItChanged() {
    admit("spender", "s__echo", MILLI_USD);
    admit("spender", "s__echo", MILLI_USD);

    var tick = budget.runCommand(BudgetEntity.Tick.INSTANCE);
    Settled settled = tick.eventOfType(Settled.class);
    assertThat(settled.levels()).containsEntry("key:spender", new Level(DAY_END, 2 * MILLI_USD))
        .containsEntry("customer:acme", new Level(DAY_END, 2 * MILLI_USD));
    assertThat(tick.state().bound("team:t1", DAY_END)).isEqualTo(2 * MILLI_USD);

    assertThat(budget.runCommand(BudgetEntity.Tick.INSTANCE).hasNoEvents()).isTrue();
  }

  @Test
  void aGracefulStopPersistsTheExactSpendAndTheRateWindows() {
    // The test kit cannot send a message that stops its actor: a second incarnation on the same
    // journal takes the calls and the stop, and the test kit's actor then recovers what it wrote.
    var entity = testKit.spawn(BudgetEntity.create(ROOT, name -> Optional.ofNullable(keys.get(name)), clock::get,
        Duration.ofDays(100)));
    TestProbe<Verdict> verdicts = testKit.createTestProbe();
    for (String key : List.of("spender", "limited", "limited")) {
      entity.tell(new Admit(key, "s__echo", "spender".equals(key) ? MILLI_USD : 0, verdicts.ref()));
      assertThat(verdicts.receiveMessage().admitted()).isTrue();
    }
    entity.tell(BudgetEntity.Stop.INSTANCE);
    verdicts.expectTerminated(entity);

    State recovered = budget.restart().state();
    assertThat(recovered.levels()).containsEntry("key:spender", new Level(DAY_END, MILLI_USD));
    assertThat(recovered.rateCounts()).containsEntry("key:limited", List.of(START, 1L, START, 1L));
    assertThat(usage().usd()).containsEntry("key:spender", 0.001);
    // The usage reports the recovered window before any new call, under the limit in force.
    clock.addAndGet(10_000);
    assertThat(usage().rate()).containsOnly(Map.entry("key:limited",
        new BudgetEntity.RateUse(2, START + 60_000, START + 60_000)));
    // The recovered window still counts the two calls.
    assertThat(admit("limited", "s__echo", 0).reply().code()).isEqualTo(ErrorCodes.RATE_LIMITED);
  }

  @Test
  void aCrashOverCountsByAtMostTheReservationAndNeverUnderCounts() {
    admit("spender", "s__echo", MILLI_USD);
    admit("spender", "s__echo", MILLI_USD);

    budget.restart(); // no Stop, no Tick: what a kill -9 leaves

    Map<String, Double> usd = usage().usd();
    assertThat(usd.get("key:spender")).isEqualTo(0.0025).isGreaterThanOrEqualTo(0.002);
    assertThat(usd.get("team:t1")).isEqualTo(0.101).isGreaterThanOrEqualTo(0.002);
  }

  @Test
  void aSnapshotEveryHundredEventsAndRecoveryFromIt() {
    for (int i = 0; i < 50; i++) {
      assertThat(admit("spender", "s__echo", 1).eventOfType(Reserved.class)).isNotNull();
      budget.runCommand(BudgetEntity.Tick.INSTANCE).eventOfType(Settled.class);
    }
    State before = budget.getState();
    State snapshot = budget.snapshotTestKit().orElseThrow()
        .expectNextPersistedClass("Budget|" + ROOT, State.class);
    assertThat(snapshot).isEqualTo(before);

    assertThat(budget.restart().state()).isEqualTo(before);
    assertThat(usage().usd()).containsEntry("key:spender", 50 / BudgetEntity.NANOS);
  }

  @Test
  void recoversFromTheJournalFormatOfTheFormerClass() {
    List<Object> old = JournalFixtures.read(testKit.system(), "/governance/budget-entity-v0.txt");
    long end = 4102444800000L;
    State snapshot = (State) old.get(4);
    assertThat(snapshot).isEqualTo(new State(Map.of("customer:c1", new Level(end, 70_000_000L)), Map.of(),
        Map.of("key:k1", List.of(5000L, 3L))));

    // The per-call timestamps of the format before RateWindow become (time, 1) pairs.
    Settled legacy = (Settled) old.get(2);
    assertThat(new State(Map.of(), legacy.rateWindows(), null).recoveredRateCounts())
        .containsEntry("key:k1", List.of(1000L, 1L, 2000L, 1L));

    budget.initialize(snapshot, old.subList(0, 4).toArray(BudgetEntity.Event[]::new));
    State recovered = budget.getState();
    assertThat(recovered.levels()).containsOnly(
        Map.entry("customer:c1", new Level(end, 70_000_000L)),
        Map.entry("key:k1", new Level(end, 50_000_000L)),
        Map.entry("team:t1", new Level(end, 40_000_000L)));
    assertThat(recovered.rateWindows()).isEmpty();
    assertThat(recovered.rateCounts()).containsOnly(Map.entry("key:k1|tool:s__echo", List.of(3000L, 2L)));
    assertThat(usage().usd()).containsEntry("customer:c1", 0.07).containsEntry("key:k1", 0.05);
  }
}
