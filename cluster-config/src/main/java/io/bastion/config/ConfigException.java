package io.bastion.config;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The config file cannot be used. Carries every problem found, not just the first; the message has
 * one line per problem, each {@code <file>: <path>: <problem>}.
 */
public final class ConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final List<ConfigProblem> problems;

  public ConfigException(Path file, List<ConfigProblem> problems) {
    super(format(file, problems));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one problem");
    }
    this.file = file;
    this.problems = List.copyOf(problems);
  }

  public ConfigException(Path file, ConfigProblem problem) {
    this(file, List.of(problem));
  }

  private static String format(Path file, List<ConfigProblem> problems) {
    String name = String.valueOf(file);
    return problems.stream().map(p -> p.format(name)).collect(Collectors.joining("\n"));
  }

  /** The file the problems are in (as given to the loader). */
  public Path file() {
    return file;
  }

  /** Path of the first problem. */
  public String path() {
    return problems.get(0).path();
  }

  /** Description of the first problem. */
  public String problem() {
    return problems.get(0).problem();
  }

  /** Every problem found, in document order as far as possible. */
  public List<ConfigProblem> problems() {
    return problems;
  }
}
