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
}
