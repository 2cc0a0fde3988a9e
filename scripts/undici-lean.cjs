'use strict';
// What the CLI uses of undici (Agent, ProxyAgent, request) without the rest of the package
// (fetch, WebSocket, caches, mocks: two thirds of its code, which every API command would
// otherwise load and compile). The build substitutes this for `undici` in the CLI bundle only; the
// types, the tests and the server use the package itself. `request` is undici's own
// `makeDispatcher(api.request)` from index.js, kept as it is.
const Agent = require('undici/lib/dispatcher/agent');
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const ProxyAgent = require('undici/lib/dispatcher/proxy-agent');
const apiRequest = require('undici/lib/api/api-request');
const util = require('undici/lib/core/util');
const { InvalidArgumentError } = require('undici/lib/core/errors');
const { getGlobalDispatcher } = require('undici/lib/global');

// undici's index.js gives every dispatcher its API methods (request, connect, …). ProxyAgent opens
// its tunnel with the proxy client's `connect()` (an HTTP CONNECT request): without it every
// request through an HTTPS_PROXY failed with "this[kClient].connect is not a function". The test
// that guards this runs the built CLI through a proxy (test/e2e/proxy.test.ts).
Dispatcher.prototype.connect ??= require('undici/lib/api/api-connect');

function request(url, opts, handler) {
  if (typeof opts === 'function') {
    handler = opts;
    opts = null;
  }
  if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) {
    throw new InvalidArgumentError('invalid url');
  }
  if (opts != null && typeof opts !== 'object') {
    throw new InvalidArgumentError('invalid opts');
  }
  if (opts && opts.path != null) {
    if (typeof opts.path !== 'string') throw new InvalidArgumentError('invalid opts.path');
    let path = opts.path;
    if (!opts.path.startsWith('/')) path = `/${path}`;
    url = new URL(util.parseOrigin(url).origin + path);
  } else {
    if (!opts) opts = typeof url === 'object' ? url : {};
    url = util.parseURL(url);
  }
  const { agent, dispatcher = getGlobalDispatcher() } = opts;
  if (agent) throw new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  return apiRequest.call(
    dispatcher,
    {
      ...opts,
      origin: url.origin,
      path: url.search ? `${url.pathname}${url.search}` : url.pathname,
      method: opts.method || (opts.body ? 'PUT' : 'GET'),
    },
    handler,
  );
}

module.exports = { Agent, ProxyAgent, request };
