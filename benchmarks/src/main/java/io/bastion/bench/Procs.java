package io.bastion.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Child processes of a benchmark run (mock, Bastion, nginx, supergateway) and small helpers. */
final class Procs {
  private Procs() {}

  /** A started child; its output goes to {@code log}. */
  record Child(String name, Process process, Path log) implements AutoCloseable {
    long pid() {
      return process.pid();
    }

    @Override
    public void close() {
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.descendants().forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Starts {@code cmd}, copies its merged output to {@code log}, and waits until a line matches
   * {@code ready} (group 1 is returned through {@code captured}), or fails after {@code timeout}.
   */
  static Child start(String name, List<String> cmd, Path log, Pattern ready, Duration timeout,
      String[] captured) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Process p = pb.start();
    CompletableFuture<String> match = new CompletableFuture<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
           var w = Files.newBufferedWriter(log)) {
        String line;
        while ((line = r.readLine()) != null) {
          w.write(line);
          w.newLine();
          w.flush();
          if (!match.isDone() && ready != null) {
            Matcher m = ready.matcher(line);
            if (m.find()) {
              match.complete(m.groupCount() >= 1 ? m.group(1) : line);
            }
          }
        }
      } catch (IOException ignored) {
        // process ended
      }
      match.completeExceptionally(new IOException(name + " exited before it was ready; see " + log));
    }, name + "-output");
    pump.setDaemon(true);
    pump.start();
    Child c = new Child(name, p, log);
    if (ready == null) {
      return c;
    }
    try {
      String got = match.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (captured != null) {
        captured[0] = got;
      }
      return c;
    } catch (Exception e) {
      c.close();
      throw new IOException(name + " did not become ready within " + timeout + " (log: " + log + "): "
          + e.getMessage(), e);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static List<String> javaCmd(List<String> jvmOpts, String mainClass, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
    cmd.addAll(jvmOpts);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Runs a short command and returns its merged output (empty string if it cannot run). */
  static String capture(Duration timeout, String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return out.trim();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  static boolean onPath(String program) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  static String which(String program) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return Path.of(dir, program).toString();
      }
    }
    return null;
  }

  /** Used heap in bytes of another JVM after two full GCs, via jcmd; -1 if unavailable. */
  static long remoteHeapUsedAfterGc(long pid) {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    capture(Duration.ofSeconds(30), jcmd, Long.toString(pid), "GC.run");
    sleep(300);
    capture(Duration.ofSeconds(30), jcmd, Long.toString(pid), "GC.run");
    sleep(300);
    String info = capture(Duration.ofSeconds(30), jcmd, Long.toString(pid), "GC.heap_info");
    Matcher m = Pattern.compile("total \\d+K, used (\\d+)K").matcher(info);
    return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
  }

  static long localHeapUsedAfterGc() {
    var mem = java.lang.management.ManagementFactory.getMemoryMXBean();
    System.gc();
    sleep(300);
    System.gc();
    sleep(300);
    return mem.getHeapMemoryUsage().getUsed();
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
