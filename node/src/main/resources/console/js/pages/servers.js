import { h, clear, field, section, statusLine, fmtTime } from '../dom.js';
import { get, put, del, post, explain } from '../api.js';

const STATES = {
  ready: 'ready', connecting: 'connecting', 'backing-off': 'backing off', failed: 'failed',
  needs_authorization: 'needs authorization',
};

function lines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

function pairs(text, sep) {
  const out = {};
  for (const l of lines(text)) {
    const i = l.indexOf(sep);
    if (i < 1) throw new Error('"' + l + '" is not of the form name' + sep + 'value');
    out[l.slice(0, i).trim()] = l.slice(i + sep.length).trim();
  }
  return out;
}

function unpairs(obj, sep) {
  return Object.entries(obj || {}).map(([k, v]) => k + sep + v).join('\n');
}

function problemsList(e) {
  if (!e.problems || !e.problems.length) return null;
  return h('ul', { class: 'problems' }, e.problems.map((p) => h('li', {}, h('code', {}, p.path), ': ', p.problem)));
}

async function waitForState(name, status, within = 60000) {
  const start = Date.now();
  let last = null;
  while (Date.now() - start < within) {
    const list = await get('/api/v1/servers');
    last = list.servers.find((s) => s.name === name) || null;
    if (last && (last.state === 'ready' || last.state === 'failed' || last.state === 'backing-off')) return last;
    status.show('Waiting for ' + name + ' to connect… (' + (last ? STATES[last.state] || last.state : 'starting') + ', '
      + Math.round((Date.now() - start) / 1000) + ' s)', 'progress');
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}

function form(existing, done, status) {
  const def = existing || { type: 'http' };
  const name = h('input', { name: 'name', required: true, pattern: '[a-zA-Z0-9_-]{1,64}', value: existing ? existing.name : '', disabled: !!existing, autocomplete: 'off' });
  const type = h('select', { name: 'type' }, ['stdio', 'http', 'sse'].map((t) => h('option', { value: t, selected: def.type === t }, t)));
  const url = h('input', { name: 'url', type: 'text', value: def.url || '', placeholder: 'http://127.0.0.1:3001/mcp', autocomplete: 'off' });
  const command = h('textarea', { name: 'command', rows: 3, placeholder: 'npx\n-y\n@modelcontextprotocol/server-everything' });
  command.value = (def.command || []).join('\n');
  const env = h('textarea', { name: 'env', rows: 2, placeholder: 'NAME=value' });
  env.value = unpairs(def.env, '=');
  const headers = h('textarea', { name: 'headers', rows: 2, placeholder: 'Authorization: Bearer …' });
  headers.value = unpairs(def.headers, ': ');
  const prefix = h('input', { name: 'tool_prefix', value: def.tool_prefix === undefined ? '' : def.tool_prefix, autocomplete: 'off' });
  const price = h('input', { name: 'price', type: 'number', min: '0', step: 'any', value: def.pricing ? def.pricing.default : '' });
  const remote = h('div', {}, field('URL', url, 'http and sse servers'), field('Headers', headers, 'One "Name: value" a line; stored values show as ********'));
  const local = h('div', {}, field('Command', command, 'stdio: the program, then one argument a line'), field('Environment', env, 'One NAME=value a line'));
  const sync = () => { remote.hidden = type.value === 'stdio'; local.hidden = type.value !== 'stdio'; };
  type.addEventListener('change', sync);
  sync();
  const error = h('div', { class: 'error', role: 'alert', id: 'server-form-error' });
  const f = h('form', { class: 'card form', id: 'server-form', 'aria-label': existing ? 'Edit server ' + existing.name : 'Add a server' },
    h('h2', {}, existing ? 'Edit ' + existing.name : 'Add a server'),
    h('div', { class: 'cols' }, field('Name', name, 'Letters, digits, _ or -'), field('Type', type)),
    remote, local,
    h('div', { class: 'cols' }, field('Tool prefix', prefix, 'Empty: the server name'), field('Price per call (USD)', price, 'Charged to budgets')),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, existing ? 'Save' : 'Add server'),
      h('button', { type: 'button', onclick: () => done(false) }, 'Cancel')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(error);
    const body = existing ? { ...existing } : {};
    delete body.source;
    body.type = type.value;
    try {
      if (type.value === 'stdio') {
        body.command = lines(command.value);
        const e = pairs(env.value, '=');
        if (Object.keys(e).length) body.env = e; else delete body.env;
        delete body.url; delete body.headers;
      } else {
        body.url = url.value.trim();
        const hd = pairs(headers.value, ':');
        if (Object.keys(hd).length) body.headers = hd; else delete body.headers;
        delete body.command; delete body.env; delete body.cwd;
      }
    } catch (e) {
      error.append(h('p', {}, e.message));
      return;
    }
    if (prefix.value.trim() !== '') body.tool_prefix = prefix.value.trim(); else delete body.tool_prefix;
    if (price.value !== '') body.pricing = { ...(body.pricing || {}), default: Number(price.value) };
    const serverName = existing ? existing.name : name.value.trim();
    if (!serverName) { error.append(h('p', {}, 'A server needs a name.')); name.focus(); return; }
    status.show('Saving ' + serverName + '…', 'progress');
    try {
      await put('/api/v1/servers/' + encodeURIComponent(serverName), body);
    } catch (e) {
      status.show('');
      error.append(h('p', {}, e.problems && e.problems.length ? 'Not saved: the config reader found ' + (e.problems.length === 1 ? 'a problem' : e.problems.length + ' problems') + ':' : 'Not saved: ' + explain(e)), problemsList(e) || '');
      error.focus && error.setAttribute('tabindex', '-1');
      return;
    }
    done(true, serverName);
  });
  return f;
}

function toolList(server, catalog) {
  const entry = catalog.servers.find((s) => s.name === server);
  const tools = entry ? entry.tools : [];
  if (!tools.length) return h('p', { class: 'muted' }, 'No tools listed.');
  return h('ul', { class: 'tools' }, tools.map((t) => h('li', {},
    h('details', {}, h('summary', {}, h('code', {}, t.exposed || t.name), t.description ? ' — ' + t.description : ''),
      h('pre', { class: 'schema' }, JSON.stringify(t.inputSchema || {}, null, 2))))));
}

export default {
  id: 'servers',
  title: 'Servers',
  render(main) {
    const status = statusLine();
    const formSlot = h('div');
    const table = h('div');
    const addButton = h('button', { type: 'button', class: 'primary', id: 'add-server' }, 'Add a server');
    main.append(h('div', { class: 'toolbar' }, addButton), status, formSlot, section('Upstream servers', table));
    let open = new Set();
    let stopped = false;

    const closeForm = async (saved, name) => {
      clear(formSlot);
      if (!saved) return;
      status.show('Saved ' + name + '. Connecting…', 'progress');
      await load();
      const s = await waitForState(name, status);
      await load();
      if (s && s.state === 'ready') status.show(name + ' is connected: ' + s.tools + ' tools.', 'ok');
      else status.show(name + ' did not connect' + (s && s.lastError ? ': ' + s.lastError : '.'), 'error');
    };
    addButton.addEventListener('click', () => {
      clear(formSlot).append(form(null, closeForm, status));
      formSlot.querySelector('input[name=name]').focus();
    });

    async function edit(name) {
      try {
        const def = await get('/api/v1/servers/' + encodeURIComponent(name));
        clear(formSlot).append(form(def, closeForm, status));
        formSlot.querySelector('select').focus();
      } catch (e) {
        status.show(explain(e), 'error');
      }
    }

    async function act(label, name, f) {
      status.show(label + ' ' + name + '…', 'progress');
      try {
        await f();
        status.show(label + ' ' + name + ': done.', 'ok');
      } catch (e) {
        status.show(label + ' ' + name + ' failed: ' + explain(e), 'error');
      }
      await load();
    }

    async function load() {
      let list;
      let catalog;
      try {
        [list, catalog] = await Promise.all([get('/api/v1/servers'), get('/api/v1/catalog')]);
      } catch (e) {
        status.show(explain(e), 'error');
        return;
      }
      if (stopped) return;
      const rows = [];
      for (const s of list.servers) {
        rows.push(h('tr', { 'data-server': s.name, class: 'server-row' },
          h('th', { scope: 'row' }, s.name),
          h('td', {}, h('span', { class: 'badge state-' + s.state, 'data-state': s.state }, STATES[s.state] || s.state)),
          h('td', { class: 'num' }, String(s.tools), ' / ', String(s.resources), ' / ', String(s.prompts)),
          h('td', { class: 'owner' }, s.owner),
          h('td', { class: 'num' }, String(s.attempts)),
          h('td', { class: 'last-error' }, s.lastError || '', s.recentBackoffMs && s.recentBackoffMs.length
            ? h('div', { class: 'muted' }, 'backoff: ' + s.recentBackoffMs.map((b) => b + ' ms').join(', ')) : null),
          h('td', { class: 'row-actions' },
            h('button', { type: 'button', 'aria-expanded': open.has(s.name) ? 'true' : 'false', onclick: () => { open.has(s.name) ? open.delete(s.name) : open.add(s.name); load(); } }, 'Tools'),
            h('button', { type: 'button', onclick: () => edit(s.name) }, 'Edit'),
            // An OAuth upstream without a usable token: the operator signs in at its authorization
            // server in a new tab; the provider redirects to Bastion's /oauth/callback, and this
            // page follows the server's state until it connects (or says why not).
            s.authorizationUrl ? h('a', { class: 'button', href: s.authorizationUrl, target: '_blank',
              rel: 'noopener noreferrer', onclick: () => act('Authorizing', s.name, async () => {
                status.show('Complete the sign-in in the new tab; waiting for ' + s.name + ' to connect…', 'progress');
                const st = await waitForState(s.name, status, 300000);
                if (!st || st.state !== 'ready') throw new Error(st && st.lastError ? st.lastError : 'not authorized yet');
              }) }, 'Authorize') : null,
            h('button', { type: 'button', onclick: () => act('Reconnecting', s.name, async () => {
              await post('/api/v1/servers/' + encodeURIComponent(s.name) + '/reconnect');
              await new Promise((r) => setTimeout(r, 500));
              const st = await waitForState(s.name, status, 30000);
              if (!st || st.state !== 'ready') throw new Error(st && st.lastError ? st.lastError : 'not ready yet');
            }) }, 'Reconnect'),
            h('button', { type: 'button', class: 'danger', onclick: () => {
              if (confirm('Remove server ' + s.name + '? Its tools disappear from every key.')) {
                act('Removing', s.name, () => del('/api/v1/servers/' + encodeURIComponent(s.name)));
              }
            } }, 'Remove'))));
        if (open.has(s.name)) {
          rows.push(h('tr', { class: 'details-row' }, h('td', { colspan: 7 },
            h('p', { class: 'muted' }, 'Updated ' + fmtTime(s.updatedAt) + (s.serverInfo ? ' · ' + (s.serverInfo.name || '') + ' ' + (s.serverInfo.version || '') : '')),
            toolList(s.name, catalog))));
        }
      }
      clear(table).append(list.servers.length === 0 ? h('p', { class: 'muted' }, 'No servers yet: add one.') :
        h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'servers-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'State'), h('th', {}, 'Tools / resources / prompts'),
            h('th', {}, 'Owner'), h('th', {}, 'Attempts'), h('th', {}, 'Last error'), h('th', {}, 'Actions'))),
          h('tbody', {}, rows))),
        list.collisions && list.collisions.length ? h('p', { class: 'muted' }, 'Name collisions: ' + list.collisions.join('; ')) : '');
    }
    load();
    const timer = setInterval(() => { if (!formSlot.firstChild && !table.contains(document.activeElement)) load(); }, 5000);
    return () => { stopped = true; clearInterval(timer); };
  },
};
