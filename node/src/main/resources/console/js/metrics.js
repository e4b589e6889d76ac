// Reads the node's own Prometheus text (/metrics) and derives the overview's figures from the
// change between two scrapes: calls per second, error rate, p50/p99 of tools/call latency.

/** Parses exposition text into [{name, labels, value}]. */
export function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** What the overview needs from one scrape. */
export function digest(samples, at) {
  let calls = 0;
  let errors = 0;
  const buckets = new Map();
  let sessions = 0;
  for (const s of samples) {
    if (s.name === 'bastion_tool_calls_total') {
      calls += s.value;
      if (s.labels.outcome !== 'ok') errors += s.value;
    } else if (s.name === 'bastion_tool_call_duration_seconds_bucket') {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) || 0) + s.value);
    } else if (s.name === 'bastion_sessions_open') {
      sessions += s.value;
    }
  }
  return { at, calls, errors, buckets, sessions };
}

/** A quantile from cumulative histogram buckets (le -> count), linear within a bucket. */
export function quantile(q, buckets) {
  const les = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) || (les.length ? buckets.get(les[les.length - 1]) : 0);
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const c = buckets.get(le);
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(1e-9, c - prevCount));
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}

/** Figures over the window between two digests (the older may be null: since node start). */
export function window(older, newer) {
  const base = older || { at: null, calls: 0, errors: 0, buckets: new Map() };
  const calls = newer.calls - base.calls;
  const errors = newer.errors - base.errors;
  const buckets = new Map();
  newer.buckets.forEach((v, le) => buckets.set(le, v - (base.buckets.get(le) || 0)));
  const seconds = older ? (newer.at - older.at) / 1000 : null;
  return {
    seconds, calls, errors, buckets,
    perSecond: seconds ? calls / seconds : null,
    errorRate: calls > 0 ? errors / calls : null,
    p50: quantile(0.5, buckets),
    p99: quantile(0.99, buckets),
    sessions: newer.sessions,
  };
}

/**
 * The cluster's figures from its nodes' windows (each over that node's own scrapes, so a node
 * that missed an answer or restarted does not disturb the others): rates add up, the error rate
 * and quantiles come from the summed counts and histogram deltas.
 */
export function combine(windows) {
  let calls = 0;
  let errors = 0;
  let sessions = 0;
  let perSecond = null;
  const buckets = new Map();
  for (const w of windows) {
    calls += w.calls;
    errors += w.errors;
    sessions += w.sessions;
    if (w.perSecond !== null) perSecond = (perSecond || 0) + w.perSecond;
    w.buckets.forEach((v, le) => buckets.set(le, (buckets.get(le) || 0) + v));
  }
  return {
    calls, perSecond, sessions,
    errorRate: calls > 0 ? errors / calls : null,
    p50: quantile(0.5, buckets),
    p99: quantile(0.99, buckets),
  };
}
