package io.bastion.node.governance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.governance.GovernanceRegistry.Defined;
import io.bastion.node.governance.GovernanceRegistry.Dropped;
import io.bastion.node.governance.GovernanceRegistry.Entry;
import io.bastion.node.governance.GovernanceRegistry.Get;
import io.bastion.node.governance.GovernanceRegistry.Overlay;
import io.bastion.node.governance.GovernanceRegistry.Put;
import io.bastion.node.governance.GovernanceRegistry.Remove;
import io.bastion.node.testkit.JournalFixtures;
import io.bastion.node.testkit.TestConfigs;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link GovernanceRegistry} on the persistence test kit: each change is one event and answers the
 * new overlay, a malformed change is refused with nothing persisted, and the overlay is published
 * (to Distributed Data in a node, to a probe here) after every change and after recovery.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class GovernanceRegistryTest {
  private static final JsonNodeFactory N = JsonNodeFactory.instance;

  @JUnit5TestKit
  public final ActorTestKit testKit = new JUnit5TestKitBuilder().withName("governance-registry")
      .withCustomConfig(TestConfigs.eventSourced()).build();

  /** A fresh probe per test, so that no test sees what an earlier one published. */
  private volatile TestProbe<Overlay> published = testKit.createTestProbe();
  private final EventSourcedBehaviorTestKit<GovernanceRegistry.Command, GovernanceRegistry.Event, Overlay> registry =
      EventSourcedBehaviorTestKit.create(testKit.system(), GovernanceRegistry.create(o -> published.ref().tell(o)));

  @BeforeEach
  void reset() {
    published = testKit.createTestProbe();
    registry.clear();
  }

  /** Skips what earlier changes (and the test kit's restarts) published, up to {@code version}. */
  private Overlay publishedUpTo(long version) {
    List<Overlay> seen = published.fishForMessage(Duration.ofSeconds(5),
        o -> o.version() == version ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
    return seen.get(seen.size() - 1);
  }

  private static Entry team(String name, double maxUsd) {
    ObjectNode def = N.objectNode().put("name", name);
    def.putObject("budget").put("max_usd", maxUsd).put("reset", "1d");
    return new Entry(def, null, false);
  }

  private CommandResultWithReply<GovernanceRegistry.Command, GovernanceRegistry.Event, Overlay, StatusReply<Overlay>>
      put(String kind, String name, Entry entry) {
    return registry.runCommand(replyTo -> new Put(kind, name, entry, replyTo));
  }

  private CommandResultWithReply<GovernanceRegistry.Command, GovernanceRegistry.Event, Overlay, StatusReply<Overlay>>
      remove(String kind, String name) {
    return registry.runCommand(replyTo -> new Remove(kind, name, replyTo));
  }

  @Test
  void aPutIsOneEventAndAnswersAndPublishesTheNewOverlay() {
    Entry t1 = team("t1", 10.5);
    var result = put(GovernanceRegistry.TEAMS, "t1", t1);

    assertThat(result.event()).isEqualTo(new Defined("teams", "t1", t1));
    assertThat(result.reply().isSuccess()).isTrue();
    Overlay overlay = result.reply().getValue();
    assertThat(overlay.version()).isEqualTo(1);
    assertThat(overlay.of("teams")).containsOnly(Map.entry("t1", t1));
    assertThat(result.state()).isEqualTo(overlay);
    assertThat(publishedUpTo(1)).isEqualTo(overlay);
  }

  @Test
  void aTombstoneIsAnEntryLikeAnyOther() {
    var result = put(GovernanceRegistry.KEYS, "from-config", new Entry(null, null, true));
    assertThat(result.state().of("keys").get("from-config").deleted()).isTrue();
    assertThat(result.state().version()).isEqualTo(1);
  }

  @Test
  void aRemoveDropsTheEntry() {
    put(GovernanceRegistry.GROUPS, "g", new Entry(N.objectNode().put("name", "g"), null, false));
    var result = remove(GovernanceRegistry.GROUPS, "g");

    assertThat(result.event()).isEqualTo(new Dropped("groups", "g"));
    assertThat(result.reply().getValue().version()).isEqualTo(2);
    assertThat(result.state().of("groups")).isEmpty();
  }

  @Test
  void removingWhatIsNotThereAnswersTheOverlayAndPersistsNothing() {
    put(GovernanceRegistry.TEAMS, "t1", team("t1", 1));
    var result = remove(GovernanceRegistry.TEAMS, "nobody");

    assertThat(result.hasNoEvents()).isTrue();
    assertThat(result.reply().getValue()).isEqualTo(registry.getState());
    assertThat(result.reply().getValue().version()).isEqualTo(1);
  }

  @Test
  void aMalformedChangeIsRefusedAndPersistsNothing() {
    List<CommandResultWithReply<GovernanceRegistry.Command, GovernanceRegistry.Event, Overlay, StatusReply<Overlay>>>
        refused = List.of(put("widgets", "w", team("w", 1)), put(GovernanceRegistry.TEAMS, " ", team("x", 1)),
            put(GovernanceRegistry.TEAMS, "t", null), remove("widgets", "w"), remove(GovernanceRegistry.KEYS, ""));
    for (var r : refused) {
      assertThat(r.hasNoEvents()).isTrue();
      assertThat(r.reply().isError()).isTrue();
    }
    assertThat(refused.get(0).reply().getError().getMessage()).contains("unknown kind [widgets]");
    assertThat(registry.getState()).isEqualTo(Overlay.EMPTY);
  }

  @Test
  void getAnswersTheOverlay() {
    put(GovernanceRegistry.CUSTOMERS, "acme", team("acme", 3));
    var result = registry.<Overlay>runCommand(Get::new);
    assertThat(result.hasNoEvents()).isTrue();
    assertThat(result.reply()).isEqualTo(registry.getState());
  }

  @Test
  void recoveryRestoresAndRepublishesTheOverlayFromASnapshot() {
    for (int i = 0; i < 101; i++) {
      put(GovernanceRegistry.TEAMS, "t" + (i % 7), team("t" + (i % 7), i));
    }
    Overlay before = registry.getState();
    assertThat(registry.snapshotTestKit().orElseThrow()
        .expectNextPersistedClass("GovernanceRegistry|registry", Overlay.class).version()).isEqualTo(100);

    assertThat(publishedUpTo(101)).isEqualTo(before);

    assertThat(registry.restart().state()).isEqualTo(before);
    published.expectMessage(before);
  }

  @Test
  void recoversFromTheJournalFormatOfTheFormerClass() {
    List<Object> old = JournalFixtures.read(testKit.system(), "/governance/governance-registry-v0.txt");
    Entry k1 = ((Defined) old.get(0)).entry();
    assertThat(k1.keyHash()).isEqualTo("ab".repeat(32));
    assertThat(k1.definition().path("mcp_clients").path(0).path("tools").path(0).asText()).isEqualTo("*");
    Entry t1 = ((Defined) old.get(1)).entry();
    assertThat(t1.definition().path("budget").path("max_usd").asDouble()).isEqualTo(10.5);

    registry.initialize(old.subList(0, 4).toArray());
    Overlay recovered = registry.getState();
    assertThat(recovered.version()).isEqualTo(4);
    assertThat(recovered.of("keys")).containsOnly(Map.entry("k1", k1));
    assertThat(recovered.of("teams")).containsOnly(Map.entry("t1", t1));
    assertThat(recovered.of("customers")).isEmpty();

    Overlay snapshot = (Overlay) old.get(4);
    assertThat(snapshot).isEqualTo(new Overlay(7, Map.of("keys", Map.of("k1", k1), "teams", Map.of("t1", t1))));
  }
}
