package io.bastion.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness itself works: scenarios (1) direct, (3) through Bastion and (7) governance (two keys
 * on a second node), in-process, in smoke mode. Speed is not asserted (that is what {@code run.sh}
 * is for), only that calls went through. Scenario (4) needs two JVMs and PostgreSQL: run.sh only.
 */
class SmokeTest {

  @Test
  void smokeRunProducesRowsWithSuccessfulCallsAndNoErrors(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("smoke.md");
    BenchmarkMain.Options options = BenchmarkMain.Options.smoke();
    // The burst before the runs of Bastion (off in smoke mode), short: its path runs too.
    options.burst = java.time.Duration.ofSeconds(1);
    options.burstRate = 100;
    BenchmarkMain.Report report = BenchmarkMain.run(options
        .scenarios("direct", "bastion", "governance").inProcess(true).out(out));

    String[][] expected = {
        {BenchmarkMain.CALL, "(1) direct → mock"},
        {BenchmarkMain.CALL, "(3) Bastion → mock"},
        {BenchmarkMain.GOV, KeyAndClusterScenarios.UNLIMITED},
        {BenchmarkMain.GOV, KeyAndClusterScenarios.LIMITED},
    };
    for (String[] e : expected) {
      String scenario = e[1];
      BenchmarkMain.Row row = report.row(e[0], scenario);
      assertThat(row).as(scenario).isNotNull();
      assertThat(row.skipped()).as(scenario + " skipped").isFalse();
      assertThat(row.result().errors()).as(scenario + " errors; first: " + row.result().firstError()).isZero();
      assertThat(row.result().ok()).as(scenario + " successful calls").isPositive();
      // in-process: one CPU column for the whole JVM, sampled over the window (no value asserted)
      assertThat(row.result().usage().cpu().cpuMicros()).as(scenario + " CPU columns").containsKey(ProcCpu.IN_PROCESS);
      // Bastion's runs (3) and (7) start with the burst; the direct run does not.
      if (scenario.startsWith("(1)")) {
        assertThat(row.result().usage().warmupEnd()).as(scenario + " warm-up").doesNotContain("after");
      } else {
        assertThat(row.result().usage().warmupEnd()).as(scenario + " warm-up").endsWith(" (after 1 s at 100/s)");
      }
    }
    assertThat(out).exists();
    assertThat(report.markdown()).contains("| (1) direct → mock |").contains("| (3) Bastion → mock |")
        .contains("Limited / unlimited: p50").contains("Max throughput on one key")
        .contains(ProcCpu.IN_PROCESS + " µs/call").contains("warm-up");
  }
}
