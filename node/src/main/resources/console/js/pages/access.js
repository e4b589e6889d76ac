import { h, clear, field, section, statusLine, fmtUsd, fmtTime } from '../dom.js';
import { get, put, del, explain } from '../api.js';

const RESETS = ['1m', '5m', '1h', '1d', '1w', '1M'];

/** A fresh key value from the browser's CSPRNG: 32 random bytes, base64url, "vk-" prefix. */
function newKeyValue() {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return 'vk-' + btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function spendBar(b) {
  if (!b) return h('span', { class: 'muted' }, '–');
  const ratio = b.limitUsd > 0 ? Math.min(1, b.spentUsd / b.limitUsd) : 0;
  const bar = h('span', { class: 'bar-fill' + (ratio >= 0.9 ? ' hot' : '') });
  bar.style.width = (ratio * 100).toFixed(1) + '%';
  return h('div', { class: 'spend', 'data-budget': b.kind + ':' + b.name },
    h('span', { class: 'spend-text' }, fmtUsd(b.spentUsd) + ' of ' + fmtUsd(b.limitUsd)),
    h('span', { class: 'bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': String(b.limitUsd), 'aria-valuenow': String(b.spentUsd),
      'aria-label': 'spent ' + fmtUsd(b.spentUsd) + ' of ' + fmtUsd(b.limitUsd) }, bar),
    h('small', { class: 'muted' }, 'resets ' + fmtTime(b.resetAt) + ' (every ' + b.reset + ')'));
}

function per(ms) {
  if (ms % 3600000 === 0) return (ms / 3600000) + 'h';
  if (ms % 60000 === 0) return (ms / 60000) + 'm';
  return ms % 1000 === 0 ? (ms / 1000) + 's' : ms + 'ms';
}

/** One rate limit: the calls its sliding window counts now against the limit, and when they leave it. */
function rateBar(l) {
  const ratio = Math.min(1, l.used / l.requests);
  const bar = h('span', { class: 'bar-fill' + (ratio >= 0.9 ? ' hot' : '') });
  bar.style.width = (ratio * 100).toFixed(1) + '%';
  const label = (l.tool ? l.tool + ': ' : '') + l.used + ' of ' + l.requests + ' calls / ' + per(l.perMs);
  return h('div', { class: 'spend rate', 'data-rate': l.tool || '*' },
    h('span', { class: 'rate-text' }, label),
    h('span', { class: 'bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': String(l.requests), 'aria-valuenow': String(l.used),
      'aria-label': label }, bar),
    h('small', { class: 'muted' }, l.used === 0 ? 'window empty'
      : (l.remaining === 0 ? 'next call at ' + fmtTime(l.nextFreeAt) + '; ' : '') + 'empty at ' + fmtTime(l.resetAt)));
}

/**
 * The tool picker over the live catalog: per server, "all tools" or a choice of its tools.
 * value() answers mcp_clients-style [{name, allowed_tools}] (or tool-group-style when asked).
 */
function toolPicker(catalog, selected, idPrefix) {
  const chosen = new Map((selected || []).map((c) => [c.name || c.server, new Set(c.allowed_tools || c.tools || [])]));
  const boxes = [];
  const body = h('div', { class: 'picker', role: 'group', 'aria-label': 'Allowed tools' });
  for (const s of catalog.servers) {
    const set = chosen.get(s.name) || new Set();
    const all = h('input', { type: 'checkbox', id: idPrefix + '-' + s.name + '-all', checked: set.has('*') });
    const tools = s.tools.map((t) => {
      const cb = h('input', { type: 'checkbox', id: idPrefix + '-' + s.name + '-' + t.name, value: t.name, 'data-tool': t.exposed || t.name, checked: set.has(t.name) || set.has('*'), disabled: set.has('*') });
      return h('li', {}, cb, h('label', { for: cb.id, title: t.description || '' }, t.name), t.description ? h('small', { class: 'muted' }, ' ' + t.description.slice(0, 80)) : null);
    });
    all.addEventListener('change', () => tools.forEach((li) => { const cb = li.querySelector('input'); cb.disabled = all.checked; cb.checked = all.checked || cb.checked; }));
    boxes.push({ server: s.name, all, tools });
    body.append(h('fieldset', { class: 'picker-server' }, h('legend', {}, s.name + ' (' + s.state + ')'),
      h('div', {}, all, h('label', { for: all.id }, 'all tools of ' + s.name)),
      h('ul', {}, tools)));
  }
  if (!catalog.servers.length) body.append(h('p', { class: 'muted' }, 'No servers: add one on the Servers page first.'));
  // Servers the catalog does not list now (removed, or not connected yet) keep what was selected.
  const kept = [...chosen.entries()].filter(([server]) => !catalog.servers.some((s) => s.name === server));
  if (kept.length) body.append(h('p', { class: 'muted' }, 'Kept as they are (not in the catalog now): '
    + kept.map(([server, set]) => server + ': ' + [...set].join(', ')).join('; ')));
  body.value = (asGroup) => kept.map(([server, set]) => (asGroup ? { server, tools: [...set] } : { name: server, allowed_tools: [...set] }))
    .concat(boxes.map((b) => {
    const picked = b.all.checked ? ['*'] : b.tools.map((li) => li.querySelector('input')).filter((c) => c.checked).map((c) => c.value);
    return picked.length ? (asGroup ? { server: b.server, tools: picked } : { name: b.server, allowed_tools: picked }) : null;
  })).filter(Boolean);
  return body;
}

function budgetFields(def) {
  const max = h('input', { type: 'number', min: '0', step: 'any', name: 'max_usd', value: def && def.budget ? def.budget.max_usd : '' });
  const reset = h('select', { name: 'reset' }, RESETS.map((r) => h('option', { value: r, selected: def && def.budget ? def.budget.reset === r : r === '1d' }, r)));
  const el = h('div', { class: 'cols' }, field('Budget (USD)', max, 'Empty: no budget'), field('Resets every', reset));
  el.value = () => (max.value === '' ? undefined : { max_usd: Number(max.value), reset: reset.value });
  return el;
}

function listTable(id, headers, rows) {
  if (!rows.length) return h('p', { class: 'muted' }, 'None yet.');
  return h('div', { class: 'scroll' }, h('table', { class: 'grid', id },
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))), h('tbody', {}, rows)));
}

export default {
  id: 'access',
  title: 'Keys & budgets',
  render(main) {
    const status = statusLine();
    const secret = h('div', { id: 'secret-slot' });
    const formSlot = h('div');
    const toolbar = h('div', { class: 'toolbar' });
    const body = h('div');
    main.append(toolbar, status, secret, formSlot, body);
    let data = null;

    async function load() {
      try {
        const [keys, teams, customers, groups, budgets, catalog, rates] = await Promise.all(['/api/v1/keys', '/api/v1/teams', '/api/v1/customers',
          '/api/v1/groups', '/api/v1/budgets', '/api/v1/catalog', '/api/v1/rate-limits'].map((p) => get(p)));
        data = { keys: keys.keys, teams: teams.teams, customers: customers.customers, groups: groups.groups, budgets: budgets.budgets, catalog, rates: rates.rateLimits };
      } catch (e) {
        status.show(explain(e), 'error');
        return;
      }
      toolbar.querySelectorAll('button[id^=create-]').forEach((b) => { b.disabled = false; });
      const budgetOf = (kind, name) => data.budgets.find((b) => b.kind === kind && b.name === name);
      const delBtn = (kind, name) => h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm('Delete ' + kind.replace(/s$/, '') + ' ' + name + '?')) return;
        try { await del('/api/v1/' + kind + '/' + encodeURIComponent(name)); status.show('Deleted ' + name + '.', 'ok'); } catch (e) { status.show('Not deleted: ' + explain(e), 'error'); }
        load();
      } }, 'Delete');
      const tools = (k) => (k.mcp_clients || []).map((c) => c.name + ': ' + (c.allowed_tools || []).join(', ')).join('; ');
      clear(body).append(
        section('Virtual keys', listTable('keys-table', ['Name', 'Team', 'Allowed tools', 'Groups', 'Budget', 'Rate limit', 'Source', 'Actions'],
          data.keys.map((k) => h('tr', { 'data-key': k.key_name },
            h('th', { scope: 'row' }, k.key_name), h('td', {}, k.team || ''), h('td', { class: 'tools-cell' }, tools(k)),
            h('td', {}, (k.tool_groups || []).join(', ')), h('td', {}, spendBar(budgetOf('key', k.key_name))),
            h('td', { class: 'rate-cell' }, data.rates.filter((l) => l.key === k.key_name).map(rateBar)),
            h('td', {}, k.source), h('td', { class: 'row-actions' },
              h('button', { type: 'button', onclick: () => keyForm(k) }, 'Edit'), delBtn('keys', k.key_name)))))),
        section('Teams', listTable('teams-table', ['Name', 'Customer', 'Budget', 'Source', 'Actions'], data.teams.map((t) => h('tr', {},
          h('th', { scope: 'row' }, t.name), h('td', {}, t.customer || ''), h('td', {}, spendBar(budgetOf('team', t.name))), h('td', {}, t.source),
          h('td', { class: 'row-actions' }, h('button', { type: 'button', onclick: () => simpleForm('teams', t) }, 'Edit'), delBtn('teams', t.name)))))),
        section('Customers', listTable('customers-table', ['Name', 'Budget', 'Source', 'Actions'], data.customers.map((c) => h('tr', {},
          h('th', { scope: 'row' }, c.name), h('td', {}, spendBar(budgetOf('customer', c.name))), h('td', {}, c.source),
          h('td', { class: 'row-actions' }, h('button', { type: 'button', onclick: () => simpleForm('customers', c) }, 'Edit'), delBtn('customers', c.name)))))),
        section('Tool groups', listTable('groups-table', ['Name', 'Tools', 'Source', 'Actions'], data.groups.map((g) => h('tr', {},
          h('th', { scope: 'row' }, g.name), h('td', { class: 'tools-cell' }, (g.tools || []).map((s) => s.server + ': ' + s.tools.join(', ')).join('; ')), h('td', {}, g.source),
          h('td', { class: 'row-actions' }, h('button', { type: 'button', onclick: () => groupForm(g) }, 'Edit'), delBtn('groups', g.name)))))));
    }

    async function save(kind, name, def, after) {
      status.show('Saving ' + name + '…', 'progress');
      try {
        const res = await put('/api/v1/' + kind + '/' + encodeURIComponent(name), def);
        status.show('Saved ' + name + '.' + (res && res.warnings ? ' Warnings: ' + res.warnings.join('; ') : ''), 'ok');
        clear(formSlot);
        if (after) after();
        await load();
        return true;
      } catch (e) {
        status.show('Not saved: ' + explain(e), 'error');
        return false;
      }
    }

    function formShell(title, id, fields, onSubmit) {
      const f = h('form', { class: 'card form', id, 'aria-label': title }, h('h2', {}, title), fields,
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save'),
          h('button', { type: 'button', onclick: () => clear(formSlot) }, 'Cancel')));
      f.addEventListener('submit', (ev) => { ev.preventDefault(); onSubmit(); });
      clear(formSlot).append(f);
      const first = f.querySelector('input:not([disabled]), select');
      if (first) first.focus();
    }

    function keyForm(existing) {
      const name = h('input', { name: 'key_name', required: true, value: existing ? existing.key_name : '', disabled: !!existing, autocomplete: 'off' });
      const team = h('select', { name: 'team' }, h('option', { value: '' }, '(none)'), data.teams.map((t) => h('option', { value: t.name, selected: existing && existing.team === t.name }, t.name)));
      const groups = h('div', { class: 'inline-checks', role: 'group', 'aria-label': 'Tool groups' }, data.groups.map((g) => {
        const cb = h('input', { type: 'checkbox', id: 'kg-' + g.name, value: g.name, checked: existing && (existing.tool_groups || []).includes(g.name) });
        return h('span', {}, cb, h('label', { for: cb.id }, g.name));
      }));
      const picker = toolPicker(data.catalog, existing ? existing.mcp_clients : [], 'kt');
      const budget = budgetFields(existing);
      const rl = existing && existing.rate_limit && existing.rate_limit.requests ? existing.rate_limit : {};
      const requests = h('input', { type: 'number', min: '1', name: 'requests', value: rl.requests || '' });
      const per = h('input', { name: 'per', value: rl.per || '1m' });
      formShell(existing ? 'Edit key ' + existing.key_name : 'Create a virtual key', 'key-form', [
        h('div', { class: 'cols' }, field('Name', name, 'The key\'s name (its value is generated and shown once)'), field('Team', team)),
        h('h3', {}, 'Allowed tools'), picker,
        data.groups.length ? h('div', {}, h('h3', {}, 'Tool groups'), groups) : null,
        budget,
        h('div', { class: 'cols' }, field('Rate limit (requests)', requests, 'Empty: none'), field('per', per, 'e.g. 1m, 10s, 1h')),
      ], async () => {
        const keyName = existing ? existing.key_name : name.value.trim();
        const def = { key_name: keyName, mcp_clients: picker.value(false) };
        if (team.value) def.team = team.value;
        const gs = [...groups.querySelectorAll('input:checked')].map((c) => c.value);
        if (gs.length) def.tool_groups = gs;
        const b = budget.value();
        if (b) def.budget = b;
        if (requests.value) def.rate_limit = { requests: Number(requests.value), per: per.value };
        if (existing && existing.rate_limit && existing.rate_limit.tools) def.rate_limit = { ...(def.rate_limit || {}), tools: existing.rate_limit.tools };
        let value = null;
        if (!existing) { value = newKeyValue(); def.key = value; }
        await save('keys', keyName, def, value ? () => showSecret(keyName, value) : null);
        value = null;
      });
    }

    function showSecret(keyName, value) {
      const code = h('code', { id: 'new-key-value', class: 'secret' }, value);
      const done = h('button', { type: 'button', class: 'primary', onclick: () => { clear(secret); done.blur(); } }, 'I have stored it — hide');
      clear(secret).append(h('div', { class: 'card secret-card', role: 'alert' },
        h('h2', {}, 'Key ' + keyName + ' created'),
        h('p', {}, 'This is the only time the key value is shown. Bastion keeps only its SHA-256; copy it now.'),
        code, h('div', { class: 'actions' }, done)));
      done.focus();
    }

    function simpleForm(kind, existing) {
      const name = h('input', { name: 'name', required: true, value: existing ? existing.name : '', disabled: !!existing, autocomplete: 'off' });
      const customer = kind === 'teams' ? h('select', { name: 'customer' }, h('option', { value: '' }, '(none)'),
        data.customers.map((c) => h('option', { value: c.name, selected: existing && existing.customer === c.name }, c.name))) : null;
      const budget = budgetFields(existing);
      formShell((existing ? 'Edit ' : 'Create a ') + (kind === 'teams' ? 'team' : 'customer'), kind + '-form',
        [h('div', { class: 'cols' }, field('Name', name), customer ? field('Customer', customer) : null), budget], () => {
          const n = existing ? existing.name : name.value.trim();
          const def = { name: n };
          if (customer && customer.value) def.customer = customer.value;
          const b = budget.value();
          if (b) def.budget = b;
          save(kind, n, def);
        });
    }

    function groupForm(existing) {
      const name = h('input', { name: 'name', required: true, value: existing ? existing.name : '', disabled: !!existing, autocomplete: 'off' });
      const picker = toolPicker(data.catalog, existing ? existing.tools : [], 'gt');
      formShell(existing ? 'Edit group ' + existing.name : 'Create a tool group', 'group-form', [field('Name', name), picker], () => {
        const n = existing ? existing.name : name.value.trim();
        save('groups', n, { name: n, tools: picker.value(true) });
      });
    }

    // The create buttons need the loaded lists (teams, groups, the catalog): disabled until then,
    // rather than doing nothing when clicked early.
    toolbar.append(
      h('button', { type: 'button', class: 'primary', id: 'create-key', disabled: true, onclick: () => data && keyForm(null) }, 'Create key'),
      h('button', { type: 'button', id: 'create-team', disabled: true, onclick: () => data && simpleForm('teams', null) }, 'Create team'),
      h('button', { type: 'button', id: 'create-customer', disabled: true, onclick: () => data && simpleForm('customers', null) }, 'Create customer'),
      h('button', { type: 'button', id: 'create-group', disabled: true, onclick: () => data && groupForm(null) }, 'Create tool group'),
      h('button', { type: 'button', id: 'refresh-access', onclick: () => load() }, 'Refresh'));
    load();
    const timer = setInterval(() => { if (!formSlot.firstChild && !body.contains(document.activeElement)) load(); }, 10000);
    return () => { clearInterval(timer); clear(secret); };
  },
};
