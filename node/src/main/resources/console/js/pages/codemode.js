// The Code Mode page: which servers are reached through Code Mode, and for one key (optionally at
// /mcp/<group>) whether it gets Code Mode and the stub files its agent reads
// (GET /api/v1/code-mode?key=&group=).
import { h, clear, field, section, statusLine } from '../dom.js';
import { get, explain } from '../api.js';
import { registerPage } from '../pages.js';

registerPage({
  id: 'code-mode',
  title: 'Code Mode',
  render(main) {
    const status = statusLine();
    const summary = h('div');
    const keyView = h('div', { id: 'code-mode-key' });
    main.append(status, summary, keyView);
    let states = new Map();

    async function showKey(key, group) {
      if (!key) { clear(keyView); return; }
      status.show('Loading the stubs of ' + key + '…', 'progress');
      try {
        const q = '/api/v1/code-mode?key=' + encodeURIComponent(key) + (group ? '&group=' + encodeURIComponent(group) : '');
        const v = await get(q);
        const files = Object.entries(v.files || {});
        clear(keyView).append(section('What ' + key + (group ? ' at /mcp/' + group : ' at /mcp') + ' sees',
          h('p', { id: 'code-mode-active', 'data-active': String(v.active) }, v.active
            ? 'Code Mode is on for this key: its tools/list holds the four meta-tools instead of these ' + v.tools + ' tools.'
            : 'Code Mode is off for this key' + (v.tools ? ' (mode ' + v.mode + '; it would see ' + v.tools + ' tools): it gets the tools themselves.' : ': it may call no tool of a Code-Mode server.')),
          files.length ? h('div', { class: 'stub-files' }, files.map(([path, text]) => h('details', { class: 'stub', 'data-file': path, open: files.length === 1 },
            h('summary', {}, path + ' (' + text.split('\n').filter((l) => l.startsWith('def ')).length + ' tools)'),
            h('pre', { class: 'code' }, text))))
            : h('p', { class: 'muted' }, 'No stub files: the key may call no tool of a Code-Mode server.')));
        status.show('');
      } catch (e) {
        status.show('Could not load the stubs of ' + key + ': ' + explain(e), 'error');
      }
    }

    async function load() {
      let cm;
      let keys;
      let groups;
      try {
        [cm, keys, groups] = await Promise.all([get('/api/v1/code-mode'), get('/api/v1/keys'), get('/api/v1/groups')]);
        states = new Map((await get('/api/v1/servers')).servers.map((s) => [s.name, s.state]));
      } catch (e) {
        status.show(explain(e), 'error');
        return;
      }
      if (!cm.enabled) {
        clear(summary).append(section('Code Mode is off',
          h('p', { id: 'code-mode-off' }, 'mcp.code_mode.enabled is false in this node\'s config: every key gets the servers\' tools themselves. docs/code-mode.md says how to switch it on.')));
        return;
      }
      const key = h('select', { name: 'key', id: 'code-mode-key-select' }, h('option', { value: '' }, '(choose a key)'),
        keys.keys.map((k) => h('option', { value: k.key_name }, k.key_name)));
      const group = h('select', { name: 'group' }, h('option', { value: '' }, '/mcp (no tool group)'),
        groups.groups.map((g) => h('option', { value: g.name }, '/mcp/' + g.name)));
      const form = h('form', { class: 'cols', id: 'code-mode-form', 'aria-label': 'Show the stubs of a key' },
        field('Virtual key', key), field('Endpoint', group),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show stubs')));
      form.addEventListener('submit', (ev) => { ev.preventDefault(); showKey(key.value, group.value); });
      clear(summary).append(section('Servers reached through Code Mode',
        h('p', {}, 'Mode ', h('strong', {}, cm.mode), cm.mode === 'auto' ? ' (on from ' + cm.autoThreshold + ' tools)' : '',
          '; one stub file per ', cm.binding, '.'),
        cm.servers.length ? h('ul', { id: 'code-mode-servers' }, cm.servers.map((s) => h('li', { 'data-server': s }, s, ' ',
          h('span', { class: 'badge state-' + (states.get(s) || 'unknown') }, states.get(s) || 'unknown'))))
          : h('p', { class: 'muted' }, 'No configured server is reached through Code Mode.')),
      section('Stubs per key', form));
    }
    load();
  },
});
