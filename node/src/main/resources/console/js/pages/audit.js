import { h, clear, field, section, statusLine, fmtUsd, fmtTime } from '../dom.js';
import { get, explain } from '../api.js';
import { lineChart } from '../chart.js';

const OUTCOMES = ['', 'ok', 'tool_error', 'denied', 'rate_limited', 'over_budget', 'timeout', 'upstream_down', 'error'];
const RANGES = [['15m', 15 * 60e3, 60e3], ['1h', 3600e3, 60e3], ['6h', 6 * 3600e3, 5 * 60e3], ['24h', 24 * 3600e3, 15 * 60e3], ['7d', 7 * 24 * 3600e3, 3600e3]];
const PAGE = 25;

export default {
  id: 'audit',
  title: 'Audit log',
  render(main) {
    const status = statusLine();
    const inputs = {
      key: h('input', { name: 'key', autocomplete: 'off' }),
      team: h('input', { name: 'team', autocomplete: 'off' }),
      server: h('input', { name: 'server', autocomplete: 'off' }),
      tool: h('input', { name: 'tool', autocomplete: 'off' }),
      outcome: h('select', { name: 'outcome' }, OUTCOMES.map((o) => h('option', { value: o }, o || '(any)'))),
    };
    const range = h('select', { name: 'range' }, RANGES.map(([n]) => h('option', { value: n, selected: n === '1h' }, 'last ' + n)));
    const by = h('select', { name: 'by' }, ['key', 'server', 'tool', 'outcome'].map((b) => h('option', { value: b }, b)));
    const metric = h('select', { name: 'metric' }, h('option', { value: 'calls' }, 'calls'), h('option', { value: 'costUsd' }, 'cost (USD)'));
    const filters = h('form', { class: 'card form filters', id: 'audit-filters', 'aria-label': 'Audit filters' },
      h('div', { class: 'cols wrap' }, field('Key', inputs.key), field('Team', inputs.team), field('Server', inputs.server),
        field('Tool', inputs.tool, 'the upstream tool name'), field('Outcome', inputs.outcome), field('Time', range)),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
        h('button', { type: 'reset' }, 'Clear')));
    const totals = h('div', { class: 'figures' });
    const chartSlot = h('div', { id: 'audit-chart' });
    const rowsSlot = h('div');
    const pager = h('nav', { class: 'pager', 'aria-label': 'Audit pages' });
    main.append(filters, status,
      section('Summary', h('div', { class: 'summary-head' }, totals, h('div', { class: 'chart-controls' }, field('Chart by', by), field('Show', metric))), chartSlot),
      section('Calls', rowsSlot, pager));
    let offset = 0;

    function query(extra) {
      const p = new URLSearchParams();
      for (const [k, el] of Object.entries(inputs)) if (el.value.trim()) p.set(k, el.value.trim());
      const [, span] = RANGES.find(([n]) => n === range.value);
      const to = Date.now();
      p.set('from', String(to - span));
      Object.entries(extra || {}).forEach(([k, v]) => p.set(k, String(v)));
      return { p, from: to - span, to };
    }

    async function load() {
      status.show('Loading…', 'progress');
      const [, span, bucketMs] = RANGES.find(([n]) => n === range.value);
      const q = query({ limit: PAGE, offset });
      const sq = query({ bucketMs, by: by.value });
      const fq = query();
      try {
        const [page, series, summary] = await Promise.all([
          get('/api/v1/audit?' + q.p), get('/api/v1/audit/timeseries?' + sq.p), get('/api/v1/audit/summary?' + fq.p)]);
        clear(totals).append(
          h('div', { class: 'figure', id: 'audit-total' }, h('span', { class: 'figure-value' }, String(summary.total)), h('span', { class: 'figure-label' }, 'calls')),
          h('div', { class: 'figure', id: 'audit-cost' }, h('span', { class: 'figure-value' }, fmtUsd(summary.costUsd)), h('span', { class: 'figure-label' }, 'cost')),
          ...Object.entries(summary.byOutcome || {}).map(([o, n]) => h('div', { class: 'figure' }, h('span', { class: 'figure-value' }, String(n)), h('span', { class: 'figure-label' }, o))));
        clear(chartSlot).append(lineChart({ series: series.series, metric: metric.value, from: sq.from, to: sq.to, bucketMs,
          title: (metric.value === 'calls' ? 'Calls' : 'Cost') + ' per ' + Math.round(bucketMs / 60e3) + ' min by ' + by.value + ', last ' + range.value }));
        renderRows(page);
        status.show('');
      } catch (e) {
        status.show(explain(e), 'error');
      }
      void span;
    }

    function renderRows(page) {
      const records = page.records || [];
      clear(rowsSlot).append(records.length === 0 ? h('p', { class: 'muted' }, 'No calls match these filters.') :
        h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'audit-table' },
          h('thead', {}, h('tr', {}, ['Time', 'Key', 'Team', 'Server', 'Tool', 'Outcome', 'Latency', 'Cost', 'Arguments (as stored)'].map((x) => h('th', {}, x)))),
          h('tbody', {}, records.map((r) => h('tr', { 'data-tool': r.tool, 'data-key': r.keyName },
            h('td', { class: 'nowrap' }, fmtTime(r.time)), h('td', {}, r.keyName || ''), h('td', {}, r.team || ''), h('td', {}, r.server || ''),
            h('td', {}, r.tool || ''), h('td', {}, h('span', { class: 'badge outcome-' + r.outcome }, r.outcome), r.errorType ? h('div', { class: 'muted' }, r.errorType) : null),
            h('td', { class: 'num' }, r.latencyUs === undefined ? '' : (r.latencyUs / 1000).toFixed(1) + ' ms'),
            h('td', { class: 'num' }, fmtUsd(r.costUsd)),
            h('td', {}, r.arguments ? h('code', { class: 'args' }, r.arguments) : h('span', { class: 'muted' }, '(not stored)'))))))));
      const total = page.total || 0;
      const last = Math.min(total, offset + records.length);
      clear(pager).append(
        h('button', { type: 'button', id: 'audit-prev', disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); load(); } }, 'Previous'),
        h('span', { class: 'muted', id: 'audit-position' }, total ? (offset + 1) + '–' + last + ' of ' + total : '0 of 0'),
        h('button', { type: 'button', id: 'audit-next', disabled: last >= total, onclick: () => { offset += PAGE; load(); } }, 'Next'));
    }

    filters.addEventListener('submit', (ev) => { ev.preventDefault(); offset = 0; load(); });
    filters.addEventListener('reset', () => setTimeout(() => { offset = 0; load(); }, 0));
    by.addEventListener('change', load);
    metric.addEventListener('change', load);
    load();
  },
};
