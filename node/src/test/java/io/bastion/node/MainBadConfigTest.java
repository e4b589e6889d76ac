package io.bastion.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code bastion --config bad.yaml} exits 2 and says which file, which path and what was expected. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class MainBadConfigTest {

  @Test
  void badServerUrlIsReportedWithFilePathAndExpectation(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("broken-bastion.yaml");
    Files.writeString(file, """
        mcp:
          servers:
            - name: good
              type: stdio
              command: ["node", "server.js"]
            - name: bad
              type: http
              url: "not a url"
        """);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new String[] {"--config", file.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    String e = err.toString(StandardCharsets.UTF_8);
    assertThat(code).as("stderr: %s", e).isEqualTo(2);
    assertThat(e).contains("broken-bastion.yaml").contains("mcp.servers[1].url")
        .contains("expected an http(s) URL").contains("not a url");
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("Bastion ready");
  }

  @Test
  void missingConfigFileExits2NamingTheFile(@TempDir Path dir) {
    Path file = dir.resolve("does-not-exist.yaml");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new String[] {"--config", file.toString()},
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("does-not-exist.yaml");
  }
}
