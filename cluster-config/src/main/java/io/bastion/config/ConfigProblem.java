package io.bastion.config;

import java.util.Objects;

/**
 * One thing wrong with a config file.
 *
 * @param path where: a dotted path such as {@code mcp.servers[1].url}, {@code (root)} for the whole
 *     document, or {@code line 3, column 7} for a YAML syntax error
 * @param problem what was expected or what is wrong, e.g. {@code expected an http(s) URL, got "ftp://x"}
 */
public record ConfigProblem(String path, String problem) {

  public ConfigProblem {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(problem, "problem");
  }

  /** {@code <file>: <path>: <problem>}. */
  public String format(String file) {
    return file + ": " + path + ": " + problem;
  }
}
