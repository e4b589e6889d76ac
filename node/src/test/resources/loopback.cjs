// Test preload (node -r loopback.cjs): makes every server that does not name a host listen on
// 127.0.0.1 instead of all interfaces. Tests must never expose upstream fixtures to the network.
'use strict';
const net = require('net');
const HOST = process.env.BASTION_TEST_HOST || '127.0.0.1';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (args.length === 0 || typeof first === 'function') {
    args.unshift({ port: 0, host: HOST });
  } else if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    if (first.host === undefined && first.path === undefined && first.fd === undefined && first._handle === undefined) {
      args[0] = Object.assign({}, first, { host: HOST });
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] !== 'string') {
      args.splice(1, 0, HOST);
    }
  }
  return listen.apply(this, args);
};
