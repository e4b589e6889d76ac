#!/usr/bin/env node
/*
 * ts-oauth-client.mjs: the TypeScript SDK (1.32.2) as an OAuth-protected MCP client, for Bastion's
 * downstream OAuth tests (docs/oauth-downstream.md). The SDK's own OAuth support does everything:
 * on Bastion's 401 it reads `resource_metadata` (and `scope`) from WWW-Authenticate, fetches the
 * RFC 9728 metadata, discovers the authorization server (RFC 8414 / OIDC), obtains a token with
 * the client_credentials grant (ClientCredentialsProvider, client_secret_basic, RFC 8707 resource)
 * and retries.
 *
 *   node ts-oauth-client.mjs <mcp url> --client-id ID --client-secret SECRET --issuer ISSUER_URL
 *        [--scope SCOPES] [--tool NAME [--args JSON]]
 *
 * --scope: what the client_credentials grant asks for (this SDK version takes the scope of a
 * client_credentials request from the provider's configuration, not from the 401's challenge).
 *
 * Prints exactly ONE JSON object on stdout: tools (all names listed), call (the CallToolResult,
 * when --tool), authorized (the provider holds a token), accessToken (so that the test can look
 * for it in Bastion's logs; this is a throw-away token of a test authorization server), and on
 * failure error {message, code?}.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

// Nothing but the result object may reach stdout.
console.log = (...a) => process.stderr.write(a.join(' ') + '\n');
console.info = console.log;
console.debug = console.log;
console.warn = console.log;

function parse(argv) {
  const o = { args: {} };
  const [url, ...rest] = argv;
  if (!url) {
    process.stderr.write('usage: node ts-oauth-client.mjs <url> --client-id ID --client-secret S --issuer URL [--tool NAME [--args JSON]]\n');
    process.exit(2);
  }
  o.url = url;
  for (let i = 0; i < rest.length; i++) {
    const v = () => rest[++i];
    switch (rest[i]) {
      case '--client-id': o.clientId = v(); break;
      case '--client-secret': o.clientSecret = v(); break;
      case '--issuer': o.issuer = v(); break;
      case '--scope': o.scope = v(); break;
      case '--tool': o.tool = v(); break;
      case '--args': o.args = JSON.parse(v()); break;
      default: process.stderr.write(`unknown option ${rest[i]}\n`); process.exit(2);
    }
  }
  if (!o.clientId || !o.clientSecret || !o.issuer) {
    process.stderr.write('--client-id, --client-secret and --issuer are required\n');
    process.exit(2);
  }
  return o;
}

const o = parse(process.argv.slice(2));
const out = { url: o.url };

async function main() {
  const provider = new ClientCredentialsProvider({
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    expectedIssuer: o.issuer,
    clientName: 'bastion-oauth-test',
    scope: o.scope,
  });
  const transport = new StreamableHTTPClientTransport(new URL(o.url), { authProvider: provider });
  const client = new Client({ name: 'ts-oauth-client', version: '1.0.0' });
  try {
    await client.connect(transport);
    out.authorized = Boolean(provider.tokens()?.access_token);
    out.accessToken = provider.tokens()?.access_token ?? null;
    out.grantedScope = provider.tokens()?.scope ?? null;
    const tools = [];
    let cursor;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      tools.push(...page.tools.map(t => t.name));
      cursor = page.nextCursor;
    } while (cursor);
    out.tools = tools;
    if (o.tool) {
      out.call = await client.callTool({ name: o.tool, arguments: o.args });
    }
  } catch (e) {
    out.error = { message: String(e?.message ?? e), code: e?.code };
  } finally {
    try { await transport.terminateSession(); } catch { /* best effort */ }
    try { await client.close(); } catch { /* best effort */ }
  }
}

main().then(() => {
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}, e => {
  out.error = { message: String(e?.stack ?? e) };
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(1);
});
