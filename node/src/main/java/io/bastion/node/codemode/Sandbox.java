package io.bastion.node.codemode;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.CodeModeConfig;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.starlark.java.eval.EvalException;
import net.starlark.java.eval.Module;
import net.starlark.java.eval.Mutability;
import net.starlark.java.eval.Starlark;
import net.starlark.java.eval.StarlarkCallable;
import net.starlark.java.eval.StarlarkSemantics;
import net.starlark.java.eval.StarlarkThread;
import net.starlark.java.syntax.FileOptions;
import net.starlark.java.syntax.ParserInput;
import net.starlark.java.syntax.StarlarkFile;
import net.starlark.java.syntax.SyntaxError;
import net.starlark.java.syntax.TokenKind;

/**
 * Runs Code Mode programs: Starlark on a bounded pool of its own threads (never a Pekko
 * dispatcher's). Every run is bounded by {@code limits}: wall time, execution steps, the size of
 * any value it builds ({@link Guards}), everything its thread allocates, its printed output and
 * returned value, its nested tool calls, and its own size. A watchdog thread checks the wall clock
 * and the allocation of every running program each {@value #TICK_MS} ms and interrupts it.
 *
 * <p>When all {@code concurrency} runners are busy, up to {@code queue} runs wait; beyond that
 * {@link #submit} throws {@link Overloaded} at once (the caller answers "at capacity").
 */
public final class Sandbox implements AutoCloseable {

  static final int TICK_MS = 10;
  static final String FILE = "program";
  private static final FileOptions OPTIONS = FileOptions.builder().allowToplevelRebinding(true)
      .restrictStringEscapes(false).build();
  private static final StarlarkSemantics SEMANTICS = StarlarkSemantics.DEFAULT;
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  /** Plain operators, run after their guard has checked them (outside the program: not rewritten). */
  private static final String PRELUDE = """
      def add(x, y):
          return x + y
      def mul(x, y):
          return x * y
      def mod(x, y):
          return x % y
      def shl(x, y):
          return x << y
      """;

  /** How a run failed. */
  public enum Kind { SYNTAX, RUNTIME, LIMIT, CANCELLED }

  /** How a run ended: what it printed, its {@code result} (or null), and its error (or null). */
  public record Outcome(String output, JsonNode result, Kind errorKind, String error) {
    public boolean ok() {
      return error == null;
    }
  }

  /** Every runner is busy and the queue is full. */
  public static final class Overloaded extends RuntimeException {
    Overloaded(String message) {
      super(message);
    }
  }

  /** Calls a tool for a run, on the run's thread, and returns its tools/call result. */
  public interface ToolInvoker {
    JsonNode call(Bindings.ToolRef tool, com.fasterxml.jackson.databind.node.ObjectNode arguments)
        throws EvalException, InterruptedException;
  }

  private final CodeModeConfig.Limits limits;
  private final ThreadPoolExecutor executor;
  private final ScheduledExecutorService watchdog;
  private final Set<Run> running = ConcurrentHashMap.newKeySet();
  private final Map<TokenKind, StarlarkCallable> operators;

  public Sandbox(CodeModeConfig.Limits limits) {
    this.limits = limits;
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(limits.concurrency(), limits.concurrency(), 60, TimeUnit.SECONDS,
        limits.queue() == 0 ? new java.util.concurrent.SynchronousQueue<>() : new ArrayBlockingQueue<>(limits.queue()),
        r -> {
          Thread t = new Thread(r, "bastion-codemode-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bastion-codemode-watchdog");
      t.setDaemon(true);
      return t;
    });
    watchdog.scheduleAtFixedRate(this::check, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    this.operators = prelude();
  }

  public CodeModeConfig.Limits limits() {
    return limits;
  }

  /** Programs executing now (for tests and metrics). */
  public int running() {
    return running.size();
  }

  /**
   * Starts {@code code} with {@code bindings} as predeclared globals (the servers' objects).
   *
   * @throws Overloaded when the runners and the queue are full
   */
  public Run submit(String code, Map<String, Object> bindings, ToolInvoker invoker) {
    Run run = new Run(invoker);
    try {
      executor.execute(() -> execute(run, code, bindings));
    } catch (RejectedExecutionException e) {
      throw new Overloaded("Code Mode is at capacity on this node (" + limits.concurrency()
          + " programs running and " + limits.queue() + " waiting); try again shortly");
    }
    return run;
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
    executor.shutdownNow();
  }

  /** One program run. */
  public final class Run {
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    private final ToolInvoker invoker;
    private final Output output = new Output(limits.maxOutputBytes());
    private final java.util.List<Runnable> onStop = new CopyOnWriteArrayList<>();
    private final AtomicInteger calls = new AtomicInteger();
    private Thread thread;
    private long deadline;
    private long allocationBase;
    private Kind stopKind;
    private String stopMessage;

    Run(ToolInvoker invoker) {
      this.invoker = invoker;
    }

    public CompletableFuture<Outcome> outcome() {
      return outcome;
    }

    public CodeModeConfig.Limits limits() {
      return limits;
    }

    ToolInvoker invoker() {
      return invoker;
    }

    Output output() {
      return output;
    }

    /** Counts a nested tool call; fails the program past {@code limits.max_nested_calls}. */
    void countCall() throws EvalException {
      if (calls.incrementAndGet() > limits.maxNestedCalls()) {
        throw new Guards.LimitExceeded("the program made more than " + limits.maxNestedCalls()
            + " tool calls (limits.max_nested_calls)");
      }
    }

    /** Nested tool calls made so far. */
    public int calls() {
      return Math.min(calls.get(), limits.maxNestedCalls());
    }

    StarlarkCallable operator(TokenKind op) {
      return operators.get(op);
    }

    /** Stops the run (the client cancelled it): its thread is interrupted, nested calls are cancelled. */
    public void cancel(String why) {
      stop(Kind.CANCELLED, "the run was cancelled" + (why == null || why.isBlank() ? "" : ": " + why));
    }

    /** Told when the run is stopped from outside (timeout, allocation, cancellation). */
    public void onStop(Runnable r) {
      onStop.add(r);
    }

    void stop(Kind kind, String message) {
      synchronized (this) {
        if (stopKind != null || outcome.isDone()) {
          return;
        }
        stopKind = kind;
        stopMessage = message;
        if (thread != null) {
          thread.interrupt();
        }
      }
      onStop.forEach(Runnable::run);
    }

    synchronized Outcome stopped() {
      return stopKind == null ? null : new Outcome(output.text(), null, stopKind, stopMessage);
    }

    private synchronized void attach() {
      thread = Thread.currentThread();
      allocationBase = THREADS.getThreadAllocatedBytes(thread.getId());
      deadline = System.nanoTime() + limits.wallTime().toNanos();
    }

    private synchronized void detach() {
      thread = null;
      Thread.interrupted();
    }
  }

  private void check() {
    long now = System.nanoTime();
    for (Run run : running) {
      Thread t;
      long base;
      long deadline;
      synchronized (run) {
        t = run.thread;
        base = run.allocationBase;
        deadline = run.deadline;
      }
      if (t == null) {
        continue;
      }
      if (now - deadline > 0) {
        run.stop(Kind.LIMIT, "the program ran longer than " + show(limits.wallTime()) + " (limits.wall_time)");
      } else if (THREADS.getThreadAllocatedBytes(t.getId()) - base > limits.maxAllocationBytes()) {
        run.stop(Kind.LIMIT, "the program allocated more than " + (limits.maxAllocationBytes() >> 20)
            + " MiB (limits.max_allocation)");
      }
      if (now - deadline > TimeUnit.SECONDS.toNanos(1)) {
        // A runner that does not answer its interrupt: the client gets its answer anyway.
        run.outcome.complete(run.stopped());
      }
    }
  }

  private void execute(Run run, String code, Map<String, Object> bindings) {
    running.add(run);
    run.attach();
    try (Mutability mu = Mutability.create("codemode")) {
      run.outcome.complete(evaluate(run, code, bindings, mu));
    } catch (StackOverflowError e) {
      run.outcome.complete(new Outcome(run.output.text(), null, Kind.LIMIT, "the program nested too deeply"));
    } catch (OutOfMemoryError e) {
      run.outcome.complete(new Outcome(run.output.text(), null, Kind.LIMIT,
          "the program needed more memory than the node could give (limits.max_value_size)"));
    } catch (RuntimeException e) {
      if (e.getCause() instanceof StackOverflowError) {
        run.outcome.complete(new Outcome(run.output.text(), null, Kind.LIMIT, "the program nested too deeply"));
        return;
      }
      org.slf4j.LoggerFactory.getLogger(Sandbox.class).error("Code Mode sandbox failure", e);
      run.outcome.complete(new Outcome(run.output.text(), null, Kind.RUNTIME,
          "internal error in the sandbox: " + e.getClass().getSimpleName()));
    } finally {
      running.remove(run);
      run.detach();
    }
  }

  private Outcome evaluate(Run run, String code, Map<String, Object> bindings, Mutability mu) {
    int bytes = code.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > limits.maxCodeBytes()) {
      return new Outcome("", null, Kind.LIMIT, "the program is " + bytes + " bytes; the limit is "
          + limits.maxCodeBytes() + " (limits.max_code_size)");
    }
    StarlarkFile file = StarlarkFile.parse(ParserInput.fromString(code, FILE), OPTIONS);
    if (!file.ok()) {
      return new Outcome("", null, Kind.SYNTAX, syntaxErrors(file.errors(), null));
    }
    String guarded = Rewriter.rewrite(code, file);
    StarlarkFile guardedFile = StarlarkFile.parse(ParserInput.fromString(guarded, FILE), OPTIONS);
    if (!guardedFile.ok()) {
      return new Outcome("", null, Kind.SYNTAX, syntaxErrors(guardedFile.errors(), null));
    }
    Rewriter.Hoisted program = Rewriter.hoist(guarded, guardedFile);
    Module module = Module.withPredeclared(SEMANTICS, Builtins.predeclared(run, bindings));
    StarlarkThread thread = new StarlarkThread(mu, SEMANTICS);
    thread.setMaxExecutionSteps(limits.maxSteps());
    thread.setPrintHandler((t, msg) -> run.output.appendUnchecked(msg));
    thread.setThreadLocal(Run.class, run);
    try {
      Starlark.execFile(ParserInput.fromString(program.source(), FILE), OPTIONS, module, thread);
      Outcome stopped = run.stopped();
      if (stopped != null) {
        return stopped;
      }
      Object result = module.getGlobal(Rewriter.RESULT);
      JsonNode json = result == null || result == Builtins.Unset.INSTANCE ? null
          : Values.toJson(result, limits.maxOutputBytes() - run.output.size());
      return new Outcome(run.output.text(), json, null, null);
    } catch (SyntaxError.Exception e) {
      return new Outcome("", null, Kind.SYNTAX, syntaxErrors(e.errors(), program));
    } catch (EvalException e) {
      Outcome stopped = run.stopped();
      if (stopped != null) {
        return stopped;
      }
      if (thread.getExecutedSteps() >= limits.maxSteps()) {
        return new Outcome(run.output.text(), null, Kind.LIMIT, "the program ran more than "
            + limits.maxSteps() + " steps (limits.max_steps)");
      }
      Kind kind = e instanceof Guards.LimitExceeded || e.getCause() instanceof Guards.LimitExceeded
          ? Kind.LIMIT : Kind.RUNTIME;
      return new Outcome(run.output.text(), null, kind, at(e, program) + e.getMessage());
    } catch (InterruptedException e) {
      Outcome stopped = run.stopped();
      return stopped != null ? stopped : new Outcome(run.output.text(), null, Kind.CANCELLED, "interrupted");
    }
  }

  /** "line N: " of the innermost frame in the program (columns moved in the guarded copy; lines did not). */
  private static String at(EvalException e, Rewriter.Hoisted program) {
    var stack = e.getCallStack();
    for (int i = stack.size() - 1; i >= 0; i--) {
      var loc = stack.get(i).location;
      if (loc != null && FILE.equals(loc.file()) && loc.line() > 0) {
        return "line " + program.original(loc.line()) + ": ";
      }
    }
    return "";
  }

  private static String syntaxErrors(java.util.List<SyntaxError> errors, Rewriter.Hoisted program) {
    StringBuilder b = new StringBuilder();
    errors.stream().limit(5).forEach(err -> b.append(b.length() == 0 ? "" : "; ")
        .append("line ").append(program == null ? err.location().line() : program.original(err.location().line()))
        .append(": ").append(err.message()));
    if (errors.size() > 5) {
      b.append("; and ").append(errors.size() - 5).append(" more");
    }
    return b.toString();
  }

  private static Map<TokenKind, StarlarkCallable> prelude() {
    try (Mutability mu = Mutability.create("prelude")) {
      Module m = Module.create();
      Starlark.execFile(ParserInput.fromString(PRELUDE, "prelude"), FileOptions.DEFAULT, m,
          new StarlarkThread(mu, SEMANTICS));
      return Map.of(TokenKind.PLUS, (StarlarkCallable) m.getGlobal("add"),
          TokenKind.STAR, (StarlarkCallable) m.getGlobal("mul"),
          TokenKind.PERCENT, (StarlarkCallable) m.getGlobal("mod"),
          TokenKind.LESS_LESS, (StarlarkCallable) m.getGlobal("shl"));
    } catch (Exception e) {
      throw new IllegalStateException("Code Mode prelude failed", e);
    }
  }

  private static String show(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
