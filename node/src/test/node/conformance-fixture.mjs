#!/usr/bin/env node
/*
 * Bastion's conformance fixture upstream server.
 *
 * An MCP server (TypeScript SDK 1.32.2, low-level `Server`) that implements every fixture
 * name the official conformance suite @modelcontextprotocol/conformance 0.1.16 calls, so the
 * suite can be pointed at Bastion with this server as Bastion's only upstream. Written for
 * Bastion from the suite's published assertions (dist/index.js); not derived from the
 * conformance repository's own fixture.
 *
 * CLI
 *   node conformance-fixture.mjs --http  [--port N] [--page-size N] [--json-response]
 *                                        [--retry-ms N] [--allow-host NAME]...
 *       Streamable HTTP on http://127.0.0.1:<port>/mcp (port 0 = ephemeral, the default).
 *       Prints exactly one stdout line once ready:  LISTENING http://127.0.0.1:<port>/mcp
 *   node conformance-fixture.mjs --sse   [--port N] [--page-size N] [--allow-host NAME]...
 *       Legacy HTTP+SSE (2024-11-05): GET /sse, POST /message?sessionId=<id>.
 *       Prints:  LISTENING http://127.0.0.1:<port>/sse
 *   node conformance-fixture.mjs --stdio [--page-size N]
 *       Newline-delimited JSON-RPC on stdin/stdout (logs go to stderr only).
 *
 *   --page-size N     paginate tools/list, resources/list, resources/templates/list and
 *                     prompts/list with N items per page (opaque cursor); 0 = one page (default)
 *   --json-response   answer POSTs with application/json instead of SSE (no server->client
 *                     requests, no mid-call notifications in this mode)
 *   --retry-ms N      `retry:` value of the SSE priming event (default 500)
 *   --allow-host NAME extra Host/Origin hostname to accept besides localhost/127.0.0.1/[::1]
 *   --prime-legacy-clients
 *                     treat a request whose MCP-Protocol-Version header is older than 2025-11-25
 *                     as 2025-11-25 for SSE purposes, so its POST stream also gets a priming
 *                     event + retry and test_reconnection can close it. Off by default (the SDK
 *                     rightly skips priming for older clients); the suite's server-sse-polling
 *                     scenario sends 2025-03-26, so this flag turns its two WARNINGs into SUCCESS.
 *
 * HTTP behaviour (streamable HTTP)
 *   - Stateful sessions: StreamableHTTPServerTransport with sessionIdGenerator = randomUUID and
 *     an in-memory event store (priming events, Last-Event-ID resumption on GET).
 *   - DNS-rebinding protection for a loopback server: Host must name localhost, 127.0.0.1 or
 *     [::1] and an Origin header, when present, must too; otherwise 403 (before any body is read).
 *   - POST without a session id that is not `initialize` -> 400; unknown or terminated
 *     session id (POST, GET, DELETE) -> 404 {"code":-32001,"message":"Session not found"}.
 *   - DELETE /mcp terminates the session.
 *
 * Conformance names (suite 0.1.16)
 *   tools:     test_simple_text, test_image_content, test_audio_content, test_embedded_resource,
 *              test_multiple_content_types, test_tool_with_logging, test_tool_with_progress,
 *              test_error_handling, test_sampling, test_elicitation,
 *              test_elicitation_sep1034_defaults, test_elicitation_sep1330_enums,
 *              json_schema_2020_12_tool, test_reconnection
 *   resources: test://static-text, test://static-binary, test://watched-resource (subscribable),
 *              template test://template/{id}/data
 *   prompts:   test_simple_prompt, test_prompt_with_arguments, test_prompt_with_embedded_resource,
 *              test_prompt_with_image
 *   also:      logging/setLevel (per-session level filters the log notifications),
 *              completion/complete (prompt arguments and the template's {id}), ping.
 *
 * Extra test-only tools for Bastion's own Java tests
 *   slow_echo      {message: string, ms: number}  waits `ms` then returns `message` as text.
 *                  Honours cancellation through the request's AbortSignal: a cancelled call
 *                  sends no result and is recorded for last_cancelled.
 *   last_cancelled {}  -> text JSON {"requestId":..,"reason":..,"tool":..,"sessionId":..,"at":..,
 *                  "count":N} describing the most recent cancelled request of the whole process
 *                  (any session), or {"requestId":null,"count":0}. Also in structuredContent.
 *   change_tools   {action?: "add"|"remove"|"toggle"}  adds/removes the tool `dynamic_tool`
 *                  (process-wide) and sends notifications/tools/list_changed to every session
 *                  (on its standalone GET stream; stored for replay if the stream is not open).
 *   dynamic_tool   {}  exists only after change_tools add; returns "dynamic tool called".
 *   crash          {}  the process exits immediately with code 1 (upstream-death tests).
 *   echo_headers   {}  returns the HTTP request headers this call arrived with (text JSON +
 *                  structuredContent.headers); {} on stdio.
 *   touch_resource {uri?: string}  changes test://watched-resource and sends
 *                  notifications/resources/updated to every session subscribed to the uri.
 *   subscription_stats {uri?: string}  -> structuredContent {pid, subscribe: {uri: n}, unsubscribe:
 *                  {uri: n}, subscribers: {uri: sessions subscribed now}} counted over the whole
 *                  process (since it started); with `uri`, only that URI's entries. Also as text JSON.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------
function parseArgs(argv) {
  const opts = { mode: null, port: 0, pageSize: 0, jsonResponse: false, retryMs: 500, allowHosts: [], primeLegacy: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`missing value for ${a}`);
      return argv[++i];
    };
    switch (a) {
      case '--http': opts.mode = 'http'; break;
      case '--sse': opts.mode = 'sse'; break;
      case '--stdio': opts.mode = 'stdio'; break;
      case '--port': opts.port = Number(value()); break;
      case '--page-size': opts.pageSize = Number(value()); break;
      case '--json-response': opts.jsonResponse = true; break;
      case '--retry-ms': opts.retryMs = Number(value()); break;
      case '--allow-host': opts.allowHosts.push(value().toLowerCase()); break;
      case '--prime-legacy-clients': opts.primeLegacy = true; break;
      case '-h': case '--help': usage(null); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!opts.mode) usage('one of --http, --sse, --stdio is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  if (!Number.isInteger(opts.pageSize) || opts.pageSize < 0) usage('bad --page-size');
  return opts;
}

function usage(error) {
  const text = 'usage: node conformance-fixture.mjs (--http | --sse | --stdio) [--port N] [--page-size N] '
    + '[--json-response] [--retry-ms N] [--allow-host NAME]... [--prime-legacy-clients]\n';
  process.stderr.write((error ? `error: ${error}\n` : '') + text);
  process.exit(error ? 2 : 0);
}

const opts = parseArgs(process.argv.slice(2));
const log = (...parts) => process.stderr.write(`[conformance-fixture] ${parts.join(' ')}\n`);

// ---------------------------------------------------------------------------------------------
// Static content
// ---------------------------------------------------------------------------------------------
// 1x1 red pixel PNG.
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

// 0.01 s of 8 kHz, 8-bit mono silence-ish square wave, as a RIFF/WAVE file.
function makeWavBase64() {
  const samples = Buffer.alloc(80);
  for (let i = 0; i < samples.length; i++) samples[i] = (i % 8) < 4 ? 0x90 : 0x70;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // channels
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(8000, 28); // byte rate
  header.writeUInt16LE(1, 32); // block align
  header.writeUInt16LE(8, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]).toString('base64');
}
const WAV_BASE64 = makeWavBase64();

const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

// ---------------------------------------------------------------------------------------------
// Process-wide state shared by every session
// ---------------------------------------------------------------------------------------------
const state = {
  sessions: new Set(), // { server, subscriptions:Set<string>, id }
  dynamicToolPresent: false,
  cancelled: [], // { requestId, reason, tool, sessionId, at }
  watchedVersion: 1,
  subscribeCalls: {}, // uri -> resources/subscribe requests received
  unsubscribeCalls: {}, // uri -> resources/unsubscribe requests received
};

function subscriptionStats(onlyUri) {
  const pick = (o) => Object.fromEntries(Object.entries(o).filter(([u]) => onlyUri === undefined || u === onlyUri));
  const subscribers = {};
  for (const s of state.sessions) {
    for (const u of s.subscriptions) subscribers[u] = (subscribers[u] ?? 0) + 1;
  }
  return {
    pid: process.pid,
    subscribe: pick(state.subscribeCalls),
    unsubscribe: pick(state.unsubscribeCalls),
    subscribers: pick(subscribers),
  };
}

function recordCancellation(entry) {
  state.cancelled.push(entry);
  if (state.cancelled.length > 100) state.cancelled.shift();
  log(`request ${JSON.stringify(entry.requestId)} (${entry.tool}) cancelled: ${entry.reason}`);
}

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------
const EMPTY_SCHEMA = { type: 'object', properties: {} };

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  if (signal?.aborted) { reject(signal.reason ?? new Error('aborted')); return; }
  const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
  function onAbort() { clearTimeout(timer); reject(signal.reason ?? new Error('aborted')); }
  signal?.addEventListener('abort', onAbort, { once: true });
});

const text = (t) => ({ type: 'text', text: t });

function toolDefinitions() {
  const tools = [
    { name: 'test_simple_text', description: 'Returns one text content block', inputSchema: EMPTY_SCHEMA },
    { name: 'test_image_content', description: 'Returns a PNG image content block', inputSchema: EMPTY_SCHEMA },
    { name: 'test_audio_content', description: 'Returns a WAV audio content block', inputSchema: EMPTY_SCHEMA },
    { name: 'test_embedded_resource', description: 'Returns an embedded text resource', inputSchema: EMPTY_SCHEMA },
    { name: 'test_multiple_content_types', description: 'Returns text, image and embedded resource content', inputSchema: EMPTY_SCHEMA },
    { name: 'test_tool_with_logging', description: 'Sends three info log notifications while running', inputSchema: EMPTY_SCHEMA },
    { name: 'test_tool_with_progress', description: 'Reports progress 0, 50, 100 of 100 on the request progress token', inputSchema: EMPTY_SCHEMA },
    { name: 'test_error_handling', description: 'Always fails with isError: true', inputSchema: EMPTY_SCHEMA },
    {
      name: 'test_sampling',
      description: 'Asks the client for an LLM completion (sampling/createMessage)',
      inputSchema: { type: 'object', properties: { prompt: { type: 'string', description: 'Prompt sent to the LLM' } }, required: ['prompt'] },
    },
    {
      name: 'test_elicitation',
      description: 'Asks the client for user input (elicitation/create)',
      inputSchema: { type: 'object', properties: { message: { type: 'string', description: 'Message shown to the user' } }, required: ['message'] },
    },
    { name: 'test_elicitation_sep1034_defaults', description: 'Elicitation whose schema has defaults for every primitive type (SEP-1034)', inputSchema: EMPTY_SCHEMA },
    { name: 'test_elicitation_sep1330_enums', description: 'Elicitation with all five enum schema variants (SEP-1330)', inputSchema: EMPTY_SCHEMA },
    {
      name: 'json_schema_2020_12_tool',
      description: 'Tool whose input schema uses JSON Schema 2020-12 keywords',
      inputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } },
        },
        properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
        additionalProperties: false,
      },
    },
    { name: 'test_reconnection', description: 'Closes its SSE response stream mid-call; the result arrives after the client resumes with Last-Event-ID', inputSchema: EMPTY_SCHEMA },
    // --- Bastion test-only tools -----------------------------------------------------------
    {
      name: 'slow_echo',
      description: 'Waits ms milliseconds, then echoes message; honours cancellation',
      inputSchema: { type: 'object', properties: { message: { type: 'string' }, ms: { type: 'number', minimum: 0 } }, required: ['message'] },
    },
    { name: 'last_cancelled', description: 'Reports the most recent cancelled request seen by this process', inputSchema: EMPTY_SCHEMA },
    {
      name: 'change_tools',
      description: 'Adds or removes dynamic_tool and sends notifications/tools/list_changed',
      inputSchema: { type: 'object', properties: { action: { type: 'string', enum: ['add', 'remove', 'toggle'] } } },
    },
    { name: 'crash', description: 'Exits the server process immediately with code 1', inputSchema: EMPTY_SCHEMA },
    { name: 'echo_headers', description: 'Returns the HTTP headers of the request that carried this call', inputSchema: EMPTY_SCHEMA },
    {
      name: 'touch_resource',
      description: 'Changes a resource and notifies its subscribers (notifications/resources/updated)',
      inputSchema: { type: 'object', properties: { uri: { type: 'string' } } },
    },
    {
      name: 'subscription_stats',
      description: 'Counts resources/subscribe and resources/unsubscribe received, and current subscribers, per URI',
      inputSchema: { type: 'object', properties: { uri: { type: 'string' } } },
    },
  ];
  if (state.dynamicToolPresent) {
    tools.push({ name: 'dynamic_tool', description: 'Present only after change_tools add', inputSchema: EMPTY_SCHEMA });
  }
  return tools;
}

async function callTool(session, request, extra) {
  const { name } = request.params;
  const args = request.params.arguments ?? {};
  const server = session.server;

  switch (name) {
    case 'test_simple_text':
      return { content: [text('This is a simple text response for testing.')] };

    case 'test_image_content':
      return { content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }] };

    case 'test_audio_content':
      return { content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }] };

    case 'test_embedded_resource':
      return {
        content: [{
          type: 'resource',
          resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
        }],
      };

    case 'test_multiple_content_types':
      return {
        content: [
          text('Multiple content types test:'),
          { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
          {
            type: 'resource',
            resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) },
          },
        ],
      };

    case 'test_tool_with_logging': {
      const messages = ['Tool execution started', 'Tool processing data', 'Tool execution completed'];
      for (let i = 0; i < messages.length; i++) {
        if (i > 0) await sleep(50, extra.signal);
        await sendLog(session, extra, 'info', messages[i]);
      }
      return { content: [text('Tool with logging executed successfully')] };
    }

    case 'test_tool_with_progress': {
      const token = extra._meta?.progressToken;
      const steps = [0, 50, 100];
      for (let i = 0; i < steps.length; i++) {
        if (i > 0) await sleep(50, extra.signal);
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: steps[i], total: 100, message: `Completed step ${i + 1} of ${steps.length}` },
          });
        }
      }
      return { content: [text(token !== undefined ? `Progress reported on token ${JSON.stringify(token)}` : 'Completed (no progress token given)')] };
    }

    case 'test_error_handling':
      return { isError: true, content: [text('This tool intentionally returns an error for testing')] };

    case 'test_sampling': {
      if (!server.getClientCapabilities()?.sampling) {
        return { isError: true, content: [text('Client does not support sampling (no sampling capability declared)')] };
      }
      const prompt = typeof args.prompt === 'string' ? args.prompt : 'Test prompt for sampling';
      const result = await extra.sendRequest({
        method: 'sampling/createMessage',
        params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
      }, CreateMessageResultSchema);
      const reply = result.content?.type === 'text' ? result.content.text : JSON.stringify(result.content);
      return { content: [text(`LLM response: ${reply}`)] };
    }

    case 'test_elicitation': {
      if (!server.getClientCapabilities()?.elicitation) {
        return { isError: true, content: [text('Client does not support elicitation (no elicitation capability declared)')] };
      }
      const message = typeof args.message === 'string' ? args.message : 'Please provide your information';
      const result = await extra.sendRequest({
        method: 'elicitation/create',
        params: {
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        },
      }, ElicitResultSchema);
      return { content: [text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
    }

    case 'test_elicitation_sep1034_defaults':
      return elicit(server, extra, 'Please review these values (all have defaults)', {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'User name', default: 'John Doe' },
          age: { type: 'integer', description: 'User age', default: 30 },
          score: { type: 'number', description: 'User score', default: 95.5 },
          status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
          verified: { type: 'boolean', description: 'Verification status', default: true },
        },
        required: [],
      });

    case 'test_elicitation_sep1330_enums':
      return elicit(server, extra, 'Please pick from these enum variants', {
        type: 'object',
        properties: {
          untitledSingle: { type: 'string', description: 'Untitled single-select', enum: ['option1', 'option2', 'option3'] },
          titledSingle: {
            type: 'string',
            description: 'Titled single-select',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: {
            type: 'string',
            description: 'Legacy titled enum (enumNames, deprecated)',
            enum: ['opt1', 'opt2', 'opt3'],
            enumNames: ['Option One', 'Option Two', 'Option Three'],
          },
          untitledMulti: {
            type: 'array',
            description: 'Untitled multi-select',
            items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          },
          titledMulti: {
            type: 'array',
            description: 'Titled multi-select',
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
        required: [],
      });

    case 'json_schema_2020_12_tool':
      return { content: [text(`Received: ${JSON.stringify(args)}`)] };

    case 'test_reconnection': {
      // With an event store and a client at protocol >= 2025-11-25 the SDK hands us
      // closeSSEStream: close the POST stream (after its priming event) and produce the
      // result later; the SDK stores it and replays it on the client's GET + Last-Event-ID.
      if (extra.closeSSEStream) {
        await sleep(50, extra.signal);
        extra.closeSSEStream();
        await sleep(200, extra.signal);
        return { content: [text('Reconnection test completed: result delivered after the SSE stream was closed')] };
      }
      await sleep(50, extra.signal);
      return { content: [text('Reconnection test completed (stream not closed: no resumable SSE stream for this request)')] };
    }

    // --- Bastion test-only tools -----------------------------------------------------------
    case 'slow_echo': {
      const ms = Number.isFinite(Number(args.ms)) ? Math.max(0, Number(args.ms)) : 1000;
      const message = typeof args.message === 'string' ? args.message : '';
      try {
        await sleep(ms, extra.signal);
      } catch (err) {
        if (extra.signal.aborted) {
          recordCancellation({
            requestId: extra.requestId,
            reason: String(extra.signal.reason?.message ?? extra.signal.reason ?? 'cancelled'),
            tool: name,
            sessionId: session.id ?? null,
            at: new Date().toISOString(),
          });
        }
        throw err;
      }
      return { content: [text(message)] };
    }

    case 'last_cancelled': {
      const last = state.cancelled[state.cancelled.length - 1];
      const report = last ? { ...last, count: state.cancelled.length } : { requestId: null, count: 0 };
      return { content: [text(JSON.stringify(report))], structuredContent: report };
    }

    case 'change_tools': {
      const action = args.action ?? 'toggle';
      if (!['add', 'remove', 'toggle'].includes(action)) {
        throw new McpError(ErrorCode.InvalidParams, `action must be add, remove or toggle, got ${JSON.stringify(action)}`);
      }
      state.dynamicToolPresent = action === 'toggle' ? !state.dynamicToolPresent : action === 'add';
      for (const s of state.sessions) {
        s.server.sendToolListChanged().catch((e) => log('list_changed to a session failed:', e.message));
      }
      return { content: [text(`dynamic_tool ${state.dynamicToolPresent ? 'present' : 'absent'}; notifications/tools/list_changed sent`)] };
    }

    case 'dynamic_tool':
      if (!state.dynamicToolPresent) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
      return { content: [text('dynamic tool called')] };

    case 'crash':
      log('crash tool called: exiting with code 1');
      process.exit(1);
      break;

    case 'echo_headers': {
      const headers = extra.requestInfo?.headers ?? {};
      return { content: [text(JSON.stringify(headers))], structuredContent: { headers } };
    }

    case 'touch_resource': {
      const uri = typeof args.uri === 'string' ? args.uri : 'test://watched-resource';
      if (uri === 'test://watched-resource') state.watchedVersion++;
      let notified = 0;
      for (const s of state.sessions) {
        if (s.subscriptions.has(uri)) {
          notified++;
          s.server.sendResourceUpdated({ uri }).catch((e) => log('resources/updated failed:', e.message));
        }
      }
      return { content: [text(`notified ${notified} subscriber session(s) of ${uri}`)] };
    }

    case 'subscription_stats': {
      const stats = subscriptionStats(typeof args.uri === 'string' ? args.uri : undefined);
      return { content: [text(JSON.stringify(stats))], structuredContent: stats };
    }

    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  }
}

async function elicit(server, extra, message, requestedSchema) {
  if (!server.getClientCapabilities()?.elicitation) {
    return { isError: true, content: [text('Client does not support elicitation (no elicitation capability declared)')] };
  }
  const result = await extra.sendRequest({ method: 'elicitation/create', params: { message, requestedSchema } }, ElicitResultSchema);
  return { content: [text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
}

async function sendLog(session, extra, level, data) {
  if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(session.logLevel)) return;
  await extra.sendNotification({ method: 'notifications/message', params: { level, logger: 'conformance-fixture', data } });
}

// ---------------------------------------------------------------------------------------------
// Resources and prompts
// ---------------------------------------------------------------------------------------------
const RESOURCES = [
  { uri: 'test://static-text', name: 'static-text', title: 'Static text', description: 'A static text resource', mimeType: 'text/plain' },
  { uri: 'test://static-binary', name: 'static-binary', title: 'Static binary', description: 'A static PNG image', mimeType: 'image/png' },
  { uri: 'test://watched-resource', name: 'watched-resource', title: 'Watched resource', description: 'A resource that supports subscriptions (see touch_resource)', mimeType: 'text/plain' },
];
const TEMPLATES = [
  { uriTemplate: 'test://template/{id}/data', name: 'template-data', title: 'Template data', description: 'Data for an id, substituted from the URI', mimeType: 'application/json' },
];
const TEMPLATE_RE = /^test:\/\/template\/([^/]+)\/data$/;

function readResource(uri) {
  switch (uri) {
    case 'test://static-text':
      return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
    case 'test://static-binary':
      return { contents: [{ uri, mimeType: 'image/png', blob: PNG_BASE64 }] };
    case 'test://watched-resource':
      return { contents: [{ uri, mimeType: 'text/plain', text: `Watched resource content, version ${state.watchedVersion}` }] };
    default: {
      const m = TEMPLATE_RE.exec(uri);
      if (m) {
        const id = decodeURIComponent(m[1]);
        return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
      }
      throw new McpError(-32002, `Resource not found: ${uri}`, { uri });
    }
  }
}

const PROMPTS = [
  { name: 'test_simple_prompt', title: 'Simple prompt', description: 'A prompt without arguments' },
  {
    name: 'test_prompt_with_arguments',
    title: 'Prompt with arguments',
    description: 'A prompt with two required arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    title: 'Prompt with embedded resource',
    description: 'A prompt that embeds a resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', title: 'Prompt with image', description: 'A prompt that contains an image' },
];

function getPrompt(name, args = {}) {
  switch (name) {
    case 'test_simple_prompt':
      return { messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] };
    case 'test_prompt_with_arguments': {
      for (const required of ['arg1', 'arg2']) {
        if (typeof args[required] !== 'string') throw new McpError(ErrorCode.InvalidParams, `Missing required argument ${required}`);
      }
      return { messages: [{ role: 'user', content: text(`Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'`) }] };
    }
    case 'test_prompt_with_embedded_resource': {
      const uri = typeof args.resourceUri === 'string' ? args.resourceUri : 'test://example-resource';
      return {
        messages: [
          { role: 'user', content: { type: 'resource', resource: { uri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
          { role: 'user', content: text('Please process the embedded resource above.') },
        ],
      };
    }
    case 'test_prompt_with_image':
      return {
        messages: [
          { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
          { role: 'user', content: text('Please analyze the image above.') },
        ],
      };
    default:
      throw new McpError(ErrorCode.InvalidParams, `Prompt not found: ${name}`);
  }
}

const COMPLETIONS = {
  arg1: ['paris', 'park', 'party', 'test', 'testValue1'],
  arg2: ['world', 'wonder', 'testValue2'],
  resourceUri: ['test://static-text', 'test://static-binary', 'test://watched-resource'],
  id: ['1', '2', '3', '42', '123'],
};

function complete(params) {
  const { ref, argument } = params;
  let candidates = [];
  if (ref?.type === 'ref/prompt' && PROMPTS.some((p) => p.name === ref.name)) {
    candidates = COMPLETIONS[argument?.name] ?? [];
  } else if (ref?.type === 'ref/resource' && ref.uri === TEMPLATES[0].uriTemplate && argument?.name === 'id') {
    candidates = COMPLETIONS.id;
  }
  const prefix = String(argument?.value ?? '');
  const values = candidates.filter((v) => v.startsWith(prefix));
  return { completion: { values, total: values.length, hasMore: false } };
}

// Opaque cursors: base64url of {"o":offset,"k":kind}.
function paginate(kind, items, cursor) {
  let offset = 0;
  if (cursor !== undefined) {
    try {
      const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (decoded.k !== kind || !Number.isInteger(decoded.o) || decoded.o < 0 || decoded.o > items.length) throw new Error('bad');
      offset = decoded.o;
    } catch {
      throw new McpError(ErrorCode.InvalidParams, `Invalid cursor: ${cursor}`);
    }
  }
  if (!opts.pageSize) return { page: items.slice(offset), nextCursor: undefined };
  const end = offset + opts.pageSize;
  const nextCursor = end < items.length ? Buffer.from(JSON.stringify({ o: end, k: kind })).toString('base64url') : undefined;
  return { page: items.slice(offset, end), nextCursor };
}

// ---------------------------------------------------------------------------------------------
// One Server per session
// ---------------------------------------------------------------------------------------------
function createSession() {
  const server = new Server(
    { name: 'bastion-conformance-fixture', title: 'Bastion conformance fixture', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      instructions: 'Conformance fixture upstream for Bastion tests.',
    },
  );
  const session = { server, id: null, subscriptions: new Set(), logLevel: 'debug' };

  // Replace the SDK's built-in logging/setLevel handler: store the level on the session so
  // the tool logging honours it on every transport (stdio included).
  // (The SDK registers one already when `logging` is declared; setting it again overrides it.)
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    session.logLevel = request.params.level;
    return {};
  });

  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    const { page, nextCursor } = paginate('tools', toolDefinitions(), request.params?.cursor);
    return nextCursor ? { tools: page, nextCursor } : { tools: page };
  });
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => callTool(session, request, extra));

  server.setRequestHandler(ListResourcesRequestSchema, async (request) => {
    const { page, nextCursor } = paginate('resources', RESOURCES, request.params?.cursor);
    return nextCursor ? { resources: page, nextCursor } : { resources: page };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (request) => {
    const { page, nextCursor } = paginate('templates', TEMPLATES, request.params?.cursor);
    return nextCursor ? { resourceTemplates: page, nextCursor } : { resourceTemplates: page };
  });
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => readResource(request.params.uri));
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const uri = request.params.uri;
    state.subscribeCalls[uri] = (state.subscribeCalls[uri] ?? 0) + 1;
    session.subscriptions.add(uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    const uri = request.params.uri;
    state.unsubscribeCalls[uri] = (state.unsubscribeCalls[uri] ?? 0) + 1;
    session.subscriptions.delete(uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async (request) => {
    const { page, nextCursor } = paginate('prompts', PROMPTS, request.params?.cursor);
    return nextCursor ? { prompts: page, nextCursor } : { prompts: page };
  });
  server.setRequestHandler(GetPromptRequestSchema, async (request) => getPrompt(request.params.name, request.params.arguments ?? {}));
  server.setRequestHandler(CompleteRequestSchema, async (request) => complete(request.params));

  server.onerror = (err) => log('server error:', err?.message ?? String(err));
  state.sessions.add(session);
  return session;
}

function closeSession(session) {
  state.sessions.delete(session);
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------------
class InMemoryEventStore {
  constructor() { this.events = new Map(); this.seq = 0; }
  async storeEvent(streamId, message) {
    const eventId = `${streamId}_${(++this.seq).toString().padStart(10, '0')}`;
    this.events.set(eventId, { streamId, message });
    if (this.events.size > 10000) this.events.delete(this.events.keys().next().value);
    return eventId;
  }
  async getStreamIdForEventId(eventId) {
    return this.events.get(eventId)?.streamId;
  }
  async replayEventsAfter(lastEventId, { send }) {
    const last = this.events.get(lastEventId);
    if (!last) return '';
    let found = false;
    for (const [eventId, { streamId, message }] of this.events) {
      if (streamId !== last.streamId) continue;
      if (eventId === lastEventId) { found = true; continue; }
      // Skip priming events (empty message objects).
      if (found && message && Object.keys(message).length > 0) await send(eventId, message);
    }
    return last.streamId;
  }
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', ...opts.allowHosts]);

function hostnameOf(value, withScheme) {
  try {
    return new URL(withScheme ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return null;
  }
}

function jsonRpcError(res, status, code, message, extraHeaders = {}) {
  if (res.headersSent) { res.end(); return; }
  res.writeHead(status, { 'Content-Type': 'application/json', ...extraHeaders });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/** DNS-rebinding protection: 403 for a foreign Host, or a present foreign Origin. */
function checkHostAndOrigin(req, res) {
  const host = req.headers.host;
  const hostName = host ? hostnameOf(host, false) : null;
  if (!hostName || !LOOPBACK_NAMES.has(hostName)) {
    jsonRpcError(res, 403, -32000, `Forbidden: invalid Host header ${JSON.stringify(host ?? null)}`);
    return false;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    const originName = hostnameOf(origin, true);
    if (!originName || !LOOPBACK_NAMES.has(originName)) {
      jsonRpcError(res, 403, -32000, `Forbidden: invalid Origin header ${JSON.stringify(origin)}`);
      return false;
    }
  } else if (origin === 'null') {
    jsonRpcError(res, 403, -32000, 'Forbidden: opaque Origin');
    return false;
  }
  return true;
}

/** --prime-legacy-clients: rewrite an old MCP-Protocol-Version header (both header views). */
function upgradeLegacyProtocolHeader(req) {
  const v = req.headers['mcp-protocol-version'];
  if (typeof v !== 'string' || v >= '2025-11-25') return;
  req.headers['mcp-protocol-version'] = '2025-11-25';
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === 'mcp-protocol-version') req.rawHeaders[i + 1] = '2025-11-25';
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 4 * 1024 * 1024) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server, port, path) {
  server.on('error', (err) => { log('listen failed:', err.message); process.exit(1); });
  server.listen(port, '127.0.0.1', () => {
    const { port: actual } = server.address();
    process.stdout.write(`LISTENING http://127.0.0.1:${actual}${path}\n`);
    log(`listening on 127.0.0.1:${actual}${path}`);
  });
}

function startStreamableHttp() {
  const transports = new Map(); // sessionId -> { transport, session }

  const httpServer = http.createServer(async (req, res) => {
    try {
      if (!checkHostAndOrigin(req, res)) return;
      const url = new URL(req.url, 'http://127.0.0.1');
      if (url.pathname !== '/mcp') { jsonRpcError(res, 404, -32000, 'Not found'); return; }
      const sessionId = req.headers['mcp-session-id'];

      if (req.method === 'POST') {
        let body;
        try {
          const raw = await readBody(req);
          body = JSON.parse(raw);
        } catch (err) {
          jsonRpcError(res, 400, -32700, `Parse error: ${err.message}`);
          return;
        }
        if (sessionId !== undefined) {
          const entry = transports.get(sessionId);
          if (!entry) { jsonRpcError(res, 404, -32001, 'Session not found'); return; }
          if (opts.primeLegacy) upgradeLegacyProtocolHeader(req);
          await entry.transport.handleRequest(req, res, body);
          return;
        }
        const isInit = Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
        if (!isInit) { jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required'); return; }

        const session = createSession();
        const transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          eventStore: new InMemoryEventStore(),
          retryInterval: opts.retryMs,
          enableJsonResponse: opts.jsonResponse,
          onsessioninitialized: (id) => {
            session.id = id;
            transports.set(id, { transport, session });
          },
          onsessionclosed: (id) => {
            transports.delete(id);
          },
        });
        transport.onclose = () => {
          if (transport.sessionId) transports.delete(transport.sessionId);
          closeSession(session);
        };
        await session.server.connect(transport);
        await transport.handleRequest(req, res, body);
        if (!transport.sessionId) {
          // initialize was rejected (e.g. bad Accept): nothing to keep.
          closeSession(session);
          await session.server.close().catch(() => {});
        }
        return;
      }

      if (req.method === 'GET' || req.method === 'DELETE') {
        if (sessionId === undefined) { jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required'); return; }
        const entry = transports.get(sessionId);
        if (!entry) { jsonRpcError(res, 404, -32001, 'Session not found'); return; }
        await entry.transport.handleRequest(req, res);
        return;
      }

      jsonRpcError(res, 405, -32000, 'Method not allowed', { Allow: 'GET, POST, DELETE' });
    } catch (err) {
      log('request failed:', err?.stack ?? String(err));
      jsonRpcError(res, 500, -32603, 'Internal server error');
    }
  });
  listen(httpServer, opts.port, '/mcp');
  return httpServer;
}

function startLegacySse() {
  const transports = new Map(); // sessionId -> SSEServerTransport

  const httpServer = http.createServer(async (req, res) => {
    try {
      if (!checkHostAndOrigin(req, res)) return;
      const url = new URL(req.url, 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname === '/sse') {
        const transport = new SSEServerTransport('/message', res);
        const session = createSession();
        session.id = transport.sessionId;
        transports.set(transport.sessionId, transport);
        transport.onclose = () => {
          transports.delete(transport.sessionId);
          closeSession(session);
        };
        await session.server.connect(transport); // starts the stream and sends the endpoint event
        return;
      }
      if (req.method === 'POST' && url.pathname === '/message') {
        const id = url.searchParams.get('sessionId');
        if (!id) { jsonRpcError(res, 400, -32000, 'Missing sessionId query parameter'); return; }
        const transport = transports.get(id);
        if (!transport) { jsonRpcError(res, 404, -32001, 'Session not found'); return; }
        let body;
        try {
          body = JSON.parse(await readBody(req));
        } catch (err) {
          jsonRpcError(res, 400, -32700, `Parse error: ${err.message}`);
          return;
        }
        await transport.handlePostMessage(req, res, body);
        return;
      }
      if (url.pathname === '/sse' || url.pathname === '/message') {
        jsonRpcError(res, 405, -32000, 'Method not allowed', { Allow: url.pathname === '/sse' ? 'GET' : 'POST' });
        return;
      }
      jsonRpcError(res, 404, -32000, 'Not found');
    } catch (err) {
      log('request failed:', err?.stack ?? String(err));
      jsonRpcError(res, 500, -32603, 'Internal server error');
    }
  });
  listen(httpServer, opts.port, '/sse');
  return httpServer;
}

async function startStdio() {
  const session = createSession();
  session.id = 'stdio';
  const transport = new StdioServerTransport();
  transport.onclose = () => closeSession(session);
  await session.server.connect(transport);
  log('serving stdio');
  process.stdin.on('end', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));

if (opts.mode === 'http') startStreamableHttp();
else if (opts.mode === 'sse') startLegacySse();
else await startStdio();
