import { h, clear, section, statusLine } from '../dom.js';
import { get, metricsText, explain } from '../api.js';
import { parse, digest, window as between } from '../metrics.js';

const WINDOW_MS = 5 * 60 * 1000;
const history = []; // digests of /metrics, kept for the page's session (memory only)

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
    const members = h('div');
    const owners = h('div');
    main.append(status, section('Traffic on this node', figures,
      h('p', { class: 'muted' }, 'From this node\'s /metrics, over the last few minutes this page has been open (until then: since the node started).')),
    section('Cluster members', members), section('Upstreams and their owners', owners));

    async function refresh() {
      try {
        const [cluster, text] = await Promise.all([get('/api/v1/cluster'), metricsText()]);
        const now = digest(parse(text), Date.now());
        history.push(now);
        while (history.length > 2 && now.at - history[0].at > WINDOW_MS) history.shift();
        const older = history.length > 1 ? history[0] : null;
        const w = between(older, now);
        clear(figures).append(
          figure('calls / s', w.perSecond === null ? '–' : w.perSecond.toFixed(2), 'fig-rate'),
          figure('error rate', w.errorRate === null ? '–' : (w.errorRate * 100).toFixed(1) + ' %', 'fig-errors'),
          figure('p50 tools/call', ms(w.p50), 'fig-p50'),
          figure('p99 tools/call', ms(w.p99), 'fig-p99'),
          figure('open sessions', String(w.sessions), 'fig-sessions'),
          figure(older ? 'calls in window' : 'calls since start', String(w.calls), 'fig-calls'));
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
