package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class GovernanceParsingTest {

  private static String key(String... extra) {
    return "virtual_keys:\n  - key_name: k1\n    key: vk-0123456789\n"
        + String.join("", java.util.Arrays.stream(extra).map(l -> "    " + l + "\n").toList());
  }

  @Test
  void fullGovernanceBlocksAreRead() {
    BastionConfig c = Yaml.parse(key("team: t1", "tool_groups: [g1]", "budget: {max_usd: 10.5, reset: 1d}",
        "rate_limit: {requests: 100, per: 1m, tools: {a__b: {requests: 5, per: 10s}}}")
        + "teams:\n  - {name: t1, customer: c1, budget: {max_usd: 100, reset: 1w}}\n"
        + "customers:\n  - {name: c1, budget: {max_usd: 1000, reset: 1M}}\n"
        + "tool_groups:\n  - name: g1\n    tools:\n      - {server: s, tools: [\"*\"]}\n");

    VirtualKeyConfig k = c.virtualKey("k1").orElseThrow();
    assertThat(k.team()).isEqualTo("t1");
    assertThat(k.toolGroups()).containsExactly("g1");
    assertThat(k.budget()).isEqualTo(new BudgetConfig(10.5, ResetPeriod.DAY));
    assertThat(k.rateLimit().overall()).isEqualTo(new RateLimitConfig.Limit(100, Duration.ofMinutes(1)));
    assertThat(k.rateLimit().forTool("a__b")).isEqualTo(new RateLimitConfig.Limit(5, Duration.ofSeconds(10)));
    assertThat(k.mcpClients()).isEmpty();
    assertThat(c.team("t1").orElseThrow().customer()).isEqualTo("c1");
    assertThat(c.customer("c1").orElseThrow().budget().reset()).isEqualTo(ResetPeriod.MONTH);
    assertThat(c.toolGroup("g1").orElseThrow().tools().get(0).selectsAll()).isTrue();
    assertThat(c.warnings()).anyMatch(w -> w.startsWith("tool_groups[0].tools[0].server: server \"s\" is not defined"));
  }

  @Test
  void negativeBudgetIsRejected() {
    assertThat(Yaml.problems(key("budget: {max_usd: -5, reset: 1d}")))
        .containsExactly("virtual_keys[0].budget.max_usd: expected a positive amount of USD, got -5.0");
  }

  @Test
  void absurdBudgetIsRejected() {
    assertThat(Yaml.problems(key("budget: {max_usd: 5000000000, reset: 1d}")))
        .containsExactly("virtual_keys[0].budget.max_usd: absurd budget 5.0E9 USD; the largest accepted is 1e9");
  }

  @Test
  void unknownResetPeriodListsTheAllowedOnes() {
    assertThat(Yaml.problems(key("budget: {max_usd: 5, reset: 2w}"))).containsExactly(
        "virtual_keys[0].budget.reset: unknown reset period \"2w\"; expected one of: 1m, 5m, 1h, 1d, 1w, 1M");
  }

  @Test
  void budgetNeedsBothKeys() {
    assertThat(Yaml.problems(key("budget: {}"))).containsExactly(
        "virtual_keys[0].budget.max_usd: is required (USD per reset period, e.g. 10.0)",
        "virtual_keys[0].budget.reset: is required");
  }

  @Test
  void tooShortKeyIsRejectedWithoutEchoingIt() {
    ConfigException e = Yaml.failure("virtual_keys:\n  - {key_name: k1, key: short}\n");

    assertThat(e.path()).isEqualTo("virtual_keys[0].key");
    assertThat(e.problem()).isEqualTo("too short: a key needs at least 8 characters, this one has 5");
    assertThat(e.getMessage()).doesNotContain("short\"");
  }

  @Test
  void blankOrMissingKeyIsRejected() {
    assertThat(Yaml.problems("virtual_keys:\n  - {key_name: k1, key: \"          \"}\n"))
        .containsExactly("virtual_keys[0].key: must not be blank");
    assertThat(Yaml.problems("virtual_keys:\n  - {key_name: k1}\n"))
        .containsExactly("virtual_keys[0].key: is required");
  }

  @Test
  void duplicateKeyValueIsRejectedWithoutEchoingIt() {
    ConfigException e = Yaml.failure("""
        virtual_keys:
          - {key_name: a, key: vk-same-secret}
          - {key_name: b, key: vk-same-secret}
        """);

    assertThat(e.problems()).extracting(p -> p.path() + ": " + p.problem()).containsExactly(
        "virtual_keys[1].key: the same key value as another virtual key (also at virtual_keys[0].key)");
    assertThat(e.getMessage()).doesNotContain("vk-same-secret");
  }

  @Test
  void duplicateKeyNameIsRejected() {
    assertThat(Yaml.problems("virtual_keys:\n  - {key_name: a, key: vk-11111111}\n  - {key_name: a, key: vk-22222222}\n"))
        .containsExactly("virtual_keys[1].key_name: duplicate key_name \"a\" (also at virtual_keys[0].key_name)");
  }

  @Test
  void unknownToolGroupReferencedByKeyIsRejected() {
    assertThat(Yaml.problems(key("tool_groups: [nope]") + "tool_groups:\n  - {name: g1, tools: [{server: s, tools: [a]}]}\n"))
        .containsExactly("virtual_keys[0].tool_groups[0]: unknown tool group \"nope\"; defined tool groups: g1");
  }

  @Test
  void unknownTeamIsRejected() {
    assertThat(Yaml.problems(key("team: ghost")))
        .containsExactly("virtual_keys[0].team: unknown team \"ghost\"; defined teams: (none)");
  }

  @Test
  void unknownCustomerOfATeamIsRejected() {
    assertThat(Yaml.problems("teams:\n  - {name: t, customer: ghost}\ncustomers:\n  - {name: c}\n"))
        .containsExactly("teams[0].customer: unknown customer \"ghost\"; defined customers: c");
  }

  @Test
  void duplicateTeamAndGroupNamesAreRejected() {
    assertThat(Yaml.problems("teams:\n  - {name: t}\n  - {name: t}\n"))
        .containsExactly("teams[1].name: duplicate team name \"t\" (also at teams[0].name)");
    assertThat(Yaml.problems("tool_groups:\n  - {name: g, tools: [{server: s, tools: [a]}]}\n"
        + "  - {name: g, tools: [{server: s, tools: [b]}]}\n"))
        .containsExactly("tool_groups[1].name: duplicate tool group name \"g\" (also at tool_groups[0].name)");
  }

  @Test
  void toolGroupNeedsToolsAndAValidName() {
    assertThat(Yaml.problems("tool_groups:\n  - {name: \"bad name\", tools: [{server: s, tools: [a]}]}\n"))
        .singleElement().asString().startsWith("tool_groups[0].name: expected a name of 1 to 64");
    assertThat(Yaml.problems("tool_groups:\n  - {name: g, tools: [{server: s, tools: []}]}\n"))
        .containsExactly("tool_groups[0].tools[0].tools: must not be empty (tool names, or [\"*\"] for all)");
  }

  @Test
  void emptyToolNameInAllowListIsRejected() {
    assertThat(Yaml.problems(key("mcp_clients: [{name: s, allowed_tools: [\"\"]}]")))
        .containsExactly("virtual_keys[0].mcp_clients[0].allowed_tools[0]: must not be empty");
  }

  @Test
  void rateLimitNeedsAtLeastOneRequestAndAPeriod() {
    assertThat(Yaml.problems(key("rate_limit: {requests: 0, per: 1m}")))
        .containsExactly("virtual_keys[0].rate_limit.requests: expected a whole number from 1 to 2147483647, got 0");
    assertThat(Yaml.problems(key("rate_limit: {requests: 5}")))
        .singleElement().asString().startsWith("virtual_keys[0].rate_limit.per: is required");
    assertThat(Yaml.problems(key("rate_limit: {tools: {t: {requests: 1.5, per: 1s}}}")))
        .containsExactly("virtual_keys[0].rate_limit.tools.t.requests: expected a whole number, got a number");
  }

  @Test
  void unknownKeyInsideAGovernanceBlockIsRejected() {
    assertThat(Yaml.problems(key("budget: {max_usd: 1, reset: 1d, currency: EUR}")))
        .containsExactly("virtual_keys[0].budget.currency: unknown key; expected one of: max_usd, reset");
  }
}
