#!/usr/bin/env node
/*
 * ts-client.mjs: a real TypeScript-SDK (1.32.2) MCP client driver for Bastion's Java tests.
 *
 *   node ts-client.mjs <url> <scenario> [options]
 *
 * Connects with StreamableHTTPClientTransport (or SSEClientTransport with --transport sse),
 * runs one scenario and prints exactly ONE JSON object on stdout with everything it observed.
 * Exit code 0 unless the driver itself crashed (exit 1) or was called wrongly (exit 2); a
 * connection or protocol failure is reported inside the JSON as "error" (exit 0).
 *
 * Scenarios
 *   list-tools    all pages of tools/list: names, pageCount, pageSizes, tools
 *   call          --tool NAME [--args JSON]: the full CallToolResult
 *   progress      --tool NAME [--args JSON]: calls with an onprogress handler; reports
 *                 progress[] (each with atMs since the call started) and the result, plus
 *                 progressOnWire[] (every notifications/progress received on the transport:
 *                 the SDK can drop one that arrives in the same chunk as the result)
 *   cancel        --tool NAME [--args JSON] --after-ms N [--then-tool NAME [--then-args JSON]]:
 *                 aborts the call after N ms (the SDK sends notifications/cancelled); reports
 *                 whether it was aborted, the cancelled request id, and optionally the result
 *                 of a follow-up call (e.g. --then-tool last_cancelled on the fixture)
 *   resources     all pages of resources/list and resources/templates/list, then
 *                 resources/read --uri URI when given
 *   prompts       all pages of prompts/list, then prompts/get --prompt NAME [--args JSON]
 *   list-changed  --tool NAME [--args JSON]: listens for notifications/tools/list_changed,
 *                 calls the tool and reports msAfterCallReturned (negative if the notification
 *                 came first), waiting up to --wait-ms (default 5000) for it
 *   sampling      declares the sampling capability and answers every sampling/createMessage
 *                 with a fixed text (--text, default below); calls --tool; reports requests[]
 *   elicitation   declares the elicitation capability and answers every elicitation/create
 *                 with {action: "accept", content: --content JSON}; calls --tool; reports requests[]
 *
 * Options
 *   --header "Name: value"   extra HTTP header on every request (repeatable)
 *   --transport http|sse     default http
 *   --timeout-ms N           per-request timeout (default 60000)
 *   --keep-session           do not DELETE the streamable HTTP session at the end
 *   --trace                  include every JSON-RPC message sent/received in "trace"
 *
 * Output (always present): scenario, url, transport, server {info, capabilities,
 * protocolVersion, instructions}, sessionId, notifications[] (method + params of every
 * server notification other than progress), elapsedMs; plus the scenario's own fields;
 * on failure "error": {message, code?, data?}.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

// Nothing but the result object may reach stdout.
console.log = (...a) => process.stderr.write(a.join(' ') + '\n');
console.info = console.log;
console.debug = console.log;

const SCENARIOS = ['list-tools', 'call', 'progress', 'cancel', 'resources', 'prompts', 'list-changed', 'sampling', 'elicitation'];
const DEFAULT_SAMPLING_TEXT = 'This is a fixed response from ts-client';

function usage(msg) {
  process.stderr.write(`${msg ? `error: ${msg}\n` : ''}usage: node ts-client.mjs <url> <${SCENARIOS.join('|')}> `
    + '[--header "Name: value"]... [--transport http|sse] [--tool NAME] [--args JSON] [--after-ms N] '
    + '[--then-tool NAME] [--then-args JSON] [--uri URI] [--prompt NAME] [--content JSON] [--text TEXT] '
    + '[--wait-ms N] [--timeout-ms N] [--keep-session] [--trace]\n');
  process.exit(msg ? 2 : 0);
}

function parseJsonOption(name, raw) {
  try {
    return JSON.parse(raw);
  } catch (e) {
    usage(`${name} is not valid JSON: ${e.message}`);
  }
}

function parseArgs(argv) {
  const o = { headers: {}, transport: 'http', args: {}, thenArgs: {}, waitMs: 5000, timeoutMs: 60000, keepSession: false, trace: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => { if (i + 1 >= argv.length) usage(`missing value for ${a}`); return argv[++i]; };
    switch (a) {
      case '--header': {
        const h = v();
        const idx = h.indexOf(':');
        if (idx <= 0) usage(`bad --header ${JSON.stringify(h)} (want "Name: value")`);
        o.headers[h.slice(0, idx).trim()] = h.slice(idx + 1).trim();
        break;
      }
      case '--transport': o.transport = v(); break;
      case '--tool': o.tool = v(); break;
      case '--args': o.args = parseJsonOption('--args', v()); break;
      case '--after-ms': o.afterMs = Number(v()); break;
      case '--then-tool': o.thenTool = v(); break;
      case '--then-args': o.thenArgs = parseJsonOption('--then-args', v()); break;
      case '--uri': o.uri = v(); break;
      case '--prompt': o.prompt = v(); break;
      case '--content': o.content = parseJsonOption('--content', v()); break;
      case '--text': o.text = v(); break;
      case '--wait-ms': o.waitMs = Number(v()); break;
      case '--timeout-ms': o.timeoutMs = Number(v()); break;
      case '--keep-session': o.keepSession = true; break;
      case '--trace': o.trace = true; break;
      case '-h': case '--help': usage(null); break;
      default:
        if (a.startsWith('--')) usage(`unknown option ${a}`);
        positional.push(a);
    }
  }
  if (positional.length !== 2) usage('need <url> and <scenario>');
  [o.url, o.scenario] = positional;
  if (!SCENARIOS.includes(o.scenario)) usage(`unknown scenario ${o.scenario}`);
  if (!['http', 'sse'].includes(o.transport)) usage('--transport must be http or sse');
  if (['call', 'progress', 'cancel', 'list-changed', 'sampling', 'elicitation'].includes(o.scenario) && !o.tool) usage(`${o.scenario} needs --tool`);
  if (o.scenario === 'cancel' && !Number.isFinite(o.afterMs)) usage('cancel needs --after-ms');
  if (o.scenario === 'elicitation' && o.content === undefined) usage('elicitation needs --content');
  try { new URL(o.url); } catch { usage(`bad url ${o.url}`); }
  return o;
}

const o = parseArgs(process.argv.slice(2));
const t0 = performance.now();
const now = () => Math.round((performance.now() - t0) * 10) / 10;
const out = { scenario: o.scenario, url: o.url, transport: o.transport };
const notifications = [];
const trace = [];
// Progress notifications as seen on the wire. The SDK dispatches notifications asynchronously
// but responses synchronously, so a progress notification that arrives in the same chunk as
// the result can be dropped before the onprogress handler runs (seen over legacy SSE).
const wireProgress = [];

function errorInfo(e) {
  const info = { message: e?.message ?? String(e) };
  if (e?.code !== undefined) info.code = e.code;
  if (e?.data !== undefined) info.data = e.data;
  if (e?.name && e.name !== 'Error') info.name = e.name;
  return info;
}

function emit(exitCode = 0) {
  out.notifications = notifications;
  if (o.trace) out.trace = trace;
  out.elapsedMs = now();
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(exitCode));
}

async function listAll(fn, key) {
  const pages = [];
  const items = [];
  let cursor;
  for (let guard = 0; guard < 1000; guard++) {
    const res = await fn(cursor === undefined ? {} : { cursor });
    const page = res[key] ?? [];
    pages.push(page.length);
    items.push(...page);
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return { items, pageCount: pages.length, pageSizes: pages };
}

async function main() {
  const capabilities = {};
  if (o.scenario === 'sampling') capabilities.sampling = {};
  if (o.scenario === 'elicitation') capabilities.elicitation = {};
  const client = new Client({ name: 'bastion-ts-client', version: '1.0.0' }, { capabilities });
  const requestOptions = { timeout: o.timeoutMs };

  client.fallbackNotificationHandler = async (n) => {
    notifications.push({ atMs: now(), method: n.method, params: n.params });
  };
  let listChangedAt;
  if (o.scenario === 'list-changed') {
    client.setNotificationHandler(ToolListChangedNotificationSchema, async (n) => {
      notifications.push({ atMs: now(), method: n.method, params: n.params });
      if (listChangedAt === undefined) listChangedAt = performance.now();
    });
  }
  const requests = [];
  if (o.scenario === 'sampling') {
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      requests.push({ atMs: now(), method: req.method, params: req.params });
      return { role: 'assistant', content: { type: 'text', text: o.text ?? DEFAULT_SAMPLING_TEXT }, model: 'bastion-ts-client-fixed', stopReason: 'endTurn' };
    });
  }
  if (o.scenario === 'elicitation') {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      requests.push({ atMs: now(), method: req.method, params: req.params });
      return { action: 'accept', content: o.content };
    });
  }

  const url = new URL(o.url);
  const transport = o.transport === 'sse'
    ? new SSEClientTransport(url, { requestInit: { headers: o.headers } })
    : new StreamableHTTPClientTransport(url, { requestInit: { headers: o.headers } });

  // Observe the wire (ids of what we send, e.g. the request a notifications/cancelled names).
  const sent = [];
  const origSend = transport.send.bind(transport);
  transport.send = async (message, options) => {
    sent.push(message);
    if (o.trace) trace.push({ atMs: now(), dir: 'out', message });
    return origSend(message, options);
  };

  try {
    await client.connect(transport);
  } catch (e) {
    out.error = { ...errorInfo(e), phase: 'connect' };
    return;
  }
  {
    const origOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (o.trace) trace.push({ atMs: now(), dir: 'in', message });
      if (message?.method === 'notifications/progress') wireProgress.push({ atMs: now(), ...message.params });
      origOnMessage?.(message, extra);
    };
  }
  out.server = {
    info: client.getServerVersion(),
    capabilities: client.getServerCapabilities(),
    protocolVersion: transport.protocolVersion ?? null,
    instructions: client.getInstructions() ?? null,
  };
  out.sessionId = transport.sessionId ?? null;

  try {
    await runScenario(client, requestOptions, sent, () => listChangedAt, requests);
  } catch (e) {
    out.error = { ...errorInfo(e), phase: 'scenario' };
  } finally {
    if (o.transport === 'http' && !o.keepSession && transport.sessionId) {
      try {
        await transport.terminateSession();
        out.sessionTerminated = true;
      } catch (e) {
        out.sessionTerminated = false;
        out.terminateError = errorInfo(e);
      }
    }
    await client.close().catch(() => {});
  }
}

async function runScenario(client, requestOptions, sent, getListChangedAt, requests) {
  switch (o.scenario) {
    case 'list-tools': {
      const r = await listAll((p) => client.listTools(p, requestOptions), 'tools');
      Object.assign(out, { names: r.items.map((t) => t.name), pageCount: r.pageCount, pageSizes: r.pageSizes, tools: r.items });
      return;
    }
    case 'call': {
      out.result = await client.callTool({ name: o.tool, arguments: o.args }, undefined, requestOptions);
      return;
    }
    case 'progress': {
      const progress = [];
      const started = performance.now();
      out.result = await client.callTool({ name: o.tool, arguments: o.args }, undefined, {
        ...requestOptions,
        onprogress: (p) => progress.push({ atMs: Math.round(performance.now() - started), ...p }),
      });
      out.progress = progress;
      out.progressCount = progress.length;
      out.progressOnWire = wireProgress;
      out.progressOnWireCount = wireProgress.length;
      return;
    }
    case 'cancel': {
      const controller = new AbortController();
      const started = performance.now();
      const timer = setTimeout(() => controller.abort(`ts-client aborted after ${o.afterMs} ms`), o.afterMs);
      const sentBefore = sent.length;
      try {
        out.result = await client.callTool({ name: o.tool, arguments: o.args }, undefined, { ...requestOptions, signal: controller.signal });
        out.aborted = false;
      } catch (e) {
        out.aborted = controller.signal.aborted;
        out.callError = errorInfo(e);
      } finally {
        clearTimeout(timer);
      }
      out.settledAfterMs = Math.round(performance.now() - started);
      const mine = sent.slice(sentBefore);
      const call = mine.find((m) => m.method === 'tools/call');
      const cancelled = mine.find((m) => m.method === 'notifications/cancelled');
      out.requestId = call?.id ?? null;
      out.cancelledNotificationSent = Boolean(cancelled);
      out.cancelledNotification = cancelled?.params ?? null;
      if (o.thenTool) {
        await new Promise((r) => setTimeout(r, 300)); // let the notification reach the upstream
        out.then = await client.callTool({ name: o.thenTool, arguments: o.thenArgs }, undefined, requestOptions);
      }
      return;
    }
    case 'resources': {
      const r = await listAll((p) => client.listResources(p, requestOptions), 'resources');
      Object.assign(out, { resources: r.items, uris: r.items.map((x) => x.uri), pageCount: r.pageCount, pageSizes: r.pageSizes });
      if (client.getServerCapabilities()?.resources) {
        try {
          const t = await listAll((p) => client.listResourceTemplates(p, requestOptions), 'resourceTemplates');
          out.resourceTemplates = t.items;
        } catch (e) {
          out.resourceTemplatesError = errorInfo(e);
        }
      }
      if (o.uri) out.read = await client.readResource({ uri: o.uri }, requestOptions);
      return;
    }
    case 'prompts': {
      const r = await listAll((p) => client.listPrompts(p, requestOptions), 'prompts');
      Object.assign(out, { prompts: r.items, names: r.items.map((x) => x.name), pageCount: r.pageCount, pageSizes: r.pageSizes });
      if (o.prompt) out.get = await client.getPrompt({ name: o.prompt, arguments: o.args }, requestOptions);
      return;
    }
    case 'list-changed': {
      // Give the standalone GET stream (where unrelated notifications travel) a moment to open.
      await new Promise((r) => setTimeout(r, 200));
      out.result = await client.callTool({ name: o.tool, arguments: o.args }, undefined, requestOptions);
      const returnedAt = performance.now();
      while (getListChangedAt() === undefined && performance.now() - returnedAt < o.waitMs) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const at = getListChangedAt();
      out.notificationReceived = at !== undefined;
      out.msAfterCallReturned = at === undefined ? null : Math.round(at - returnedAt);
      if (out.notificationReceived) {
        const after = await listAll((p) => client.listTools(p, requestOptions), 'tools');
        out.toolsAfter = after.items.map((t) => t.name);
      }
      return;
    }
    case 'sampling':
    case 'elicitation': {
      out.result = await client.callTool({ name: o.tool, arguments: o.args }, undefined, requestOptions);
      out.requests = requests;
      out.requestCount = requests.length;
      return;
    }
    default:
      throw new Error(`unhandled scenario ${o.scenario}`);
  }
}

process.on('unhandledRejection', (e) => {
  process.stderr.write(`[ts-client] unhandled rejection: ${e?.stack ?? e}\n`);
});

main().then(() => emit(0), (e) => {
  process.stderr.write(`[ts-client] crashed: ${e?.stack ?? e}\n`);
  out.error = { ...errorInfo(e), phase: 'driver' };
  emit(1);
});
