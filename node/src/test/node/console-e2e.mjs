#!/usr/bin/env node
/*
 * console-e2e.mjs: drives Bastion's operator console in Debian's headless Chromium through
 * playwright-core (never a downloaded browser), for ConsoleE2ETest.
 *
 *   node console-e2e.mjs '<json options>'
 *
 * Options: base (http://127.0.0.1:PORT), token (the admin token), httpUpstream (URL of a real
 * streamable-HTTP MCP server to add through the form), screenshots (folder for the 1280x800
 * screenshots), chromium (default /usr/bin/chromium), authorizationServer (origin of the real
 * authorization server protecting the configured server "guarded": the only other origin a page
 * may reach, and only from the sign-in tab the Authorize button opens, never from the console).
 *
 * Prints exactly ONE JSON object on stdout: {steps: [{name, ok, detail}], foreignRequests: [...],
 * keyValueSeenAfterHide, spendText, auditRows, ..., error?}. Every request the page makes to
 * another origin is aborted and listed in foreignRequests (the Java test fails on any).
 */
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

console.log = (...a) => process.stderr.write(a.join(' ') + '\n');
const here = path.dirname(fileURLToPath(import.meta.url));
const opts = JSON.parse(process.argv[2] || '{}');
const base = opts.base.replace(/\/$/, '');
const origin = new URL(base).origin;
const report = { steps: [], foreignRequests: [], consoleErrors: [], authorizationServerRequests: [] };
const asOrigin = opts.authorizationServer ? new URL(opts.authorizationServer).origin : null;
let consolePage = null;
const WAIT = 60000;

function step(name, detail) {
  report.steps.push({ name, ok: true, detail: detail === undefined ? null : detail });
  console.log(new Date().toISOString() + ' step ok: ' + name + (detail === undefined ? '' : ' ' + JSON.stringify(detail)));
}

function tsClient(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(here, 'ts-client.mjs'), ...args], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => {
      const last = out.trim().split('\n').pop();
      try { resolve(JSON.parse(last)); } catch (e) { reject(new Error('ts-client exit ' + code + ': ' + out + err)); }
    });
  });
}

async function shot(page, name) {
  if (!opts.screenshots) return;
  mkdirSync(opts.screenshots, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(opts.screenshots, name + '.png') });
}

async function noHorizontalOverflow(page, label) {
  await page.setViewportSize({ width: 400, height: 800 });
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.setViewportSize({ width: 1280, height: 800 });
  if (over > 1) throw new Error(label + ' overflows a 400 px window by ' + over + ' px');
  step('narrow window: ' + label);
}

const userDataDir = mkdtempSync(path.join(tmpdir(), 'bastion-chromium-'));
let browser;
try {
  // A fresh profile per run (launchPersistentContext passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    serviceWorkers: 'block',
  });
  browser = context;
  // Any request to another origin is aborted and reported: the console must need nothing but its node.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    // The OAuth sign-in tab (not the console) talks to the authorization server, as a browser must.
    // (A new tab's first navigation has no frame yet: it is not the console's page either.)
    let from = null;
    try { from = route.request().frame().page(); } catch (e) { from = null; }
    if (asOrigin && new URL(url).origin === asOrigin && from !== consolePage) {
      report.authorizationServerRequests.push(url.split('?')[0]);
      return route.continue();
    }
    report.foreignRequests.push(url);
    return route.abort();
  });
  const page = context.pages()[0] || await context.newPage();
  consolePage = page;
  page.setDefaultTimeout(WAIT);
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => report.consoleErrors.push('pageerror: ' + e.message));

  // 1. The login form; a wrong token is refused in words.
  await page.goto(base + '/console');
  await page.waitForSelector('#login-token');
  await page.fill('#login-token', 'not-the-admin-token');
  await page.press('#login-token', 'Enter');
  await page.waitForSelector('#login-error:not([hidden])');
  report.wrongTokenMessage = await page.textContent('#login-error');
  if (!/refused/.test(report.wrongTokenMessage)) throw new Error('wrong token message: ' + report.wrongTokenMessage);
  if (await page.isVisible('#shell')) throw new Error('the console opened with a wrong token');
  step('wrong token refused', report.wrongTokenMessage);
  await shot(page, 'login');

  // 2. Sign in with the keyboard only; the overview shows the upstream ready.
  await page.focus('#login-token');
  await page.keyboard.type(opts.token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#shell:not([hidden])');
  if (page.url().includes(opts.token)) throw new Error('the token is in the URL');
  const stored = await page.evaluate(() => JSON.stringify({ l: { ...localStorage }, s: { ...sessionStorage }, c: document.cookie }));
  if (stored.includes(opts.token)) throw new Error('the token was stored: ' + stored);
  await page.waitForSelector('#upstream-owners tr[data-server="everything"] .state-ready');
  await page.waitForSelector('#fig-sessions');
  step('signed in; overview shows everything ready');
  await noHorizontalOverflow(page, 'overview');
  if (opts.screenshots) {
    await page.setViewportSize({ width: 400, height: 800 });
    await page.screenshot({ path: path.join(opts.screenshots, 'overview-narrow.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  // 3. Servers: a bad URL shows the config reader's error; the fixed form connects.
  await page.focus('#nav-servers');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#servers-table tr[data-server="everything"] [data-state="ready"]');
  await page.click('#add-server');
  await page.fill('#server-form input[name=name]', 'remote');
  await page.selectOption('#server-form select[name=type]', 'http');
  await page.fill('#server-form input[name=url]', 'ftp://127.0.0.1/nowhere');
  await page.click('#server-form button[type=submit]');
  await page.waitForSelector('#server-form-error p');
  report.badUrlError = await page.textContent('#server-form-error');
  if (!/url: expected an http\(s\) URL/.test(report.badUrlError)) throw new Error('bad URL error: ' + report.badUrlError);
  step('bad server URL shows the config error', report.badUrlError);
  await shot(page, 'servers-config-error');
  await page.fill('#server-form input[name=url]', opts.httpUpstream);
  await page.fill('#server-form input[name=tool_prefix]', 'remote');
  await page.click('#server-form button[type=submit]');
  await page.waitForSelector('#servers-table tr[data-server="remote"] [data-state="ready"]');
  await page.waitForSelector('.status.ok');
  report.addServerStatus = await page.textContent('.status');
  step('server added through the form connects', report.addServerStatus);
  // Reconnect shows progress and ends ready.
  await page.click('#servers-table tr[data-server="remote"] button:has-text("Reconnect")');
  await page.waitForSelector('.status.ok:has-text("Reconnecting remote: done."), .status.error:has-text("Reconnecting remote")');
  const reconnected = await page.textContent('.status');
  if (!reconnected.includes('Reconnecting remote: done.')) throw new Error('reconnect: ' + reconnected);
  step('reconnect from the servers page');
  // 3b. OAuth: the server behind a real authorization server needs authorization; Authorize opens
  // the sign-in in a new tab (the mock authorization server consents at once and redirects to the
  // node's /oauth/callback), and the console follows the server until it is ready.
  if (asOrigin) {
    const row = '#servers-table tr[data-server="guarded"]';
    await page.waitForSelector(row + ' [data-state="needs_authorization"]');
    await page.waitForSelector(row + ' a:has-text("Authorize")');
    report.guardedBefore = await page.textContent(row + ' [data-state]');
    await shot(page, 'servers-oauth');
    const [signIn] = await Promise.all([context.waitForEvent('page'), page.click(row + ' a:has-text("Authorize")')]);
    await signIn.waitForURL((u) => u.pathname === '/oauth/callback');
    await signIn.waitForLoadState();
    report.callbackText = (await signIn.textContent('body')).trim();
    step('authorization server redirected the sign-in tab back to the node', report.callbackText);
    await signIn.close();
    await page.waitForSelector('.status.ok:has-text("Authorizing guarded: done.")');
    await page.waitForSelector(row + ' [data-state="ready"]');
    report.guardedAfter = await page.textContent(row + ' [data-state]');
    report.guardedAuthorizeLinks = await page.$$eval(row + ' a:has-text("Authorize")', (a) => a.length);
    step('authorized from the console: guarded is ready', report.guardedAfter);
  }
  await page.click('#servers-table tr[data-server="remote"] button:has-text("Tools")');
  await page.waitForSelector('.details-row .tools li');
  await shot(page, 'servers');
  await noHorizontalOverflow(page, 'servers');

  // 4. Keys: create a key limited to two tools; its value is shown once.
  await page.click('#nav-access');
  await page.waitForSelector('#keys-table');
  await page.click('#create-key'); // enabled once the page's lists are loaded
  await page.fill('#key-form input[name=key_name]', 'console-key');
  await page.check('#kt-everything-echo');
  await page.check('#kt-everything-get-sum');
  await page.fill('#key-form input[name=max_usd]', '1');
  await page.fill('#key-form input[name=requests]', '10');
  await page.fill('#key-form input[name=per]', '1h');
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#new-key-value');
  const keyValue = (await page.textContent('#new-key-value')).trim();
  if (!keyValue.startsWith('vk-')) throw new Error('no key value shown: ' + keyValue);
  step('key created; value shown once');
  await page.click('#secret-slot button');
  await page.waitForSelector('#new-key-value', { state: 'detached' });
  report.keyValueSeenAfterHide = (await page.content()).includes(keyValue);

  // 5. The TypeScript SDK client uses the key: two allowed tools work, a third is unknown to it.
  const header = ['--header', 'Authorization: Bearer ' + keyValue];
  const listed = await tsClient([base + '/mcp', 'list-tools', ...header]);
  report.keyTools = listed.names || (listed.tools || []).map((t) => t.name);
  const echo = await tsClient([base + '/mcp', 'call', '--tool', 'everything__echo', '--args', '{"message":"from the console test"}', ...header]);
  const sum = await tsClient([base + '/mcp', 'call', '--tool', 'everything__get-sum', '--args', '{"a":2,"b":3}', ...header]);
  if (echo.error || sum.error) throw new Error('ts-client calls failed: ' + JSON.stringify({ echo, sum }));
  step('TS SDK client used the key', report.keyTools);

  // 6. The spend shows on the key's budget; the key page never shows the value again.
  await page.click('#refresh-access');
  await page.waitForFunction(() => {
    const el = document.querySelector('tr[data-key="console-key"] .spend-text');
    return el && el.textContent.startsWith('$0.02');
  });
  report.spendText = await page.textContent('tr[data-key="console-key"] .spend-text');
  // The rate limit's sliding window counts the same two calls against its limit.
  await page.waitForFunction(() => {
    const el = document.querySelector('tr[data-key="console-key"] .rate-text');
    return el && el.textContent.startsWith('2 of 10');
  });
  report.rateText = await page.textContent('tr[data-key="console-key"] .rate');
  report.keyValueOnKeysPage = (await page.content()).includes(keyValue);
  step('spend updated', report.spendText);
  await shot(page, 'keys');
  await noHorizontalOverflow(page, 'keys');

  // 6b. Edit the key's tools with the picker: the same key value now sees a third tool.
  await page.click('tr[data-key="console-key"] button:has-text("Edit")');
  await page.waitForSelector('#key-form');
  await page.check('#kt-everything-get-env');
  await page.click('#key-form button[type=submit]');
  await page.waitForFunction(() => {
    const el = document.querySelector('tr[data-key="console-key"] .tools-cell');
    return el && el.textContent.includes('get-env') && !document.querySelector('#key-form');
  });
  const relisted = await tsClient([base + '/mcp', 'list-tools', ...header]);
  report.keyToolsAfterEdit = relisted.names || [];
  step('key edited with the picker', report.keyToolsAfterEdit);

  // 7. The overview's figures, from the node's own /metrics, count the two calls.
  await page.click('#nav-overview');
  await page.waitForFunction(() => {
    const calls = document.querySelector('#fig-calls .figure-value');
    const p50 = document.querySelector('#fig-p50 .figure-value');
    return calls && Number(calls.textContent) >= 2 && p50 && p50.textContent.endsWith(' ms');
  });
  report.overviewFigures = await page.$$eval('.figure', (f) => f.map((x) => x.textContent));
  await page.waitForSelector('#node-figures tbody tr[data-node] td.calls');
  report.nodeFigures = await page.$$eval('#node-figures tbody tr', (r) => r.map((x) => ({ node: x.dataset.node, calls: x.querySelector('td.calls') && x.querySelector('td.calls').textContent })));
  step('overview figures', report.overviewFigures);
  await shot(page, 'overview');

  // 7b. Code Mode: the servers reached through it and the stubs the key "ops" sees.
  await page.click('#nav-code-mode');
  await page.waitForSelector('#code-mode-servers li[data-server="everything"]');
  report.codeModeServers = await page.$$eval('#code-mode-servers li', (l) => l.map((x) => x.dataset.server));
  await page.selectOption('#code-mode-key-select', 'ops');
  await page.click('#code-mode-form button[type=submit]');
  await page.waitForSelector('.stub[data-file="servers/everything.pyi"] pre');
  report.codeModeActive = await page.getAttribute('#code-mode-active', 'data-active');
  report.codeModeFiles = await page.$$eval('.stub', (f) => f.map((x) => x.dataset.file));
  report.codeModeStub = await page.textContent('.stub[data-file="servers/everything.pyi"] pre');
  step('code mode page shows the stubs of ops', report.codeModeFiles);
  await shot(page, 'code-mode');
  await noHorizontalOverflow(page, 'code mode');
  await page.selectOption('#code-mode-key-select', 'console-key');
  await page.click('#code-mode-form button[type=submit]');
  await page.waitForSelector('#code-mode-active[data-active="false"]');
  report.codeModeConsoleKey = await page.textContent('#code-mode-active');

  // 8. The audit page: the calls, filtered by key, and the chart.
  await page.click('#nav-audit');
  await page.fill('#audit-filters input[name=key]', 'console-key');
  await page.click('#audit-filters button[type=submit]');
  // The audit writer flushes in batches: apply the filters again until both calls are listed.
  let rows = 0;
  for (let i = 0; i < 120 && rows < 2; i++) {
    if (i > 0) {
      await page.waitForTimeout(500);
      await page.click('#audit-filters button[type=submit]');
    }
    await page.waitForFunction(() => !document.querySelector('.status.progress'));
    rows = await page.$$eval('#audit-table tr[data-key="console-key"]', (r) => r.length);
  }
  if (rows < 2) throw new Error('the audit page did not show the two calls');
  report.auditRows = await page.$$eval('#audit-table tbody tr', (rows) => rows.map((r) => ({
    key: r.dataset.key, tool: r.dataset.tool, text: r.textContent })));
  report.chartPaths = await page.$$eval('#audit-chart svg path.series', (p) => p.length);
  report.chartLegend = await page.textContent('#audit-chart .legend');
  report.keyValueOnAuditPage = (await page.content()).includes(keyValue);
  step('calls in the audit page', report.auditRows.length);
  await page.evaluate(() => document.querySelector('#audit-chart').closest('section').scrollIntoView());
  await shot(page, 'audit');
  await noHorizontalOverflow(page, 'audit');

  // 9. Logout forgets the token.
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  report.afterLogout = await page.evaluate(() => document.getElementById('main').textContent.length);
  step('logged out');
} catch (e) {
  report.error = { message: e.message, stack: e.stack };
} finally {
  if (browser) await browser.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + '\n');
