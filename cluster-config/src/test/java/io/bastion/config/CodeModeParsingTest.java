package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CodeModeParsingTest {

  private static final String SERVERS = """
      mcp:
        servers:
          - {name: a, type: stdio, command: [run]}
          - {name: b, type: stdio, command: [run], code_mode: false}
          - {name: c, type: stdio, command: [run]}
      """;

  @Test
  void absentBlockLeavesCodeModeOff() {
    CodeModeConfig c = Yaml.parse(Yaml.stdioServer()).codeMode();
    assertThat(c.enabled()).isFalse();
    assertThat(c.coversServer("s1")).isFalse();
    assertThat(c.activeFor(null, null, 1000)).isFalse();
  }

  @Test
  void theSeedsBlockIsAcceptedVerbatim() {
    CodeModeConfig c = Yaml.parse("""
        mcp:
          servers:
            - {name: s1, type: stdio, command: [run]}
          code_mode:
            enabled: true
            sandbox: starlark
        """).codeMode();
    assertThat(c.enabled()).isTrue();
    assertThat(c.sandbox()).isEqualTo("starlark");
    assertThat(c.mode()).isEqualTo(CodeModeConfig.Mode.ON);
    assertThat(c.coversServer("s1")).isTrue();
    assertThat(c.binding()).isEqualTo(CodeModeConfig.Binding.SERVER);
    assertThat(c.limits()).isEqualTo(CodeModeConfig.Limits.DEFAULT);
    assertThat(c.activeFor("any", null, 1)).isTrue();
  }

  @Test
  void everySettingIsRead() {
    CodeModeConfig c = Yaml.parse(SERVERS + """
          code_mode:
            enabled: true
            mode: auto
            auto_threshold: 30
            servers: [a, b]
            binding: tool
            limits: {wall_time: 5s, max_steps: 5000, max_output: 8KiB, max_value_size: 1MiB,
                     max_allocation: 64MiB, max_nested_calls: 7, max_code_size: 16KiB, concurrency: 2, queue: 3}
            keys: {bot: off, agent: on}
            tool_groups: {small: auto}
        virtual_keys:
          - {key_name: bot, key: bot-key-123456, mcp_clients: [{name: a, allowed_tools: ["*"]}]}
          - {key_name: agent, key: agent-key-123456, mcp_clients: [{name: a, allowed_tools: ["*"]}]}
        tool_groups:
          - {name: small, tools: [{server: a, tools: ["*"]}]}
        """).codeMode();
    assertThat(c.mode()).isEqualTo(CodeModeConfig.Mode.AUTO);
    assertThat(c.autoThreshold()).isEqualTo(30);
    assertThat(c.binding()).isEqualTo(CodeModeConfig.Binding.TOOL);
    // the list names a and b; b's own flag says no; c is not listed
    assertThat(c.coversServer("a")).isTrue();
    assertThat(c.coversServer("b")).isFalse();
    assertThat(c.coversServer("c")).isFalse();
    assertThat(c.limits()).isEqualTo(new CodeModeConfig.Limits(Duration.ofSeconds(5), 5000, 8 * 1024,
        1024 * 1024, 64L * 1024 * 1024, 7, 16 * 1024, 2, 3));
    assertThat(c.activeFor("bot", null, 1000)).isFalse();
    assertThat(c.activeFor("agent", null, 1)).isTrue();
    assertThat(c.activeFor("other", null, 29)).isFalse();
    assertThat(c.activeFor("other", null, 30)).isTrue();
    assertThat(c.activeFor("agent", "small", 29)).as("the group's setting wins at /mcp/<group>").isFalse();
  }

  @Test
  void aServerFlagTurnsOneServerOnOrOffAgainstTheDefaultAll() {
    CodeModeConfig c = Yaml.parse(SERVERS + """
          code_mode: {enabled: true}
        """).codeMode();
    assertThat(c.coversServer("a")).isTrue();
    assertThat(c.coversServer("b")).isFalse();
    assertThat(c.coversServer("c")).isTrue();
  }

  @Test
  void errorsNameTheirPath() {
    assertThat(Yaml.problems(SERVERS + """
          code_mode:
            enabled: maybe
            sandbox: python
            mode: sometimes
            servers: all
            binding: file
            unknown: 1
            limits: {wall_time: 0s, max_steps: 10, max_output: 1B, max_nested_calls: -1, wat: 1}
            keys: {bot: never}
        """)).contains(
        "mcp.code_mode.enabled: expected true or false, got the string \"maybe\"",
        "mcp.code_mode.sandbox: expected starlark (the only sandbox), got \"python\"",
        "mcp.code_mode.mode: expected one of: on, off, auto; got \"sometimes\"",
        "mcp.code_mode.servers: expected \"*\" (every server) or a list of server names, got \"all\"",
        "mcp.code_mode.binding: expected server or tool, got \"file\"",
        "mcp.code_mode.limits.wall_time: must be greater than zero, got \"0s\"",
        "mcp.code_mode.limits.wat: unknown key; expected one of: wall_time, max_steps, max_output, max_value_size,"
            + " max_allocation, max_nested_calls, max_code_size, concurrency, queue",
        "mcp.code_mode.limits.max_steps: expected a whole number from 1000 to 10000000000, got 10",
        "mcp.code_mode.limits.max_output: expected a size from 1KiB to 64MiB, got \"1B\"",
        "mcp.code_mode.limits.max_nested_calls: expected a whole number from 0 to 100000, got -1",
        "mcp.code_mode.keys.bot: expected one of: on, off, auto; got \"never\"");
    assertThat(Yaml.problems(SERVERS + """
          code_mode: {enabled: true, unknown: 1}
        """)).anyMatch(p -> p.startsWith("mcp.code_mode.unknown: "));
    assertThat(Yaml.problems(SERVERS.replace("code_mode: false", "code_mode: sometimes")))
        .contains("mcp.servers[1].code_mode: expected true or false, got the string \"sometimes\"");
  }

  @Test
  void unknownServersKeysAndGroupsOnlyWarn() {
    BastionConfig c = Yaml.parse(SERVERS + """
          code_mode: {enabled: true, servers: [a, zz], keys: {ghost: off}}
        """);
    assertThat(c.warnings()).anyMatch(w -> w.startsWith("mcp.code_mode.servers: ") && w.contains("zz"))
        .anyMatch(w -> w.startsWith("mcp.code_mode.keys.ghost: "));
  }
}
