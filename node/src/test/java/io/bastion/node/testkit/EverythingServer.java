package io.bastion.node.testkit;

import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real {@code @modelcontextprotocol/server-everything} from npm, for tests.
 *
 * <p>Needs {@code npm ci} in {@code node/src/test/node}. node_modules is found through the system
 * property {@code bastion.test.node.modules} (default {@code src/test/node/node_modules}, relative
 * to the module directory, which is Maven's test cwd); the node binary through
 * {@code bastion.test.node} (default {@code node} on the PATH).
 *
 * <p>HTTP modes run with {@code node -r loopback.cjs} so the server binds 127.0.0.1 only, on a free
 * port picked here; process output goes to {@code target/everything-logs/}.
 *
 * <pre>{@code
 * ServerConfig stdio = EverythingServer.startStdioConfig();         // the transport spawns it
 * try (EverythingServer http = EverythingServer.startHttp()) {      // streamable HTTP, /mcp
 *   URI url = http.url();
 * }
 * }</pre>
 */
public final class EverythingServer implements AutoCloseable {

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final int port;
  private final URI url;
  private final Path logFile;

  private EverythingServer(Process process, int port, URI url, Path logFile) {
    this.process = process;
    this.port = port;
    this.url = url;
    this.logFile = logFile;
  }

  // ---- locations ----

  public static Path nodeModules() {
    String configured = System.getProperty("bastion.test.node.modules");
    Path dir = configured != null ? Path.of(configured) : Path.of("src", "test", "node", "node_modules");
    return dir.toAbsolutePath().normalize();
  }

  public static String nodeBinary() {
    return System.getProperty("bastion.test.node", "node");
  }

  /** {@code dist/index.js} of server-everything; fails with a hint when npm ci was not run. */
  public static Path script() {
    Path script = nodeModules().resolve("@modelcontextprotocol/server-everything/dist/index.js");
    if (!Files.isRegularFile(script)) {
      throw new IllegalStateException("server-everything not installed at " + script
          + ": run `npm ci` in node/src/test/node (or set -Dbastion.test.node.modules)");
    }
    return script;
  }

  /** The CommonJS preload that makes servers bind 127.0.0.1 by default. */
  public static Path loopbackPreload() {
    URL resource = EverythingServer.class.getResource("/loopback.cjs");
    if (resource == null) {
      throw new IllegalStateException("loopback.cjs missing from the test classpath");
    }
    try {
      return Path.of(resource.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- stdio ----

  /** The command line running server-everything over stdio. */
  public static List<String> stdioCommand() {
    return List.of(nodeBinary(), script().toString(), "stdio");
  }

  /** A stdio server config named {@code everything}; the transport under test spawns the process. */
  public static ServerConfig startStdioConfig() {
    return startStdioConfig("everything");
  }

  public static ServerConfig startStdioConfig(String name) {
    return ServerConfig.stdio(name, stdioCommand());
  }

  // ---- HTTP ----

  /** Starts server-everything's streamable HTTP mode; {@link #url()} is {@code http://127.0.0.1:<port>/mcp}. */
  public static EverythingServer startHttp() {
    return start("streamableHttp", "/mcp");
  }

  /** Starts server-everything's legacy HTTP+SSE mode; {@link #url()} is {@code http://127.0.0.1:<port>/sse}. */
  public static EverythingServer startSse() {
    return start("sse", "/sse");
  }

  /** A config of the given type pointing at this server. */
  public ServerConfig config(String name, TransportType type) {
    return ServerConfig.remote(name, type, url);
  }

  private static EverythingServer start(String mode, String path) {
    int port = freePort();
    Path logDir = Path.of("target", "everything-logs").toAbsolutePath();
    Path logFile = logDir.resolve(mode + "-" + port + ".log");
    Process process;
    try {
      Files.createDirectories(logDir);
      List<String> command = new ArrayList<>(List.of(nodeBinary(), "-r", loopbackPreload().toString(),
          script().toString(), mode));
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .redirectInput(ProcessBuilder.Redirect.PIPE);
      pb.environment().putAll(Map.of("PORT", Integer.toString(port)));
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start server-everything " + mode, e);
    }
    EverythingServer server = new EverythingServer(process, port,
        URI.create("http://127.0.0.1:" + port + path), logFile);
    try {
      server.awaitPort();
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  private void awaitPort() {
    long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("server-everything exited with " + process.exitValue()
            + " before listening; log: " + log());
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return;
      } catch (IOException notYet) {
        try {
          TimeUnit.MILLISECONDS.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    }
    throw new IllegalStateException("server-everything did not listen on port " + port
        + " within " + STARTUP_TIMEOUT + "; log: " + log());
  }

  /** A port that was free on 127.0.0.1 a moment ago. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public URI url() {
    return url;
  }

  public int port() {
    return port;
  }

  public ProcessHandle process() {
    return process.toHandle();
  }

  /** What the server printed so far (stdout and stderr). */
  public String log() {
    try {
      return Files.exists(logFile) ? Files.readString(logFile) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** Kills the server (and anything it spawned) at once, as a crash would. */
  public void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    List<ProcessHandle> family = process.descendants().toList();
    process.destroy();
    family.forEach(ProcessHandle::destroy);
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
    }
    family.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  @Override
  public String toString() {
    return "EverythingServer[" + url + ", pid " + process.pid() + "]";
  }
}
