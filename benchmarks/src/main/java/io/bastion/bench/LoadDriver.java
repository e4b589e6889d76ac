package io.bastion.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * An open-model load driver: requests are scheduled at a constant arrival rate and each latency is
 * measured from the request's <em>intended</em> send time, so a stall in the system under test
 * (or in the driver waiting for a free connection) shows up in the percentiles instead of
 * silently lowering the rate (coordinated omission). HdrHistogram, 3 significant digits.
 *
 * <p>Netty, one event-loop thread (epoll, whose timers have sub-millisecond precision; NIO if
 * epoll is unavailable): the pacing timer, the writes of pre-rendered HTTP/1.1 request bytes and
 * the responses all run on that thread, so a request costs no thread hand-off in the driver. At
 * most {@code maxInFlight} keep-alive connections per stream, opened as needed; a request that
 * finds none free waits (its latency still counts from its intended time).
 *
 * <p>Each run warms up (sent, not recorded) until the system under test's CPU per call has settled
 * (see {@link Warmup}), then measures for a fixed window and samples the CPU of every watched
 * process ({@link ProcCpu}) at the window's start and end.
 */
public final class LoadDriver implements AutoCloseable {

  /** What one run measured. Latencies in microseconds. */
  public record Result(double rate, long ok, long errors, double achievedRps, double p50, double p90,
      double p99, double p999, double max, String firstError, Usage usage) {

    public long calls() {
      return ok + errors;
    }
  }

  /**
   * CPU per call of each watched process over the measured window (shared by the streams of a
   * {@link #runTogether}: the processes served all of them, so it is per call of all streams), the
   * labels the warm-up waited for, and how the warm-up ended.
   */
  public record Usage(ProcCpu.PerCall cpu, List<String> subject, double warmupSeconds, String warmupEnd) {
    /** The subject's CPU in µs per call (NaN if not sampled). */
    public double subjectMicros() {
      return cpu.cpu(subject);
    }
  }

  /**
   * How long to warm up: in slices of {@code slice}, until the subject's CPU per call in two
   * consecutive slices differs by less than {@code tolerance} (or by less than the clock-tick
   * resolution of the two slices), but at least {@code min} and at most {@code max}. With
   * {@code min == max} the warm-up is simply that long.
   *
   * <p>With a {@code burst} (non-zero, and a {@code burstRate} above the run's rate), the streams
   * first run at {@code burstRate} for that long, unrecorded: a fresh JVM's JIT compiles its hot
   * paths after a number of calls, not of seconds, so at 150 calls/s it is still compiling after a
   * minute and the settle above ends at its maximum with the JIT in the figures.
   */
  public record Warmup(Duration min, Duration max, Duration slice, double tolerance, double burstRate,
      Duration burst) {
    public Warmup(Duration min, Duration max, Duration slice, double tolerance) {
      this(min, max, slice, tolerance, 0, Duration.ZERO);
    }

    public static Warmup fixed(Duration d) {
      return new Warmup(d, d, d, 0);
    }

    /** This warm-up, preceded by {@code burst} at {@code rate}. */
    public Warmup withBurst(double rate, Duration burst) {
      return new Warmup(min, max, slice, tolerance, rate, burst);
    }

    boolean isFixed() {
      return min.equals(max);
    }
  }

  /** How to render the i-th request of a run and decide whether its answer is a success. */
  public interface Call {
    /** Where the requests go (host and port; the path is in the rendered bytes). */
    URI uri();

    /** The complete HTTP/1.1 request (request line, headers, body) of request {@code i}. */
    ByteBuf render(int i, ByteBufAllocator alloc);

    default boolean ok(int status, String body) {
      return status == 200 && body.contains("\"result\"") && !body.contains("\"isError\":true");
    }
  }

  private final EventLoopGroup group;
  private final Class<? extends SocketChannel> channelClass;
  private final HttpClient control;
  private final ExecutorService controlExecutor;
  private final int maxInFlight;
  private final Duration timeout;

  public LoadDriver(int maxInFlight, Duration timeout) {
    this.maxInFlight = maxInFlight;
    this.timeout = timeout;
    this.group = eventLoopGroup(1, "load-driver");
    this.channelClass = Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class;
    this.controlExecutor = Executors.newFixedThreadPool(1, MockUpstream.daemon("bench-control"));
    this.control = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(controlExecutor)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  /**
   * Epoll if the native transport loads here, else NIO; {@code threads} daemon event loops. Turns
   * Netty's buffer leak detector off: it records a stack trace for every 128th buffer, a cost the
   * harness must not add to its figures.
   */
  static EventLoopGroup eventLoopGroup(int threads, String name) {
    io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
    IoHandlerFactory f = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    return new MultiThreadIoEventLoopGroup(threads, MockUpstream.daemon(name), f);
  }

  static Class<? extends ServerSocketChannel> serverChannelClass() {
    return Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /** For setup and control requests (sessions, admin API): not on the measured path. */
  public HttpClient client() {
    return control;
  }

  public Duration timeout() {
    return timeout;
  }

  /** One call at {@code rate}: warm-up, then {@code duration} measured. */
  public Result run(Call call, double rate, Warmup warmup, Duration duration, ProcCpu.Watch watch) {
    return runTogether(List.of(call), rate, warmup, duration, watch).get(0);
  }

  /**
   * Runs every call of {@code calls} at {@code rate} <em>at the same time</em> (same warm-up and
   * window), so they share whatever noise the machine has and their ratio holds on a busy box.
   * Each stream has its own {@code maxInFlight} connections. Results in order; their {@link Usage}
   * is one object, per call of all streams together.
   */
  public List<Result> runTogether(List<Call> calls, double rate, Warmup warmup, Duration duration,
      ProcCpu.Watch watch) {
    String burst = "";
    if (!warmup.burst().isZero() && warmup.burstRate() > rate) {
      runTogether(calls, warmup.burstRate(), Warmup.fixed(warmup.burst()), Duration.ofMillis(500), watch);
      burst = String.format(java.util.Locale.ROOT, " (after %d s at %.0f/s)", warmup.burst().toSeconds(),
          warmup.burstRate());
    }
    long interval = (long) (1e9 / rate);
    long start = System.nanoTime() + 20_000_000L;
    List<Stream> streams = new ArrayList<>();
    for (Call c : calls) {
      Stream s = new Stream(c, group.next(), rate, interval, start);
      streams.add(s);
      s.loop.execute(s::begin);
    }
    sleepUntil(start);
    String[] how = {"fixed"};
    long measureFrom = warmUp(streams, start, warmup, watch, how);
    ProcCpu.Sample s0 = ProcCpu.sample(watch);
    long c0 = completions(streams);
    long end = measureFrom + duration.toNanos();
    for (Stream s : streams) {
      s.window(measureFrom, end);
    }
    sleepUntil(end);
    ProcCpu.Sample s1 = ProcCpu.sample(watch);
    long c1 = completions(streams);
    Usage usage = new Usage(ProcCpu.perCall(s0, s1, c1 - c0), watch.subject(), (measureFrom - start) / 1e9,
        how[0] + burst);
    List<Result> out = new ArrayList<>();
    for (Stream s : streams) {
      try {
        s.drained.get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        // whatever is still pending never answered: counted as errors below
      }
      out.add(s.finish(usage));
    }
    return out;
  }

  /**
   * Warms up, returns when the measured window starts ({@code System.nanoTime()} scale), and says
   * through {@code how} whether the subject's CPU per call settled or the maximum was reached.
   */
  private static long warmUp(List<Stream> streams, long start, Warmup w, ProcCpu.Watch watch, String[] how) {
    long min = start + w.min().toNanos();
    long max = start + w.max().toNanos();
    if (w.isFixed()) {
      sleepUntil(max);
      how[0] = "fixed";
      return System.nanoTime();
    }
    ProcCpu.Sample a = ProcCpu.sample(watch);
    long ca = completions(streams);
    double prev = Double.NaN;
    double prevRes = Double.NaN;
    while (true) {
      long sliceEnd = Math.min(System.nanoTime() + w.slice().toNanos(), max);
      sleepUntil(sliceEnd);
      ProcCpu.Sample b = ProcCpu.sample(watch);
      long cb = completions(streams);
      ProcCpu.PerCall p = ProcCpu.perCall(a, b, cb - ca);
      double now = cb > ca ? p.cpu(watch.subject()) : Double.NaN;
      double res = p.resolutionMicros() * watch.subject().size();
      // Settled: the subject's CPU per call is stable across two slices, and its JIT compiler
      // threads take at most a tenth of it (a C2 still compiling can look stable for a while).
      double jit = p.jitMicros().values().stream().mapToDouble(Double::doubleValue).sum();
      boolean jitQuiet = p.jitMicros().isEmpty() || jit <= 0.1 * now;
      if (System.nanoTime() >= min && !Double.isNaN(prev) && !Double.isNaN(now) && jitQuiet
          && Math.abs(now - prev) <= Math.max(w.tolerance() * Math.max(now, prev), res + prevRes)) {
        how[0] = "settled";
        return System.nanoTime();
      }
      if (System.nanoTime() >= max) {
        how[0] = "max";
        return System.nanoTime();
      }
      prev = now;
      prevRes = res;
      a = b;
      ca = cb;
    }
  }

  private static long completions(List<Stream> streams) {
    long n = 0;
    for (Stream s : streams) {
      n += s.completions.get();
    }
    return n;
  }

  private static void sleepUntil(long deadline) {
    long wait;
    while ((wait = deadline - System.nanoTime()) > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Steps the rate up until p99 reaches {@code p99LimitMicros} or a run has errors; returns every
   * step. The best rate is the last step that met the limit.
   */
  public List<Result> searchMax(Call call, double[] rates, Duration warmup, Duration duration,
      double p99LimitMicros, ProcCpu.Watch watch) {
    List<Result> steps = new ArrayList<>();
    for (double r : rates) {
      Result res = run(call, r, Warmup.fixed(warmup), duration, watch);
      steps.add(res);
      if (res.errors() > 0 || res.p99() >= p99LimitMicros) {
        break;
      }
    }
    return steps;
  }

  /** The best step of a {@link #searchMax} that met the limit, or null. */
  public static Result best(List<Result> steps, double p99LimitMicros) {
    Result best = null;
    for (Result r : steps) {
      if (r.errors() == 0 && r.p99() < p99LimitMicros) {
        best = r;
      }
    }
    return best;
  }

  static String abbreviate(String s) {
    if (s == null) {
      return "";
    }
    s = s.replace('\n', ' ');
    return s.length() > 200 ? s.substring(0, 200) + "…" : s;
  }

  /** Builds {@code n} copies with {@code f}, for round-robin over sessions. */
  static <T> List<T> times(int n, IntFunction<T> f) {
    List<T> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(f.apply(i));
    }
    return out;
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    controlExecutor.shutdownNow();
  }

  /** One request of a stream: its index, intended send time, and whether it is measured. */
  private record Pending(int i, long intended, boolean measured) {}

  /**
   * The requests of one call at one rate. Everything but {@link #window} and the counters the
   * controller reads runs on {@link #loop}.
   */
  private final class Stream {
    final Call call;
    final EventLoop loop;
    final double rate;
    final long interval;
    final long start;
    final InetSocketAddress address;
    volatile long measureFrom = Long.MAX_VALUE;
    volatile long end = Long.MAX_VALUE;
    final AtomicLong completions = new AtomicLong();
    final AtomicLong ok = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong measuredSent = new AtomicLong();
    final AtomicLong measuredDone = new AtomicLong();
    volatile long lastDone;
    volatile String firstError;
    final Recorder recorder = new Recorder(TimeUnit.SECONDS.toMicros(60), 3);
    final CompletableFuture<Void> drained = new CompletableFuture<>();
    final ArrayDeque<Conn> idle = new ArrayDeque<>();
    final Set<Conn> all = new HashSet<>();
    final ArrayDeque<Pending> backlog = new ArrayDeque<>();
    java.util.concurrent.ScheduledFuture<?> expiry;
    int next;
    boolean stopped;
    boolean closed;

    Stream(Call call, EventLoop loop, double rate, long interval, long start) {
      this.call = call;
      this.loop = loop;
      this.rate = rate;
      this.interval = interval;
      this.start = start;
      this.address = new InetSocketAddress(call.uri().getHost(), call.uri().getPort());
    }

    void window(long from, long until) {
      end = until;
      measureFrom = from;
    }

    void begin() {
      expiry = loop.scheduleAtFixedRate(this::expire, 100, 100, TimeUnit.MILLISECONDS);
      tick();
    }

    /** Sends every request whose intended time has come, then sleeps until the next one. */
    void tick() {
      long now = System.nanoTime();
      while (true) {
        long intended = start + next * interval;
        if (intended >= end) {
          stopped = true;
          checkDrained();
          return;
        }
        if (intended > now) {
          loop.schedule(this::tick, intended - now, TimeUnit.NANOSECONDS);
          return;
        }
        boolean measured = intended >= measureFrom;
        if (measured) {
          measuredSent.incrementAndGet();
        }
        submit(new Pending(next++, intended, measured));
      }
    }

    void submit(Pending p) {
      Conn c = idle.pollLast(); // the most recently used connection: warm caches, fewer sockets
      if (c != null) {
        c.send(p);
      } else if (all.size() < maxInFlight) {
        connect(p);
      } else {
        backlog.add(p);
      }
    }

    void connect(Pending first) {
      Conn c = new Conn();
      all.add(c);
      ChannelFuture f = new Bootstrap().group(loop).channel(channelClass)
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(timeout.toMillis(), 5000))
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new HttpResponseDecoder(), new HttpObjectAggregator(1 << 20), c);
            }
          })
          .connect(address);
      c.channel = f.channel();
      f.addListener(done -> {
        if (done.isSuccess()) {
          c.send(first);
        } else {
          all.remove(c);
          complete(first, null, "connect: " + done.cause());
          drainBacklog();
        }
      });
    }

    /** A connection went away: anything waiting gets a new one. */
    void drainBacklog() {
      while (!backlog.isEmpty() && all.size() < maxInFlight) {
        connect(backlog.poll());
      }
    }

    /** Times out requests older than the driver's timeout (in flight or still waiting for a connection). */
    void expire() {
      long now = System.nanoTime();
      long limit = timeout.toNanos();
      for (Conn c : List.copyOf(all)) {
        if (c.pending != null && now - c.sentAt > limit) {
          Pending p = c.pending;
          c.pending = null;
          complete(p, null, "timeout after " + timeout.toMillis() + " ms");
          c.channel.close();
        }
      }
      while (!backlog.isEmpty() && now - backlog.peek().intended() > limit) {
        complete(backlog.poll(), null, "timeout after " + timeout.toMillis() + " ms waiting for a connection");
      }
    }

    /** Records one answer (or failure: {@code error} non-null). */
    void complete(Pending p, FullHttpResponse resp, String error) {
      long now = System.nanoTime();
      completions.incrementAndGet();
      if (!p.measured() || closed) { // after finish(): counted as unanswered there
        return;
      }
      String body = resp == null ? null : resp.content().toString(StandardCharsets.UTF_8);
      if (error == null && call.ok(resp.status().code(), body)) {
        ok.incrementAndGet();
        recorder.recordValue(Math.min(TimeUnit.SECONDS.toMicros(60), Math.max(0, (now - p.intended()) / 1000)));
      } else {
        errors.incrementAndGet();
        if (firstError == null) {
          firstError = error != null ? error : resp.status().code() + " " + abbreviate(body);
        }
      }
      lastDone = Math.max(lastDone, now);
      measuredDone.incrementAndGet();
      checkDrained();
    }

    void checkDrained() {
      if (stopped && measuredDone.get() >= measuredSent.get() && !drained.isDone()) {
        drained.complete(null);
      }
    }

    Result finish(Usage usage) {
      CompletableFuture<Void> closedAll = new CompletableFuture<>();
      loop.execute(() -> {
        closed = true;
        if (expiry != null) {
          expiry.cancel(false);
        }
        for (Conn c : List.copyOf(all)) {
          c.channel.close();
        }
        closedAll.complete(null);
      });
      closedAll.orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null).join();
      long unanswered = Math.max(0, measuredSent.get() - measuredDone.get());
      Histogram h = recorder.getIntervalHistogram();
      long finished = Math.max(end, lastDone);
      double seconds = (finished - measureFrom) / 1e9;
      return new Result(rate, ok.get(), errors.get() + unanswered, ok.get() / seconds,
          h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
          h.getValueAtPercentile(99.9), h.getMaxValue(), firstError, usage);
    }

    /** One keep-alive connection; at most one request on it at a time (no pipelining). */
    final class Conn extends SimpleChannelInboundHandler<FullHttpResponse> {
      Channel channel;
      Pending pending;
      long sentAt;

      void send(Pending p) {
        if (closed) {
          return;
        }
        pending = p;
        sentAt = System.nanoTime();
        channel.writeAndFlush(call.render(p.i(), channel.alloc()), channel.voidPromise());
      }

      @Override
      protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse resp) {
        Pending p = pending;
        pending = null;
        if (p == null) {
          return; // answered after it timed out
        }
        complete(p, resp, null);
        if (!HttpUtil.isKeepAlive(resp)) {
          ctx.close();
          return;
        }
        Pending waiting = backlog.poll();
        if (waiting != null) {
          send(waiting);
        } else {
          idle.addLast(this);
        }
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        all.remove(this);
        idle.remove(this);
        Pending p = pending;
        pending = null;
        if (p != null) {
          complete(p, null, "connection closed by " + address);
        }
        if (!closed) {
          drainBacklog();
        }
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (pending != null && firstError == null && pending.measured()) {
          firstError = cause.toString();
        }
        ctx.close();
      }
    }
  }
}
