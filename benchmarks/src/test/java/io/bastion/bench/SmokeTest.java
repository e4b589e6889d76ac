package io.bastion.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness itself works: scenarios (1) direct and (3) through Bastion, in-process, in smoke mode.
 * Speed is not asserted (that is what {@code run.sh} is for), only that calls went through.
 */
class SmokeTest {

  @Test
  void smokeRunProducesRowsWithSuccessfulCallsAndNoErrors(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("smoke.md");
    BenchmarkMain.Report report = BenchmarkMain.run(BenchmarkMain.Options.smoke()
        .scenarios("direct", "bastion").inProcess(true).out(out));

    for (String scenario : new String[] {"(1) direct → mock", "(3) Bastion → mock"}) {
      BenchmarkMain.Row row = report.row(BenchmarkMain.CALL, scenario);
      assertThat(row).as(scenario).isNotNull();
      assertThat(row.skipped()).as(scenario + " skipped").isFalse();
      assertThat(row.result().errors()).as(scenario + " errors; first: " + row.result().firstError()).isZero();
      assertThat(row.result().ok()).as(scenario + " successful calls").isPositive();
    }
    assertThat(out).exists();
    assertThat(report.markdown()).contains("| (1) direct → mock |").contains("| (3) Bastion → mock |");
  }
}
