package io.bastion.node.it;

import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.EverythingServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Bastion's conformance fixture ({@code conformance-fixture.mjs}) over streamable HTTP on loopback. */
public final class FixtureServer implements AutoCloseable {
  private final Process process;
  private final URI url;

  private FixtureServer(Process process, URI url) {
    this.process = process;
    this.url = url;
  }

  public static Path script() {
    return TsClient.toolsDir().resolve("conformance-fixture.mjs");
  }

  /** The stdio command line of the fixture (the transport under test spawns it). */
  public static List<String> stdioCommand() {
    return List.of(EverythingServer.nodeBinary(), script().toString(), "--stdio");
  }

  /** Starts {@code --http} on an ephemeral port and waits for its LISTENING line (30 s at most). */
  public static FixtureServer startHttp(String... extra) {
    List<String> cmd = new ArrayList<>(List.of(EverythingServer.nodeBinary(), script().toString(), "--http"));
    cmd.addAll(Arrays.asList(extra));
    Process p;
    try {
      Path logDir = Path.of("target", "fixture-logs").toAbsolutePath();
      Files.createDirectories(logDir);
      p = new ProcessBuilder(cmd).directory(TsClient.toolsDir().toFile())
          .redirectError(ProcessBuilder.Redirect.appendTo(logDir.resolve("fixture.log").toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      try {
        String l;
        while ((l = reader.readLine()) != null) {
          if (l.startsWith("LISTENING ")) {
            return l.substring("LISTENING ".length()).trim();
          }
        }
        return null;
      } catch (IOException e) {
        return null;
      }
    });
    try {
      String u = line.get(30, TimeUnit.SECONDS);
      if (u == null) {
        throw new IllegalStateException("fixture exited without LISTENING: " + cmd);
      }
      return new FixtureServer(p, URI.create(u));
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException("fixture did not start: " + cmd, e);
    }
  }

  public URI url() {
    return url;
  }

  public ServerConfig config(String name) {
    return ServerConfig.remote(name, TransportType.HTTP, url);
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** Kills the process at once, as a crash would. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
      }
    }
  }
}
