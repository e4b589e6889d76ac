package io.bastion.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Collects problems and warnings while one file is read, and remembers which scalars came out of
 * {@code ${VAR}} interpolation (those may hold a number or boolean as text, since environment
 * variables are always strings).
 */
final class Diagnostics {

  private final List<ConfigProblem> problems = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private final Set<JsonNode> interpolated = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Set<JsonNode> unresolved = Collections.newSetFromMap(new IdentityHashMap<>());

  void problem(String path, String message) {
    problems.add(new ConfigProblem(path, message));
  }

  void warning(String path, String message) {
    warnings.add(path + ": " + message);
  }

  void markInterpolated(JsonNode node) {
    interpolated.add(node);
  }

  boolean isInterpolated(JsonNode node) {
    return interpolated.contains(node);
  }

  /** A scalar whose interpolation failed (already reported): readers skip it silently. */
  void markUnresolved(JsonNode node) {
    unresolved.add(node);
  }

  boolean isUnresolved(JsonNode node) {
    return unresolved.contains(node);
  }

  List<ConfigProblem> problems() {
    return problems;
  }

  List<String> warnings() {
    return warnings;
  }
}
