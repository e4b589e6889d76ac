package io.bastion.deploy;

import io.bastion.deploy.LoadClients.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** What the load clients saw for the requests sent in [from, to): counts, latencies, failures. */
final class Window {
  int ok;
  int failures;
  int reinits;
  int refused;
  long firstFail = -1;
  long lastFail = -1;
  long lastFailEnd = -1;
  long firstOkEnd = -1;
  final List<String> failureSamples = new ArrayList<>();
  final List<Event> all = new ArrayList<>();
  private final List<Long> okLatencies = new ArrayList<>();

  static Window of(Iterable<Event> events, long from, long to, Predicate<Event> which) {
    Window w = new Window();
    for (Event e : events) {
      if (e.at() < from || e.at() >= to || !which.test(e)) {
        continue;
      }
      w.all.add(e);
      switch (e.kind()) {
        case OK -> {
          w.ok++;
          w.okLatencies.add(e.end() - e.at());
          w.firstOkEnd = w.firstOkEnd < 0 ? e.end() : Math.min(w.firstOkEnd, e.end());
        }
        case REINIT -> w.reinits++;
        case REFUSED -> w.refused++;
        case FAIL -> {
          w.failures++;
          w.firstFail = w.firstFail < 0 ? e.at() : Math.min(w.firstFail, e.at());
          w.lastFail = Math.max(w.lastFail, e.at());
          w.lastFailEnd = Math.max(w.lastFailEnd, e.end());
          if (w.failureSamples.size() < 5) {
            w.failureSamples.add("[sent +" + (e.at() - from) + " ms, ended +" + (e.end() - from) + " ms] " + e.detail());
          }
        }
      }
    }
    w.okLatencies.sort(null);
    return w;
  }

  /** Latency (ms) of successful calls at quantile {@code q} (0..1), nearest rank; -1 without any. */
  long latency(double q) {
    if (okLatencies.isEmpty()) {
      return -1;
    }
    int rank = (int) Math.ceil(q * okLatencies.size());
    return okLatencies.get(Math.max(0, Math.min(okLatencies.size() - 1, rank - 1)));
  }

  String perSecond(long from) {
    Map<Long, int[]> s = new TreeMap<>();
    for (Event e : all) {
      int[] c = s.computeIfAbsent((e.at() - from) / 1000, k -> new int[4]);
      c[e.kind().ordinal()]++;
    }
    StringBuilder sb = new StringBuilder();
    s.forEach((sec, c) -> sb.append(String.format("%n  +%02ds ok %3d fail %3d reinit %d%s", sec, c[0], c[1], c[2],
        c[3] == 0 ? "" : " refused " + c[3])));
    return sb.toString();
  }

  @Override
  public String toString() {
    return "ok=" + ok + " failed=" + failures + " re-initialized(404)=" + reinits
        + (refused == 0 ? "" : " refused=" + refused)
        + (failureSamples.isEmpty() ? "" : " first failures: " + failureSamples);
  }
}
