// A small SVG chart of our own (no library, no CDN): one line per series over time buckets,
// with axes, a legend and a text alternative. Colours come from CSS classes (series-0..7).
import { s, h } from './dom.js';

const W = 1200;
const H = 220;
const PAD = { left: 56, right: 16, top: 12, bottom: 28 };

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function label(t, spanMs) {
  const d = new Date(t);
  return spanMs > 36 * 3600 * 1000 ? d.toLocaleDateString() : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * series: [{name, points: [{t, calls, costUsd}]}]; metric: 'calls' | 'costUsd';
 * from/to: the time range (ms); bucketMs: the bucket width. Missing buckets count as 0.
 */
export function lineChart({ series, metric, from, to, bucketMs, title }) {
  const first = Math.floor(from / bucketMs) * bucketMs;
  const buckets = [];
  for (let t = first; t <= to; t += bucketMs) buckets.push(t);
  const values = series.map((ser) => {
    const m = new Map(ser.points.map((p) => [p.t, p[metric]]));
    return buckets.map((t) => m.get(t) || 0);
  });
  const max = niceMax(Math.max(0, ...values.flat()));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (buckets.length <= 1 ? iw / 2 : (i * iw) / (buckets.length - 1));
  const y = (v) => PAD.top + ih - (v / max) * ih;
  const fmt = (v) => (metric === 'costUsd' ? '$' + (v < 1 && v > 0 ? v.toPrecision(2) : v.toFixed(2)) : String(Math.round(v * 100) / 100));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(s('title', {}, title));
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'gridline' }),
      s('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, fmt(v)));
  }
  const ticks = Math.min(6, buckets.length);
  for (let i = 0; i < ticks; i++) {
    const idx = ticks === 1 ? 0 : Math.round((i * (buckets.length - 1)) / (ticks - 1));
    const anchor = ticks > 1 && i === 0 ? 'start' : ticks > 1 && i === ticks - 1 ? 'end' : 'middle';
    svg.append(s('text', { x: x(idx), y: H - 8, class: 'axis', 'text-anchor': anchor }, label(buckets[idx], to - from)));
  }
  values.forEach((vals, si) => {
    const d = vals.map((v, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1)).join(' ');
    svg.append(s('path', { d, class: 'series series-' + (si % 8), fill: 'none' }));
    vals.forEach((v, i) => {
      if (v > 0) svg.append(s('circle', { cx: x(i), cy: y(v), r: 3, class: 'dot series-' + (si % 8) }, s('title', {}, series[si].name + ' ' + label(buckets[i], 0) + ': ' + fmt(v))));
    });
  });
  const legend = h('ul', { class: 'legend' }, series.map((ser, si) => {
    const total = ser.points.reduce((a, p) => a + p[metric], 0);
    return h('li', {}, h('span', { class: 'swatch series-' + (si % 8) }), ser.name + ' — ' + fmt(total));
  }));
  return h('figure', { class: 'chart-figure' }, svg, legend,
    series.length ? null : h('figcaption', { class: 'muted' }, 'No calls in this range.'));
}
