'use strict';
/*
 * Loopback-only preload for third-party Node servers used in Bastion's tests.
 *
 *   node -r ./loopback.cjs <server.js> ...
 *   NODE_OPTIONS="-r /abs/path/loopback.cjs" npx <tool> ...
 *
 * Wraps net.Server.prototype.listen (http/https/express servers inherit it) so that a
 * listen() call that gives a TCP port but no host binds 127.0.0.1 instead of every
 * interface. Handled forms:
 *   listen(port[, backlog][, cb])          -> listen(port, '127.0.0.1'[, backlog][, cb])
 *   listen('3001'[, cb])                   (numeric string port, as from process.env.PORT)
 *   listen({ port[, ...] }[, cb])          -> listen({ ...opts, host: '127.0.0.1' }[, cb])
 *   listen()  / listen(cb)                 -> listen(0, '127.0.0.1'[, cb])
 * Untouched: an explicit host, a `path` (Unix socket / named pipe), a handle or fd.
 * Set LOOPBACK_PRELOAD_DEBUG=1 to log each rewrite to stderr.
 *
 * Every TCP listener that comes up is announced on stderr as one line
 *   LOOPBACK_LISTENING <address>:<port>
 * so a test can start e.g. server-everything with PORT=0 (it prints "port 0" itself) and
 * still learn the ephemeral port. Set LOOPBACK_PRELOAD_QUIET=1 to suppress it.
 */
const net = require('net');

const HOST = '127.0.0.1';
const original = net.Server.prototype.listen;
const debug = process.env.LOOPBACK_PRELOAD_DEBUG === '1';

function isPort(v) {
  return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));
}

function note(before, after) {
  if (debug) {
    process.stderr.write(`[loopback.cjs] listen(${before}) -> listen(${after})\n`);
  }
}

function announce(server) {
  if (process.env.LOOPBACK_PRELOAD_QUIET === '1') return;
  server.once('listening', () => {
    const a = server.address();
    if (a && typeof a === 'object') {
      process.stderr.write(`LOOPBACK_LISTENING ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}\n`);
    }
  });
}

net.Server.prototype.listen = function listen(...args) {
  announce(this);
  const first = args[0];
  if (args.length === 0 || typeof first === 'function' || first === undefined || first === null) {
    // listen() / listen(cb): Node picks a random port on every interface.
    const rest = args.length === 0 ? [] : args.slice(1);
    const cb = typeof first === 'function' ? [first] : [];
    note('<none>', `0, ${HOST}`);
    return original.call(this, 0, HOST, ...cb, ...rest);
  }
  if (isPort(first)) {
    const second = args[1];
    if (typeof second === 'string') {
      return original.apply(this, args); // host given explicitly
    }
    note(String(first), `${first}, ${HOST}`);
    return original.call(this, first, HOST, ...args.slice(1));
  }
  if (typeof first === 'object' && !Array.isArray(first)) {
    const hasHandle = first._handle !== undefined || first.fd !== undefined || first.handle !== undefined;
    if (!hasHandle && first.path === undefined && first.host === undefined) {
      note(JSON.stringify(first), JSON.stringify({ ...first, host: HOST }));
      return original.call(this, { ...first, host: HOST }, ...args.slice(1));
    }
  }
  return original.apply(this, args);
};
