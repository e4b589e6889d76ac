package io.bastion.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time of the processes a run involves, read from {@code /proc}: {@code utime + stime} of
 * {@code /proc/<pid>/stat} (every thread of the process, live or exited), plus its descendants'
 * for a process-tree entry (nginx master + workers, a gateway's stdio child). Sampled at the start
 * and end of a measured window and divided by the calls completed in between, so each process's
 * cost per call is a figure that survives a shared box: other load changes latencies, not how much
 * CPU a call takes. Resolution is one clock tick ({@code getconf CLK_TCK}, 10 ms) per sample.
 */
final class ProcCpu {
  private ProcCpu() {}

  /** Nanoseconds per clock tick of {@code /proc/<pid>/stat}. */
  static final long TICK_NS = 1_000_000_000L / clockTicks();

  /** Which processes a column sums: the process, it and its descendants, or its descendants only. */
  enum Scope { SELF, TREE, CHILDREN }

  /**
   * One column of the CPU figures: process {@code pid} in {@code scope}; {@code ctx}: also count
   * its context switches (one file read per thread, so only for the Bastion JVMs).
   */
  record Proc(String label, long pid, Scope scope, boolean ctx) {
    static Proc of(String label, long pid) {
      return new Proc(label, pid, Scope.SELF, false);
    }

    /** nginx: master + workers. */
    static Proc tree(String label, long pid) {
      return new Proc(label, pid, Scope.TREE, false);
    }

    /** The stdio server a gateway spawned (through a shell or not). */
    static Proc children(String label, long pid) {
      return new Proc(label, pid, Scope.CHILDREN, false);
    }

    static Proc bastion(String label, long pid) {
      return new Proc(label, pid, Scope.SELF, true);
    }
  }

  /**
   * What to sample during a run: the processes, and which of them the warm-up waits for
   * ({@code subject}: the system under test, e.g. the Bastion JVM; their CPU is summed).
   */
  record Watch(List<Proc> procs, List<String> subject) {
    Watch {
      procs = List.copyOf(procs);
      subject = List.copyOf(subject);
    }

    /** The load driver (this JVM) is always watched, as the last column. */
    static Watch of(List<Proc> procs, String... subject) {
      List<Proc> all = new ArrayList<>(procs);
      all.add(Proc.of(DRIVER, ProcessHandle.current().pid()));
      return new Watch(all, List.of(subject));
    }

    /** Everything in this JVM (--in-process): one column, honest about what it is. */
    static Watch inProcess() {
      return new Watch(List.of(Proc.of(IN_PROCESS, ProcessHandle.current().pid())), List.of(IN_PROCESS));
    }
  }

  static final String DRIVER = "driver";
  static final String IN_PROCESS = "one JVM (in-process)";

  /**
   * Per label at one instant: CPU nanoseconds, context switches (-1: not counted) and the CPU
   * nanoseconds of the JIT compiler threads (-1: not counted; counted where context switches are).
   */
  record Sample(long nanoTime, Map<String, long[]> byLabel) {}

  static Sample sample(Watch w) {
    Map<String, long[]> m = new LinkedHashMap<>();
    for (Proc p : w.procs()) {
      long cpu = 0;
      long ctx = p.ctx() ? 0 : -1;
      long jit = p.ctx() ? 0 : -1;
      for (long pid : pids(p)) {
        cpu += cpuNanos(pid);
        if (p.ctx()) {
          long[] t = threadStats(pid);
          ctx += t[0];
          jit += t[1];
        }
      }
      m.put(p.label(), new long[] {cpu, ctx, jit});
    }
    return new Sample(System.nanoTime(), m);
  }

  /**
   * CPU and context switches per call between two samples: {@code calls} completed in between.
   * {@code cpuMicros} per label (µs per call), {@code ctx} per label where counted, {@code jitMicros}
   * the part of {@code cpuMicros} spent by the JIT compiler threads, where counted.
   */
  record PerCall(Map<String, Double> cpuMicros, Map<String, Double> ctx, Map<String, Double> jitMicros,
      long calls, double seconds) {
    /** Sum over {@code labels} (µs per call); NaN if none of them was sampled. */
    double cpu(List<String> labels) {
      double s = 0;
      boolean any = false;
      for (String l : labels) {
        Double v = cpuMicros.get(l);
        if (v != null) {
          s += v;
          any = true;
        }
      }
      return any ? s : Double.NaN;
    }

    double total() {
      return cpuMicros.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** ± this many µs per call on any one figure: one clock tick over the calls. */
    double resolutionMicros() {
      return calls <= 0 ? Double.NaN : TICK_NS / 1000.0 / calls;
    }
  }

  static PerCall perCall(Sample a, Sample b, long calls) {
    Map<String, Double> cpu = new LinkedHashMap<>();
    Map<String, Double> ctx = new LinkedHashMap<>();
    Map<String, Double> jit = new LinkedHashMap<>();
    double n = Math.max(1, calls);
    for (var e : b.byLabel().entrySet()) {
      long[] before = a.byLabel().get(e.getKey());
      if (before == null) {
        continue;
      }
      cpu.put(e.getKey(), Math.max(0, e.getValue()[0] - before[0]) / 1000.0 / n);
      if (e.getValue()[1] >= 0 && before[1] >= 0) {
        ctx.put(e.getKey(), Math.max(0, e.getValue()[1] - before[1]) / n);
      }
      if (e.getValue()[2] >= 0 && before[2] >= 0) {
        jit.put(e.getKey(), Math.max(0, e.getValue()[2] - before[2]) / 1000.0 / n);
      }
    }
    return new PerCall(cpu, ctx, jit, calls, (b.nanoTime() - a.nanoTime()) / 1e9);
  }

  private static List<Long> pids(Proc p) {
    List<Long> out = new ArrayList<>();
    if (p.scope() != Scope.CHILDREN) {
      out.add(p.pid());
    }
    if (p.scope() != Scope.SELF) {
      ProcessHandle.of(p.pid()).ifPresent(h -> h.descendants().forEach(d -> out.add(d.pid())));
    }
    return out;
  }

  /** utime + stime of every thread of {@code pid} in ns; 0 if the process is gone. */
  static long cpuNanos(long pid) {
    return cpuNanos(Path.of("/proc/" + pid + "/stat"));
  }

  /** utime + stime of a process or thread {@code stat} file in ns; 0 if it is gone. */
  static long cpuNanos(Path stat) {
    try {
      String s = Files.readString(stat);
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NS; // fields 14 and 15 of proc(5)
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * {voluntary + involuntary context switches, CPU ns of the JIT compiler threads} summed over the
   * live threads of {@code pid}. HotSpot names its compiler threads "C1 CompilerThread…" and "C2
   * CompilerThread…": a JVM whose C2 is still compiling reads high, and this says by how much.
   */
  static long[] threadStats(long pid) {
    long n = 0;
    long jit = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : tasks) {
        try {
          for (String l : Files.readAllLines(t.resolve("status"))) {
            if (l.startsWith("voluntary_ctxt_switches:") || l.startsWith("nonvoluntary_ctxt_switches:")) {
              n += Long.parseLong(l.substring(l.indexOf(':') + 1).trim());
            }
          }
          String comm = Files.readString(t.resolve("comm")).trim();
          if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
            jit += cpuNanos(t.resolve("stat"));
          }
        } catch (IOException | RuntimeException ignored) {
          // the thread exited between listing and reading
        }
      }
    } catch (IOException e) {
      return new long[] {0, 0};
    }
    return new long[] {n, jit};
  }

  private static long clockTicks() {
    String t = Procs.capture(Duration.ofSeconds(5), "getconf", "CLK_TCK");
    try {
      long v = Long.parseLong(t.trim());
      return v > 0 ? v : 100;
    } catch (NumberFormatException e) {
      return 100;
    }
  }
}
