package io.bastion.node.upstream.transport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.config.ServerConfig;
import io.bastion.protocol.Json;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An upstream MCP server run as a child process, speaking newline-delimited JSON-RPC on its
 * stdin / stdout (MCP stdio transport).
 *
 * <p>Threads (all daemon, named {@code bastion-upstream-<server>-…}): one reads stdout, one reads
 * stderr (each line logged at INFO to {@code bastion.upstream.<server>}), one single-threaded
 * executor writes stdin, one waits for the process to exit. {@link #send} only serializes the
 * message and hands it to the writer.
 */
public final class StdioTransport implements UpstreamTransport {

  /** Default wait after closing stdin, and again after SIGTERM, before escalating. */
  public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(2);

  /** A process that exits within this window after spawning fails {@link #start}. */
  public static final Duration DEFAULT_STARTUP_WINDOW = Duration.ofMillis(300);

  private static final Logger log = LoggerFactory.getLogger(StdioTransport.class);
  private static final int STDERR_TAIL_LINES = 20;
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final ServerConfig config;
  private final Duration gracePeriod;
  private final Duration startupWindow;
  private final Logger upstreamLog;
  private final String threadPrefix;

  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean closedSignalled = new AtomicBoolean();
  private final CompletableFuture<Void> startFuture = new CompletableFuture<>();
  private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
  private final Deque<String> stderrTail = new ArrayDeque<>();

  private volatile Listener listener;
  private volatile Process process;
  private volatile ExecutorService writer;
  private volatile OutputStream stdin;
  private volatile Thread stdoutThread;
  private volatile Thread stderrThread;

  public StdioTransport(ServerConfig config) {
    this(config, DEFAULT_GRACE_PERIOD, DEFAULT_STARTUP_WINDOW);
  }

  /**
   * @param gracePeriod how long {@link #close} waits after closing stdin, and again after SIGTERM
   * @param startupWindow a process that exits within this time fails {@link #start}
   */
  public StdioTransport(ServerConfig config, Duration gracePeriod, Duration startupWindow) {
    this.config = Objects.requireNonNull(config, "config");
    this.gracePeriod = Objects.requireNonNull(gracePeriod, "gracePeriod");
    this.startupWindow = Objects.requireNonNull(startupWindow, "startupWindow");
    this.upstreamLog = LoggerFactory.getLogger("bastion.upstream." + config.name());
    this.threadPrefix = "bastion-upstream-" + config.name() + "-" + INSTANCES.incrementAndGet();
  }

  /** The child process, once started (for diagnostics and tests). */
  public ProcessHandle processHandle() {
    Process p = process;
    return p == null ? null : p.toHandle();
  }

  @Override
  public CompletionStage<Void> start(Listener listener) {
    Objects.requireNonNull(listener, "listener");
    if (!started.compareAndSet(false, true)) {
      return CompletableFuture.failedFuture(new IllegalStateException("transport already started"));
    }
    this.listener = listener;
    List<String> command = config.command();
    if (command.isEmpty()) {
      return failStart(new IllegalArgumentException(
          "stdio upstream [" + config.name() + "] has no command"));
    }
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(config.env());
    if (config.cwd() != null) {
      File dir = new File(config.cwd());
      if (!dir.isDirectory()) {
        return failStart(new IOException("working directory not found: " + config.cwd()));
      }
      pb.directory(dir);
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return failStart(new IOException(ProcessTree.describeStartFailure(command.get(0), e), e));
    }
    process = p;
    stdin = p.getOutputStream();
    log.info("Started upstream [{}] pid [{}]: {}", config.name(), p.pid(), command);
    writer = Executors.newSingleThreadExecutor(r -> daemon(r, threadPrefix + "-stdin"));
    stdoutThread = daemon(() -> readStdout(p), threadPrefix + "-stdout");
    stderrThread = daemon(() -> readStderr(p), threadPrefix + "-stderr");
    stdoutThread.start();
    stderrThread.start();
    daemon(() -> awaitExit(p), threadPrefix + "-exit").start();
    CompletableFuture.delayedExecutor(startupWindow.toMillis(), TimeUnit.MILLISECONDS)
        .execute(() -> {
          if (p.isAlive()) {
            startFuture.complete(null);
          }
        });
    return startFuture;
  }

  private CompletionStage<Void> failStart(Throwable cause) {
    closing.set(true);
    closeFuture.complete(null);
    startFuture.completeExceptionally(cause);
    return startFuture;
  }

  @Override
  public CompletionStage<Void> send(ObjectNode message) {
    ExecutorService w = writer;
    if (w == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("transport not started"));
    }
    if (closing.get()) {
      return CompletableFuture.failedFuture(new IllegalStateException(
          "transport to [" + config.name() + "] is closed"));
    }
    byte[] line;
    try {
      byte[] json = Json.MAPPER.writeValueAsBytes(message);
      line = new byte[json.length + 1];
      System.arraycopy(json, 0, line, 0, json.length);
      line[json.length] = '\n';
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
    try {
      return CompletableFuture.runAsync(() -> {
        try {
          stdin.write(line);
          stdin.flush();
        } catch (IOException e) {
          throw new UncheckedIOException("write to [" + config.name() + "] stdin failed", e);
        }
      }, w);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new IllegalStateException(
          "transport to [" + config.name() + "] is closed"));
    }
  }

  @Override
  public CompletionStage<Void> close() {
    if (closing.compareAndSet(false, true)) {
      Process p = process;
      if (p == null) {
        closeFuture.complete(null);
      } else {
        daemon(() -> shutdown(p), threadPrefix + "-close").start();
      }
    }
    return closeFuture;
  }

  /** stdin close → grace → SIGTERM (process and descendants) → grace → SIGKILL. */
  private void shutdown(Process p) {
    try {
      Set<ProcessHandle> family = new LinkedHashSet<>();
      ProcessTree.collectDescendants(p, family);
      ExecutorService w = writer;
      Runnable closeStdin = this::closeStdin;
      Future<?> closedStdin;
      try {
        closedStdin = w.submit(closeStdin);
      } catch (RejectedExecutionException alreadyExited) {
        closeStdin.run();
        closedStdin = CompletableFuture.completedFuture(null);
      }
      w.shutdown();
      long graceMs = gracePeriod.toMillis();
      boolean exited = p.waitFor(graceMs, TimeUnit.MILLISECONDS);
      if (!closedStdin.isDone()) {
        w.shutdownNow(); // writer stuck on a full pipe: the signal below will unblock it
      }
      ProcessTree.collectDescendants(p, family);
      // Signal descendants before the parent: while the parent lives it reaps them, so none is
      // left as a zombie waiting for init.
      family.forEach(ProcessHandle::destroy);
      if (!exited) {
        log.info("Upstream [{}] still running {} ms after stdin closed: SIGTERM", config.name(), graceMs);
        p.destroy();
      }
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMs);
      exited = p.waitFor(graceMs, TimeUnit.MILLISECONDS);
      ProcessTree.awaitAll(family, deadline);
      ProcessTree.collectDescendants(p, family);
      if (!exited || family.stream().anyMatch(ProcessHandle::isAlive)) {
        log.warn("Upstream [{}] ignored SIGTERM for {} ms: SIGKILL", config.name(), graceMs);
        family.forEach(ProcessHandle::destroyForcibly);
        ProcessTree.awaitAll(family, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMs));
        p.destroyForcibly();
        p.waitFor(graceMs, TimeUnit.MILLISECONDS);
      }
      for (ProcessHandle h : family) {
        if (h.isAlive()) {
          log.warn("Upstream [{}] descendant pid [{}] still alive after SIGKILL", config.name(), h.pid());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    } catch (RuntimeException e) {
      log.warn("Closing upstream [{}] failed", config.name(), e);
      p.destroyForcibly();
    } finally {
      closeFuture.complete(null);
    }
  }

  private void closeStdin() {
    try {
      stdin.close();
    } catch (IOException ignored) {
      // the child may already be gone
    }
  }

  private void readStdout(Process p) {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.isBlank()) {
          handleLine(line);
        }
      }
    } catch (IOException e) {
      log.debug("stdout of upstream [{}] closed: {}", config.name(), e.toString());
    }
  }

  private void handleLine(String line) {
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      log.warn("Upstream [{}] wrote a non-JSON line on stdout (ignored): {}", config.name(), excerpt(line));
      return;
    }
    if (node == null || !(node.isObject() || node.isArray())) {
      log.warn("Upstream [{}] wrote a non-object JSON line on stdout (ignored): {}", config.name(), excerpt(line));
      return;
    }
    for (JsonNode message : node.isArray() ? node : List.of(node)) {
      if (message instanceof ObjectNode obj) {
        deliver(obj);
      }
    }
  }

  private void deliver(ObjectNode message) {
    try {
      listener.onMessage(message, null);
    } catch (RuntimeException e) {
      log.error("Listener of upstream [{}] failed on a message", config.name(), e);
    }
  }

  private void readStderr(Process p) {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        upstreamLog.info("{}", line);
        synchronized (stderrTail) {
          if (stderrTail.size() == STDERR_TAIL_LINES) {
            stderrTail.removeFirst();
          }
          stderrTail.addLast(line);
        }
      }
    } catch (IOException e) {
      log.debug("stderr of upstream [{}] closed: {}", config.name(), e.toString());
    }
  }

  private void awaitExit(Process p) {
    int code;
    try {
      code = p.waitFor();
      // let the readers drain what the process wrote before dying (bounded: a descendant may
      // still hold the pipes open)
      stdoutThread.join(1000);
      stderrThread.join(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    ExecutorService w = writer;
    if (w != null) {
      w.shutdownNow();
    }
    if (!startFuture.isDone() && !closing.get()) {
      closing.set(true);
      closeFuture.complete(null);
      startFuture.completeExceptionally(new UpstreamProcessExitedException(code,
          "upstream [" + config.name() + "] exited immediately with code " + code + stderrSuffix()));
      return;
    }
    startFuture.completeExceptionally(
        new IllegalStateException("transport to [" + config.name() + "] closed while starting"));
    if (!closedSignalled.compareAndSet(false, true)) {
      return;
    }
    Throwable cause = null;
    if (!closing.get()) {
      log.warn("Upstream [{}] exited with code {}", config.name(), code);
      cause = new UpstreamProcessExitedException(code,
          "upstream [" + config.name() + "] exited with code " + code + stderrSuffix());
    } else {
      log.info("Upstream [{}] stopped (exit code {})", config.name(), code);
    }
    try {
      listener.onClosed(cause);
    } catch (RuntimeException e) {
      log.error("Listener of upstream [{}] failed on close", config.name(), e);
    }
  }

  private String stderrSuffix() {
    List<String> tail;
    synchronized (stderrTail) {
      tail = new ArrayList<>(stderrTail);
    }
    return tail.isEmpty() ? "" : "; stderr: " + excerpt(String.join("\n", tail));
  }

  private static String excerpt(String s) {
    return s.length() <= 500 ? s : s.substring(0, 500) + "…";
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
