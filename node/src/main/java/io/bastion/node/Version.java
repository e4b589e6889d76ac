package io.bastion.node;

/** Bastion's version as reported to clients ({@code serverInfo}) and upstreams ({@code clientInfo}). */
public final class Version {
  public static final String VERSION = "0.1.0";

  private Version() {}
}
