package io.bastion.config;

/** How Bastion talks to an upstream: {@code stdio}, {@code http} (streamable HTTP) or {@code sse} (legacy HTTP+SSE). */
public enum TransportType {
  STDIO("stdio"),
  HTTP("http"),
  SSE("sse");

  private final String yamlName;

  TransportType(String yamlName) {
    this.yamlName = yamlName;
  }

  public String yamlName() {
    return yamlName;
  }

  /** The type named {@code yamlName} ({@code stdio}, {@code http}, {@code sse}), if any. */
  public static java.util.Optional<TransportType> fromYaml(String yamlName) {
    for (TransportType t : values()) {
      if (t.yamlName.equals(yamlName)) {
        return java.util.Optional.of(t);
      }
    }
    return java.util.Optional.empty();
  }
}
