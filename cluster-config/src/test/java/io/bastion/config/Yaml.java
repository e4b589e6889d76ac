package io.bastion.config;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Test helpers: parse a YAML string, or collect the problems it has as {@code path: problem}. */
final class Yaml {

  static final Path FILE = Path.of("config/bastion.yaml");
  static final Map<String, String> ENV = Map.of(
      "GITHUB_TOKEN", "ghp_test",
      "LINEAR_MCP_URL", "https://mcp.linear.app/mcp",
      "LINEAR_TOKEN", "lin_test",
      "BASTION_ADMIN_TOKEN", "admin-token-0123456789",
      "PG_PASSWORD", "pg-secret");

  private Yaml() {}

  static BastionConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, FILE, ENV);
  }

  static BastionConfig parse(String yaml, Map<String, String> env) {
    return ConfigLoader.parse(yaml, FILE, env);
  }

  static ConfigException failure(String yaml) {
    return failure(yaml, ENV);
  }

  static ConfigException failure(String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse(yaml, FILE, env));
    if (e == null) {
      throw new AssertionError("expected a ConfigException for:\n" + yaml);
    }
    return e;
  }

  /** Each problem as {@code path: problem}. */
  static List<String> problems(String yaml) {
    return failure(yaml).problems().stream().map(p -> p.path() + ": " + p.problem()).toList();
  }

  /** A stdio server entry with extra lines (each already indented by 6 spaces). */
  static String stdioServer(String... extra) {
    return "mcp:\n  servers:\n    - name: s1\n      type: stdio\n      command: [\"run\"]\n"
        + String.join("", java.util.Arrays.stream(extra).map(l -> "      " + l + "\n").toList());
  }
}
