#!/usr/bin/env node
// Records real MCP servers' tools/list (stdio) as Code Mode benchmark fixtures, once, with the
// package name and version in each file. The servers are the npm packages pinned by this folder's
// package.json / package-lock.json (npm ci); each is started with dummy credentials, which is
// enough for these servers to list their tools (nothing is called, and nothing reaches the network).
//   cd benchmarks/tools && npm ci && node record-tools.mjs [name ...]
// Writes ../src/main/resources/codemode/<name>.json for each server of codemode-servers.json (or
// only those named) and prints one line per server: its tool count, or why it was skipped.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '../src/main/resources/codemode');
const specs = JSON.parse(readFileSync(join(here, 'codemode-servers.json'), 'utf8'));
const only = process.argv.slice(2);
const scratch = mkdtempSync(join(tmpdir(), 'bastion-record-'));

function entry(pkg, bin) {
  const dir = join(here, 'node_modules', pkg);
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const bins = typeof meta.bin === 'string' ? { [meta.name]: meta.bin } : meta.bin || {};
  const file = bin ? bins[bin] : Object.values(bins)[0];
  if (!file) throw new Error(`${pkg} has no bin ${bin || ''}`);
  return { script: join(dir, file), version: meta.version };
}

async function record(spec) {
  const { script, version } = entry(spec.package, spec.bin);
  const node = spec.node22 ? join(here, '../../node/src/test/node22/node_modules/node/bin/node') : process.execPath;
  const env = { PATH: process.env.PATH, HOME: scratch, NODE_ENV: 'production', ...(spec.env || {}) };
  for (const [k, v] of Object.entries(env)) env[k] = String(v).replaceAll('$SCRATCH', scratch);
  const args = (spec.args || []).map((a) => a.replaceAll('$SCRATCH', scratch));
  const client = new Client({ name: 'bastion-record-tools', version: '1' });
  const transport = new StdioClientTransport({ command: node, args: [script, ...args], env, cwd: scratch, stderr: 'ignore' });
  const timer = setTimeout(() => transport.close(), 30000);
  try {
    await client.connect(transport);
    const tools = [];
    let cursor;
    do {
      const r = await client.listTools(cursor ? { cursor } : {});
      tools.push(...r.tools);
      cursor = r.nextCursor;
    } while (cursor);
    const file = join(out, `${spec.file || spec.name}.json`);
    writeFileSync(file, JSON.stringify({ package: spec.package, version, recorded: new Date().toISOString().slice(0, 10), tools }, null, 1) + '\n');
    return `${spec.name}\t${spec.package}@${version}\t${tools.length} tools`;
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => {});
  }
}

for (const spec of specs) {
  if (only.length && !only.includes(spec.name)) continue;
  try {
    console.log(await record(spec));
  } catch (e) {
    console.log(`${spec.name}\t${spec.package}\tSKIPPED: ${String(e.message || e).split('\n')[0]}`);
  }
}
process.exit(0);
