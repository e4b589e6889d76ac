import { h, clear, section, statusLine } from '../dom.js';
import { get, explain } from '../api.js';
import { parse, digest, window as between, combine } from '../metrics.js';

const WINDOW_MS = 5 * 60 * 1000;
// Digests of every member's figures, kept for the page's session (memory only): address -> [digest].
const histories = new Map();

function remember(id, d) {
  const history = histories.get(id) || [];
  histories.set(id, history);
  history.push(d);
  while (history.length > 2 && d.at - history[0].at > WINDOW_MS) history.shift();
  const older = history.length > 1 ? history[0] : null;
  return { older, w: between(older, d) };
}

const rate = (w) => (w.perSecond === null ? '–' : w.perSecond.toFixed(2));
const errors = (w) => (w.errorRate === null ? '–' : (w.errorRate * 100).toFixed(1) + ' %');

function ms(seconds) {
  return seconds === null || seconds === undefined ? '–' : (seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1) + ' ms';
}

function stateBadge(state) {
  return h('span', { class: 'badge state-' + state }, state);
}

function figure(label, value, id) {
  return h('div', { class: 'figure', id }, h('span', { class: 'figure-value' }, value), h('span', { class: 'figure-label' }, label));
}

export default {
  id: 'overview',
  title: 'Overview',
  render(main) {
    const status = statusLine();
    const figures = h('div', { class: 'figures' });
    const perNode = h('div');
    const members = h('div');
    const owners = h('div');
    main.append(status, section('Traffic across the cluster', figures,
      h('p', { class: 'muted' }, 'Every member\'s own metrics (GET /api/v1/cluster/metrics), added up, over the last few minutes this page has been open (until then: since each node started).'),
      perNode),
    section('Cluster members', members), section('Upstreams and their owners', owners));

    async function refresh() {
      try {
        const [cluster, figs] = await Promise.all([get('/api/v1/cluster'), get('/api/v1/cluster/metrics')]);
        const at = Date.now();
        const rows = figs.nodes.map((n) => (n.error ? { address: n.address, error: n.error }
          : { address: n.address, ...remember(n.address, digest(parse(n.metrics), at)) }));
        const answered = rows.filter((r) => !r.error);
        const w = combine(answered.map((r) => r.w));
        const older = answered.some((r) => r.older);
        clear(figures).append(
          figure('calls / s', rate(w), 'fig-rate'),
          figure('error rate', errors(w), 'fig-errors'),
          figure('p50 tools/call', ms(w.p50), 'fig-p50'),
          figure('p99 tools/call', ms(w.p99), 'fig-p99'),
          figure('open sessions', String(w.sessions), 'fig-sessions'),
          figure(older ? 'calls in window' : 'calls since start', String(w.calls), 'fig-calls'));
        clear(perNode).append(h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'node-figures' },
          h('thead', {}, h('tr', {}, ['Node', 'calls / s', 'error rate', 'p50', 'p99', 'open sessions', 'calls'].map((x) => h('th', {}, x)))),
          h('tbody', {}, rows.map((r) => h('tr', { 'data-node': r.address },
            h('th', { scope: 'row' }, r.address, r.address === figs.self ? h('span', { class: 'muted' }, ' (this node)') : null),
            r.error ? h('td', { colspan: '6', class: 'error' }, r.error)
              : [h('td', {}, rate(r.w)), h('td', {}, errors(r.w)), h('td', {}, ms(r.w.p50)), h('td', {}, ms(r.w.p99)),
                h('td', {}, String(r.w.sessions)), h('td', { class: 'calls' }, String(r.w.calls))]))))));
        document.getElementById('node-name').textContent = cluster.self;
        clear(members).append(h('div', { class: 'scroll' }, h('table', { class: 'grid' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Address'), h('th', {}, 'Status'), h('th', {}, 'Roles'), h('th', {}, 'Leader'))),
          h('tbody', {}, cluster.members.map((m) => h('tr', {},
            h('td', {}, m.address, m.address === cluster.self ? h('span', { class: 'muted' }, ' (this node)') : null),
            h('td', {}, stateBadge(m.status.toLowerCase())),
            h('td', {}, (m.roles || []).join(', ')),
            h('td', {}, m.address === cluster.leader ? 'yes' : '')))))),
        cluster.unreachable.length ? h('p', { class: 'error' }, 'Unreachable: ' + cluster.unreachable.map((m) => m.address).join(', ')) : '');
        clear(owners).append(cluster.upstreams.length === 0 ? h('p', { class: 'muted' }, 'No upstream servers are configured.')
          : h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'upstream-owners' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Server'), h('th', {}, 'State'), h('th', {}, 'Owner node'))),
            h('tbody', {}, cluster.upstreams.map((u) => h('tr', { 'data-server': u.name },
              h('td', {}, h('a', { href: '#/servers' }, u.name)), h('td', {}, stateBadge(u.state)), h('td', {}, u.owner)))))));
        status.show('');
      } catch (e) {
        status.show(explain(e), 'error');
      }
    }
    refresh();
    const timer = setInterval(refresh, 5000);
    return () => clearInterval(timer);
  },
};
