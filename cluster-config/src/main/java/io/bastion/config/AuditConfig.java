package io.bastion.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * {@code audit:}: how tool calls are recorded.
 *
 * @param arguments what is kept of call arguments (default {@link Arguments#REDACTED})
 * @param queueSize records buffered per node; when full, new records are dropped and counted (default 10000)
 * @param batchSize records per database write (default 500, ≤ queueSize)
 * @param flushInterval longest wait before a partial batch is written (default 1s)
 * @param redactKeys extra argument key names treated as secrets, on top of the built-in list
 */
public record AuditConfig(
    Arguments arguments, int queueSize, int batchSize, Duration flushInterval, List<String> redactKeys) {

  public static final int DEFAULT_QUEUE_SIZE = 10_000;
  public static final int DEFAULT_BATCH_SIZE = 500;
  public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(1);

  public static final AuditConfig DEFAULT = new AuditConfig(
      Arguments.REDACTED, DEFAULT_QUEUE_SIZE, DEFAULT_BATCH_SIZE, DEFAULT_FLUSH_INTERVAL, List.of());

  /** {@code full | redacted | hashed | off}. */
  public enum Arguments {
    FULL("full"),
    REDACTED("redacted"),
    HASHED("hashed"),
    OFF("off");

    private final String yamlName;

    Arguments(String yamlName) {
      this.yamlName = yamlName;
    }

    public String yamlName() {
      return yamlName;
    }
  }

  public AuditConfig {
    Objects.requireNonNull(arguments, "arguments");
    Objects.requireNonNull(flushInterval, "flushInterval");
    redactKeys = List.copyOf(redactKeys == null ? List.of() : redactKeys);
  }
}
