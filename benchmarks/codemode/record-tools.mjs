#!/usr/bin/env node
// Records one MCP server's tools/list (stdio) as a Code Mode token fixture.
//   cd node/src/test/node && node ../../../../benchmarks/codemode/record-tools.mjs \
//       @modelcontextprotocol/server-memory node_modules/@modelcontextprotocol/server-memory/dist/index.js
// Prints {package, version, recorded, tools} on stdout; save it under
// benchmarks/src/main/resources/codemode/<name>.json.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [pkg, script, ...args] = process.argv.slice(2);
const version = JSON.parse(readFileSync(join(dirname(script), '..', 'package.json'), 'utf8')).version;
const client = new Client({ name: 'bastion-record-tools', version: '1' });
await client.connect(new StdioClientTransport({ command: process.execPath, args: [script, ...args],
  env: { ...process.env, MEMORY_FILE_PATH: '/tmp/bastion-record-memory.jsonl' } }));
const tools = [];
let cursor;
do {
  const r = await client.listTools(cursor ? { cursor } : {});
  tools.push(...r.tools);
  cursor = r.nextCursor;
} while (cursor);
process.stdout.write(JSON.stringify({ package: pkg, version, recorded: new Date().toISOString().slice(0, 10), tools }, null, 1) + '\n');
await client.close();
