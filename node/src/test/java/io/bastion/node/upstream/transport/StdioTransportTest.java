package io.bastion.node.upstream.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.testkit.EverythingServer;
import io.bastion.node.testkit.RecordingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StdioTransportTest extends TransportContract {

  private static final Duration GRACE = Duration.ofMillis(500);
  private final List<StdioTransport> started = new ArrayList<>();

  @Override
  boolean relatesMessagesToRequests() {
    return false;
  }

  @BeforeEach
  void startEverything() throws Exception {
    listener = new RecordingListener();
    transport = startTransport(EverythingServer.startStdioConfig(), listener);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (StdioTransport t : started) {
      ProcessHandle p = t.processHandle();
      t.close().toCompletableFuture().get(20, TimeUnit.SECONDS);
      if (p != null) {
        assertThat(p.isAlive()).isFalse();
      }
    }
  }

  private StdioTransport startTransport(ServerConfig config, RecordingListener l) throws Exception {
    StdioTransport t = new StdioTransport(config, GRACE, StdioTransport.DEFAULT_STARTUP_WINDOW);
    started.add(t);
    t.start(l).toCompletableFuture().get(20, TimeUnit.SECONDS);
    return t;
  }

  private static Throwable startFailure(ServerConfig config) {
    StdioTransport t = new StdioTransport(config);
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> t.start(new RecordingListener()).toCompletableFuture().get(20, TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void missingCommandFailsStartWithClearMessage() {
    Throwable cause = startFailure(ServerConfig.stdio("nope", List.of("nope-bastion-no-such-program", "x")));
    assertThat(cause).hasMessage("command not found: nope-bastion-no-such-program");
  }

  @Test
  void commandThatExitsImmediatelyFailsStart() {
    Throwable cause = startFailure(ServerConfig.stdio("quits",
        List.of("sh", "-c", "echo 'bad config' >&2; exit 3")));
    assertThat(cause).isInstanceOf(UpstreamProcessExitedException.class)
        .hasMessageContaining("exited immediately with code 3")
        .hasMessageContaining("bad config");
    assertThat(((UpstreamProcessExitedException) cause).exitCode()).isEqualTo(3);
  }

  @Test
  void processKilledExternallySignalsOnClosedWithCause() throws Exception {
    initialize();
    ProcessHandle child = ((StdioTransport) transport).processHandle();
    child.destroyForcibly();
    Throwable cause = listener.awaitClosed(WAIT).orElseThrow();
    assertThat(cause).isInstanceOf(UpstreamProcessExitedException.class).hasMessageContaining("exited with code");
    assertThat(listener.closedCalls()).isEqualTo(1);
    assertThat(transport.send(notification("notifications/initialized")).toCompletableFuture())
        .failsWithin(Duration.ofSeconds(5));
  }

  @Test
  void closeKillsTheProcessAndItsDescendants() throws Exception {
    // like npx: a parent that spawns the real server as a child sharing its stdio
    String wrapper = "const c=require('child_process').spawn(process.execPath,[process.argv[1],'stdio'],"
        + "{stdio:'inherit'});process.on('SIGTERM',()=>{});c.on('exit',x=>process.exit(x??1));";
    RecordingListener l = new RecordingListener();
    StdioTransport t = startTransport(ServerConfig.stdio("wrapped",
        List.of(EverythingServer.nodeBinary(), "-e", wrapper, EverythingServer.script().toString())), l);
    transport = t;
    listener = l;
    initialize();
    ProcessHandle parent = t.processHandle();
    List<ProcessHandle> family = parent.descendants().toList();
    assertThat(family).isNotEmpty();

    t.close().toCompletableFuture().get(30, TimeUnit.SECONDS);

    assertThat(parent.isAlive()).isFalse();
    assertThat(family).noneMatch(ProcessHandle::isAlive);
    assertThat(l.awaitClosed(WAIT)).isEmpty();
  }

  @Test
  void closeEscalatesToSigkillForAStubbornProcessTree() throws Exception {
    // parent and grandchild ignore stdin EOF and SIGTERM: only SIGKILL ends them
    String stubborn = "process.on('SIGTERM',()=>{});setInterval(()=>{},1000);";
    String wrapper = "const c=require('child_process').spawn(process.execPath,['-e',process.argv[1]],"
        + "{stdio:'ignore'});" + stubborn;
    RecordingListener l = new RecordingListener();
    StdioTransport t = startTransport(ServerConfig.stdio("stubborn",
        List.of(EverythingServer.nodeBinary(), "-e", wrapper, stubborn)), l);
    ProcessHandle parent = t.processHandle();
    List<ProcessHandle> family = awaitDescendants(parent);

    t.close().toCompletableFuture().get(30, TimeUnit.SECONDS);

    assertThat(parent.isAlive()).isFalse();
    assertThat(family).noneMatch(ProcessHandle::isAlive);
    assertThat(l.awaitClosed(WAIT)).isEmpty();
  }

  private static List<ProcessHandle> awaitDescendants(ProcessHandle parent) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      List<ProcessHandle> family = parent.descendants().toList();
      if (!family.isEmpty()) {
        return family;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    throw new AssertionError("no descendants of " + parent.pid());
  }

  @Test
  void passesEnvAndCwdAndIgnoresNonJsonLines(@TempDir Path dir) throws Exception {
    Path real = dir.toRealPath();
    RecordingListener l = new RecordingListener();
    ServerConfig config = new ServerConfig("shell", TransportType.STDIO,
        List.of("sh", "-c", "echo 'not json'; echo '[1'; echo \"{\\\"foo\\\":\\\"$BASTION_FOO\\\",\\\"cwd\\\":\\\"$(pwd)\\\"}\"; "
            + "echo 'stderr line' >&2; cat > received.txt"),
        Map.of("BASTION_FOO", "bar"), real.toString(), null, Map.of(),
        null, null, null, null, null, null);
    StdioTransport t = startTransport(config, l);
    RecordingListener.Received r = l.await(x -> x.message().has("foo"), WAIT, "env echo");
    assertThat(r.message().path("foo").asText()).isEqualTo("bar");
    assertThat(r.message().path("cwd").asText()).isEqualTo(real.toString());
    assertThat(l.received()).hasSize(1);

    ObjectNode ping = request(7, "ping", null);
    t.send(ping).toCompletableFuture().get(10, TimeUnit.SECONDS);
    t.close().toCompletableFuture().get(20, TimeUnit.SECONDS);
    // stdin was closed gracefully: cat saw EOF and wrote what it got
    assertThat(Files.readString(real.resolve("received.txt")).strip())
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}");
    assertThat(l.awaitClosed(WAIT)).isEmpty();
  }
}
