package io.bastion.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * An open-model load driver: requests are scheduled at a constant arrival rate and each latency is
 * measured from the request's <em>intended</em> send time, so a stall in the system under test
 * (or in the driver waiting for a free connection slot) shows up in the percentiles instead of
 * silently lowering the rate (coordinated omission). JDK {@link HttpClient} (HTTP/1.1) with at most
 * {@code maxInFlight} requests outstanding; the warm-up phase is sent but not recorded.
 */
public final class LoadDriver implements AutoCloseable {

  /** What one run measured. Latencies in microseconds. */
  public record Result(double rate, long ok, long errors, double achievedRps, double p50, double p90,
      double p99, double p999, double max, String firstError) {

    public long calls() {
      return ok + errors;
    }
  }

  /** How to build the i-th request of a run and decide whether its answer is a success. */
  public interface Call {
    HttpRequest request(int i);

    default boolean ok(HttpResponse<String> r) {
      return r.statusCode() == 200 && r.body().contains("\"result\"") && !r.body().contains("\"isError\":true");
    }
  }

  private final HttpClient client;
  private final ExecutorService executor;
  private final int maxInFlight;
  private final Duration timeout;

  public LoadDriver(int maxInFlight, Duration timeout) {
    this.maxInFlight = maxInFlight;
    this.timeout = timeout;
    this.executor = Executors.newFixedThreadPool(2, MockUpstream.daemon("load-driver"));
    this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  public HttpClient client() {
    return client;
  }

  public Duration timeout() {
    return timeout;
  }

  /**
   * Sends {@code rate} requests per second for {@code warmup + duration}, records only the
   * requests intended after the warm-up, and waits (bounded) for the stragglers.
   */
  public Result run(Call call, double rate, Duration warmup, Duration duration) {
    Recorder recorder = new Recorder(TimeUnit.SECONDS.toMicros(60), 3);
    Semaphore slots = new Semaphore(maxInFlight);
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong lastDone = new AtomicLong();
    String[] firstError = {null};
    long intervalNs = (long) (1e9 / rate);
    long start = System.nanoTime() + 20_000_000L;
    long measureFrom = start + warmup.toNanos();
    long end = measureFrom + duration.toNanos();
    List<CompletableFuture<?>> pending = new ArrayList<>();
    for (int i = 0; ; i++) {
      long intended = start + i * intervalNs;
      if (intended >= end) {
        break;
      }
      long wait;
      while ((wait = intended - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      slots.acquireUninterruptibly();
      boolean measured = intended >= measureFrom;
      HttpRequest req = call.request(i);
      CompletableFuture<?> f = client.sendAsync(req, HttpResponse.BodyHandlers.ofString())
          .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .handle((resp, err) -> {
            long now = System.nanoTime();
            slots.release();
            if (!measured) {
              return null;
            }
            boolean good = err == null && call.ok(resp);
            if (good) {
              ok.incrementAndGet();
              recorder.recordValue(Math.max(0, (now - intended) / 1000));
            } else {
              errors.incrementAndGet();
              synchronized (firstError) {
                if (firstError[0] == null) {
                  firstError[0] = err != null ? err.toString()
                      : resp.statusCode() + " " + abbreviate(resp.body());
                }
              }
            }
            lastDone.accumulateAndGet(now, Math::max);
            return null;
          });
      if (measured) {
        pending.add(f);
      }
      if (pending.size() > 4096) {
        pending.removeIf(CompletableFuture::isDone);
      }
    }
    try {
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
          .get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // counted as errors below: whatever is still pending never answered
    }
    long unanswered = pending.stream().filter(f -> !f.isDone()).count();
    Histogram h = recorder.getIntervalHistogram();
    long finished = Math.max(end, lastDone.get());
    double seconds = (finished - measureFrom) / 1e9;
    return new Result(rate, ok.get(), errors.get() + unanswered, ok.get() / seconds,
        h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
        h.getValueAtPercentile(99.9), h.getMaxValue(), firstError[0]);
  }

  /**
   * Runs every call of {@code calls} at {@code rate} <em>at the same time</em> (one scheduling
   * thread each, same warm-up and window), so they share whatever noise the machine has and their
   * ratio holds on a busy box. Each run has its own {@code maxInFlight} slots. Results in order.
   */
  public List<Result> runTogether(List<Call> calls, double rate, Duration warmup, Duration duration) {
    List<CompletableFuture<Result>> runs = new ArrayList<>();
    for (int k = 0; k < calls.size(); k++) {
      Call c = calls.get(k);
      CompletableFuture<Result> f = new CompletableFuture<>();
      Thread t = new Thread(() -> {
        try {
          f.complete(run(c, rate, warmup, duration));
        } catch (Throwable e) {
          f.completeExceptionally(e);
        }
      }, "load-schedule-" + k);
      t.setDaemon(true);
      runs.add(f);
      t.start();
    }
    return runs.stream().map(CompletableFuture::join).toList();
  }

  /**
   * Steps the rate up until p99 reaches {@code p99LimitMicros} or a run has errors; returns every
   * step. The best rate is the last step that met the limit.
   */
  public List<Result> searchMax(Call call, double[] rates, Duration warmup, Duration duration,
      double p99LimitMicros) {
    List<Result> steps = new ArrayList<>();
    for (double r : rates) {
      Result res = run(call, r, warmup, duration);
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

  public static HttpRequest.Builder post(URI uri, String body, Duration timeout) {
    return HttpRequest.newBuilder(uri).timeout(timeout)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
