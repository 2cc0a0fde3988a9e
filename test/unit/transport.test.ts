import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  ApiError,
  AuthError,
  ErrorAnswer,
  GatewayError,
  NetworkError,
  RateLimitedError,
  TimeoutError,
} from '../../src/cli/errors';
import { path, retryAfterMs, Transport, type TransportOptions } from '../../src/client/transport';

const ORIGIN = 'http://rd.test:21114';

let agent: MockAgent;
let transports: Transport[];

beforeEach(() => {
  agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  transports = [];
});

afterEach(async () => {
  for (const t of transports) await t.close();
  agent.assertNoPendingInterceptors();
  await agent.close();
});

/** A transport on the mock agent. `retries` keeps its default (2) unless given, so an unexpected retry
 * of a non-retryable failure runs into an unmatched request and fails the test. */
function transport(o: Partial<TransportOptions> = {}): Transport {
  const t = new Transport({
    baseUrl: ORIGIN,
    token: 'tok-123',
    timeoutMs: 5_000,
    connections: 4,
    dispatcher: agent,
    ...o,
  });
  transports.push(t);
  return t;
}

function server(origin = ORIGIN) {
  return agent.get(origin);
}

function calls() {
  return agent.getCallHistory()?.calls() ?? [];
}

/** The rejection of `p`; fails the test when `p` resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  let value: unknown;
  try {
    value = await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
}

/** Asserts the exact class (not a subclass or sibling), the exit code and the message's key words. */
function expectError(
  err: Error,
  cls: abstract new (...a: never[]) => Error,
  exitCode: number,
  ...words: RegExp[]
) {
  expect(err.constructor).toBe(cls);
  expect((err as Error & { exitCode: number }).exitCode).toBe(exitCode);
  for (const w of words) expect(err.message).toMatch(w);
}

function reset(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

describe('path``', () => {
  it('percent-encodes every interpolated segment and leaves the template alone', () => {
    expect(path`/api/users/${'a/b?c#d %e'}/enable`).toBe('/api/users/a%2Fb%3Fc%23d%20%25e/enable');
    expect(path`/api/ab/${'x'}/peers/${42}`).toBe('/api/ab/x/peers/42');
  });

  it('refuses segments that a URL parser would resolve away (., .. and empty)', () => {
    for (const bad of ['..', '.', '']) expect(() => path`/api/users/${bad}/enable`).toThrow(/segment/);
  });
});

describe('Transport: success', () => {
  it('returns the parsed JSON of a 200 answer, validated by the schema', async () => {
    server()
      .intercept({ path: '/api/users', method: 'GET' })
      .reply(200, { data: [1, 2], total: 2 });
    const schema = z.object({ data: z.array(z.number()), total: z.number() });
    await expect(transport().call('GET', '/api/users', { schema })).resolves.toEqual({
      data: [1, 2],
      total: 2,
    });
  });

  it('returns undefined for an empty 200 body and for 204', async () => {
    server().intercept({ path: '/api/a', method: 'POST' }).reply(200, '');
    server().intercept({ path: '/api/b', method: 'POST' }).reply(204, '');
    const t = transport();
    await expect(t.call('POST', '/api/a')).resolves.toBeUndefined();
    await expect(t.call('POST', '/api/b')).resolves.toBeUndefined();
  });

  it('reports a body that does not fit the schema as an ApiError', async () => {
    server().intercept({ path: '/api/users', method: 'GET' }).reply(200, { data: 'nope' });
    const err = await rejection(
      transport().call('GET', '/api/users', { schema: z.object({ data: z.array(z.unknown()) }) }),
    );
    expectError(err, ApiError, 1, /unexpected answer/, /data/);
  });
});

describe('Transport: server errors', () => {
  it("maps an HTML error page to a GatewayError (not the server's own answer) carrying its title", async () => {
    server()
      .intercept({ path: '/api/users', method: 'GET' })
      .reply(500, '<html><head><title>Bad Gateway</title></head><body><h1>nginx</h1></body></html>', {
        headers: { 'content-type': 'text/html' },
      });
    const err = await rejection(transport().call('GET', '/api/users'));
    expectError(err, GatewayError, 1, /HTTP 500/, /HTML page/, /"Bad Gateway"/);
    expect((err as ApiError).status).toBe(500);
    expect(err.message).not.toMatch(/<h1>/);
  });

  it('reports a 200 body that is not JSON', async () => {
    server().intercept({ path: '/api/users', method: 'GET' }).reply(200, 'hello, I am a proxy');
    const err = await rejection(transport().call('GET', '/api/users'));
    expectError(err, ApiError, 1, /not JSON/, /hello, I am a proxy/);
    expect((err as ApiError).status).toBe(200);
  });

  it('treats {"error"} on HTTP 200 as an error', async () => {
    server().intercept({ path: '/api/users', method: 'POST' }).reply(200, { error: 'boom' });
    const err = await rejection(transport().call('POST', '/api/users', { body: { name: 'x' } }));
    expectError(err, ErrorAnswer, 1);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('boom');
    expect((err as ApiError).status).toBe(200);
  });

  it('takes Pro\'s "Permission denied" on HTTP 200 for a permission refusal (AuthError, exit 4)', async () => {
    server().intercept({ path: '/api/users', method: 'POST' }).reply(200, { error: 'Permission denied' });
    const err = await rejection(transport().call('POST', '/api/users', { body: { name: 'x' } }));
    expectError(err, AuthError, 4, /^Permission denied$/);
    expect((err as AuthError).status).toBe(200);
    expect((err as AuthError).hint).toMatch(/for want of permission/);
  });

  it('maps 401 and 403 to AuthError (exit 4) with the server message', async () => {
    server().intercept({ path: '/api/users', method: 'GET' }).reply(401, { error: 'invalid token' });
    server().intercept({ path: '/api/devices', method: 'GET' }).reply(403, { error: 'no device scope' });
    const t = transport();
    const e401 = await rejection(t.call('GET', '/api/users'));
    expectError(e401, AuthError, 4, /not authenticated/, /HTTP 401/, /invalid token/);
    expect((e401 as AuthError).status).toBe(401);
    const e403 = await rejection(t.call('GET', '/api/devices'));
    expectError(e403, AuthError, 4, /permission denied/, /HTTP 403/, /no device scope/);
    expect((e403 as AuthError).status).toBe(403);
  });

  it('maps 404 {"error"} to an ApiError with status 404', async () => {
    server().intercept({ path: '/api/users/g1', method: 'DELETE' }).reply(404, { error: 'user not found' });
    const err = await rejection(transport().call('DELETE', '/api/users/g1'));
    expectError(err, ApiError, 1, /user not found/, /HTTP 404/);
    expect((err as ApiError).status).toBe(404);
  });
});

describe('Transport: network faults', () => {
  it('turns a slow answer into a TimeoutError (exit 5), not retried', async () => {
    server().intercept({ path: '/api/users', method: 'GET' }).reply(200, { data: [] }).delay(1_500);
    const err = await rejection(transport({ timeoutMs: 200 }).call('GET', '/api/users'));
    expectError(err, TimeoutError, 5, /no answer/, /rd\.test:21114/, /0\.2s/);
    expect(calls()).toHaveLength(1);
  });

  it('retries a GET on a connection reset, then reports a NetworkError (exit 5)', async () => {
    server().intercept({ path: '/api/users', method: 'GET' }).replyWithError(reset()).times(3);
    const err = await rejection(transport({ retries: 2 }).call('GET', '/api/users'));
    expectError(err, NetworkError, 5, /lost the connection to/, /before the answer came: connection reset/);
    expect((err as NetworkError).code).toBe('ECONNRESET');
    expect(calls()).toHaveLength(3);
  });

  it('never retries a POST on a connection reset', async () => {
    server().intercept({ path: '/api/users', method: 'POST' }).replyWithError(reset());
    const err = await rejection(
      transport({ retries: 2 }).call('POST', '/api/users', { body: { name: 'x' } }),
    );
    expectError(err, NetworkError, 5, /connection reset/);
    expect((err as NetworkError).code).toBe('ECONNRESET');
    expect(calls()).toHaveLength(1);
  });

  it('maps a refused connection and a TLS failure to NetworkError; TLS is not retried', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    server().intercept({ path: '/api/a', method: 'GET' }).replyWithError(refused);
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    server().intercept({ path: '/api/b', method: 'GET' }).replyWithError(tls);
    const e1 = await rejection(transport({ retries: 0 }).call('GET', '/api/a'));
    expectError(e1, NetworkError, 5, /connection refused/);
    const e2 = await rejection(transport().call('GET', '/api/b'));
    expectError(e2, NetworkError, 5, /TLS failure/);
    expect(e2).toMatchObject({ code: 'TLS', hint: expect.stringMatching(/--ca/) });
  });

  it('retries a GET after a 502 and returns the next answer', async () => {
    server().intercept({ path: '/api/users', method: 'GET' }).reply(502, 'Bad Gateway');
    server()
      .intercept({ path: '/api/users', method: 'GET' })
      .reply(200, { data: ['ok'] });
    await expect(transport({ retries: 1 }).call('GET', '/api/users')).resolves.toEqual({ data: ['ok'] });
    expect(calls()).toHaveLength(2);
  });

  it('reports a 502 on a POST at once', async () => {
    server().intercept({ path: '/api/users', method: 'POST' }).reply(502, 'Bad Gateway');
    const err = await rejection(transport({ retries: 2 }).call('POST', '/api/users', { body: {} }));
    expectError(err, GatewayError, 1, /HTTP 502/, /Bad Gateway/);
    expect((err as ApiError).status).toBe(502);
    expect(calls()).toHaveLength(1);
  });

  it('retries an explicitly idempotent PUT on 503', async () => {
    server().intercept({ path: '/api/x', method: 'PUT' }).reply(503, '');
    server().intercept({ path: '/api/x', method: 'PUT' }).reply(200, { ok: true });
    const t = transport({ retries: 1 });
    await expect(t.call('PUT', '/api/x', { body: {}, idempotent: true })).resolves.toEqual({ ok: true });
  });
});

describe('Transport: a server that asks to slow down (429)', () => {
  /** A transport whose waits are recorded instead of slept, and whose notices are kept. */
  function patient(o: Partial<TransportOptions> = {}) {
    const waits: number[] = [];
    const notices: string[] = [];
    const t = transport({
      sleep: async (ms) => {
        waits.push(ms);
      },
      notice: (line) => notices.push(line),
      ...o,
    });
    return { t, waits, notices };
  }
  const slowDown = (headers: Record<string, string> = {}) =>
    server()
      .intercept({ path: '/api/users/g1/disable', method: 'POST' })
      .reply(429, { error: 'slow down' }, { headers });

  it('waits what Retry-After asks, then sends the same request again, a POST too (it was not carried out)', async () => {
    slowDown({ 'retry-after': '3' });
    server().intercept({ path: '/api/users/g1/disable', method: 'POST' }).reply(200, {});
    const { t, waits, notices } = patient();
    await expect(t.call('POST', '/api/users/g1/disable')).resolves.toEqual({});
    expect(waits).toEqual([3000]);
    expect(calls().map((c) => c.path)).toEqual(['/api/users/g1/disable', '/api/users/g1/disable']);
    expect(notices).toEqual([
      'the server asks to slow down (HTTP 429): waiting and trying again; a lower --concurrency (now 4) sends fewer requests at once',
    ]);
  });

  it('without Retry-After waits about 1, 2, 4, 8 s (±25 %), then reports the 429 with a hint; one notice', async () => {
    for (let i = 0; i < 5; i++) slowDown();
    const { t, waits, notices } = patient();
    const err = await rejection(t.call('POST', '/api/users/g1/disable'));
    expectError(err, RateLimitedError, 1, /^slow down \(HTTP 429\)$/);
    expect((err as RateLimitedError).status).toBe(429);
    expect((err as RateLimitedError).hint).toBe(
      'the server (or a proxy in front of it) limits the request rate; try again later, or with a lower --concurrency (now 4)',
    );
    expect(waits).toHaveLength(4);
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(750 * 2 ** i);
      expect(w).toBeLessThanOrEqual(1250 * 2 ** i);
    });
    expect(calls()).toHaveLength(5);
    expect(notices).toHaveLength(1);
  });

  it('Retry-After: 0 still waits a second between tries (no burst of requests refused again)', async () => {
    for (let i = 0; i < 5; i++) slowDown({ 'retry-after': '0' });
    // The recorded waits pass on the clock as real ones would (the gate is timed by Date.now()).
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const { t, waits } = patient({
        sleep: async (ms) => {
          waits.push(ms);
          vi.setSystemTime(Date.now() + ms);
        },
      });
      const err = await rejection(t.call('POST', '/api/users/g1/disable'));
      expectError(err, RateLimitedError, 1, /slow down \(HTTP 429\)/);
      expect(waits).toEqual([1000, 1000, 1000, 1000]);
      expect(calls()).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });

  it('names a very long wait in days as well', async () => {
    slowDown({ 'retry-after': String(3653 * 86400) });
    const err = await rejection(patient().t.call('POST', '/api/users/g1/disable'));
    expect((err as RateLimitedError).hint).toBe(
      'the server asks to wait 315619200 s (about 3653 days) before the next request',
    );
  });

  it('does not wait out a Retry-After over a minute: reports it at once, naming the wait', async () => {
    slowDown({ 'retry-after': '3600' });
    const { t, waits } = patient();
    const err = await rejection(t.call('POST', '/api/users/g1/disable'));
    expectError(err, RateLimitedError, 1, /slow down \(HTTP 429\)/);
    expect((err as RateLimitedError).hint).toBe(
      'the server asks to wait 3600 s (about 1 h) before the next request',
    );
    expect(waits).toEqual([]);
    expect(calls()).toHaveLength(1);
  });

  it('a call marked not to (logging in) reports the 429 at once', async () => {
    slowDown({ 'retry-after': '5' });
    const { t, waits, notices } = patient();
    const err = await rejection(t.call('POST', '/api/users/g1/disable', { retryRateLimited: false }));
    expectError(err, RateLimitedError, 1, /slow down \(HTTP 429\)/);
    expect((err as RateLimitedError).hint).toBe('the server asks to wait 5 s before the next request');
    expect(waits).toEqual([]);
    expect(notices).toEqual([]);
    expect(calls()).toHaveLength(1);
  });

  it('holds every request of the client until the wait is over, not only the refused one', async () => {
    slowDown({ 'retry-after': '5' });
    server().intercept({ path: '/api/users/g1/disable', method: 'POST' }).reply(200, {});
    server().intercept({ path: '/api/users', method: 'GET' }).reply(200, { data: [] });
    const gates: { ms: number; open: () => void }[] = [];
    const t = transport({ sleep: (ms) => new Promise<void>((open) => gates.push({ ms, open })) });
    const refused = t.call('POST', '/api/users/g1/disable');
    while (!gates.length) await new Promise((r) => setImmediate(r));
    const other = t.call('GET', '/api/users');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(calls().map((c) => `${c.method} ${c.path}`)).toEqual(['POST /api/users/g1/disable']);
    expect(gates.map((g) => g.ms)).toEqual([5000]);
    gates[0]!.open();
    await expect(refused).resolves.toEqual({});
    await expect(other).resolves.toEqual({ data: [] });
    expect(calls()).toHaveLength(3);
  });

  it("close() cuts a wait short: a command that ends does not sit out the server's wait", async () => {
    slowDown({ 'retry-after': '50' });
    server().intercept({ path: '/api/users/g1/disable', method: 'POST' }).reply(200, {});
    const notices: string[] = [];
    const t = transport({ notice: (line) => notices.push(line) }); // real timers
    const call = t.call('POST', '/api/users/g1/disable');
    while (!notices.length) await new Promise((r) => setImmediate(r));
    // Without close() ending the wait, the call would sit out the 50 s and the test time out.
    await t.close();
    await expect(call).resolves.toEqual({});
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-27T08:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs(['0'], now)).toBe(0);
    expect(retryAfterMs('Fri, 27 Nov 2026 08:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Fri, 27 Nov 2026 07:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('Transport: the request on the wire', () => {
  it('sends the bearer token; content-type only with a body', async () => {
    server().intercept({ path: '/api/users', method: 'GET' }).reply(200, {});
    server().intercept({ path: '/api/users', method: 'POST' }).reply(200, {});
    const t = transport();
    await t.call('GET', '/api/users');
    await t.call('POST', '/api/users', { body: { name: 'ann', note: 'é' } });
    const [get, post] = calls();
    expect(get?.headers).toMatchObject({ authorization: 'Bearer tok-123', accept: 'application/json' });
    expect(get?.headers).not.toHaveProperty('content-type');
    expect(get?.body ?? undefined).toBeUndefined();
    expect(post?.headers).toMatchObject({
      authorization: 'Bearer tok-123',
      'content-type': 'application/json',
    });
    expect(JSON.parse(String(post?.body))).toEqual({ name: 'ann', note: 'é' });
  });

  it('sends no authorization header without a token', async () => {
    server().intercept({ path: '/api/login', method: 'POST' }).reply(200, {});
    await transport({ token: undefined }).call('POST', '/api/login', { body: {} });
    expect(calls()[0]?.headers).not.toHaveProperty('authorization');
  });

  it('percent-encodes path segments so a GUID with / or ? stays one segment', async () => {
    const guid = 'a/b?c=1#x y';
    server().intercept({ path: '/api/users/a%2Fb%3Fc%3D1%23x%20y/enable', method: 'POST' }).reply(200, '');
    await transport().call('POST', path`/api/users/${guid}/enable`);
    expect(calls()[0]?.path).toBe('/api/users/a%2Fb%3Fc%3D1%23x%20y/enable');
    expect(decodeURIComponent(calls()[0]?.path.split('/')[3] ?? '')).toBe(guid);
  });

  it('sends query values with %, spaces, & and = so they arrive unchanged; drops undefined', async () => {
    const query = { name: '%ann smith%', group_name: 'R&D = 100%', pageSize: 30, skip: undefined };
    server()
      .intercept({
        path: '/api/users',
        method: 'GET',
        query: { name: '%ann smith%', group_name: 'R&D = 100%', pageSize: '30' },
      })
      .reply(200, {});
    await transport().call('GET', '/api/users', { query });
    expect(calls()[0]?.searchParams).toEqual({
      name: '%ann smith%',
      group_name: 'R&D = 100%',
      pageSize: '30',
    });
  });

  it('keeps a base URL path prefix and trims trailing slashes', async () => {
    const t = transport({ baseUrl: 'http://h:1/rd//' });
    expect(t.baseUrl).toBe('http://h:1/rd');
    server('http://h:1').intercept({ path: '/rd/api/users', method: 'GET' }).reply(200, { ok: 1 });
    await expect(t.call('GET', '/api/users')).resolves.toEqual({ ok: 1 });
    expect(calls()[0]?.fullUrl).toBe('http://h:1/rd/api/users');
  });
});

describe('batches', () => {
  /** A server that announces batches and answers every request of a batch with 200 {}. */
  function takesBatches(sizes: number[]): void {
    server().intercept({ path: '/api/rdadmin/batch', method: 'GET' }).reply(200, { max_requests: 100 });
    server()
      .intercept({ path: '/api/rdadmin/batch', method: 'POST' })
      .reply(200, (opts) => {
        const { requests } = JSON.parse(String(opts.body)) as { requests: unknown[] };
        sizes.push(requests.length);
        return requests.map(() => `${JSON.stringify({ status: 200, body: '{}' })}\n`).join('');
      })
      .persist();
  }

  it('sends the calls of one turn together, at most the announced number per batch', async () => {
    const sizes: number[] = [];
    takesBatches(sizes);
    const t = transport();
    expect(await t.startBatching()).toBe(100);
    const answers = await Promise.all(Array.from({ length: 250 }, (_, i) => t.call('POST', `/api/x/${i}`)));
    t.stopBatching();
    expect(answers).toEqual(Array(250).fill({}));
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('keeps each batch under 256 KB of request text, to stay under the body limit', async () => {
    const sizes: number[] = [];
    takesBatches(sizes);
    const t = transport();
    await t.startBatching();
    const big = 'x'.repeat(20_000);
    await Promise.all(Array.from({ length: 30 }, (_, i) => t.call('POST', `/api/x/${i}`, { body: { big } })));
    t.stopBatching();
    // 13 calls of 20,000 characters (and their paths) are 260,780 bytes; a 14th would pass 256 KiB.
    expect(sizes).toEqual([13, 13, 4]);
  });

  /**
   * Three POSTs to /api/x/0..2 in one batch from a server that announces batches (the POST answers
   * are the test's); checks each call's answer and returns the waits asked for (recorded, not slept).
   */
  async function threeInABatch(): Promise<number[]> {
    server().intercept({ path: '/api/rdadmin/batch', method: 'GET' }).reply(200, { max_requests: 100 });
    const waits: number[] = [];
    const t = transport({ sleep: async (ms) => void waits.push(ms) });
    await t.startBatching();
    const answers = await Promise.all([0, 1, 2].map((i) => t.call('POST', `/api/x/${i}`)));
    t.stopBatching();
    expect(answers).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    return waits;
  }

  it('a batch refused with 429 ran nothing: each call goes alone after the wait, and is done', async () => {
    server()
      .intercept({ path: '/api/rdadmin/batch', method: 'POST' })
      .reply(429, { error: 'slow down' }, { headers: { 'retry-after': '2' } });
    for (const i of [0, 1, 2])
      server()
        .intercept({ path: `/api/x/${i}`, method: 'POST' })
        .reply(200, { i });
    const waits = await threeInABatch();
    expect(waits).toEqual([2000]); // one pause for the whole client, not one per call
    expect(calls().map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /api/rdadmin/batch',
      'POST /api/rdadmin/batch',
      'POST /api/x/0',
      'POST /api/x/1',
      'POST /api/x/2',
    ]);
  });

  it('asks for JSON answers as documents and reads them, unless a call has its own parser', async () => {
    server().intercept({ path: '/api/rdadmin/batch', method: 'GET' }).reply(200, { max_requests: 100 });
    const accepts: string[] = [];
    server()
      .intercept({ path: '/api/rdadmin/batch', method: 'POST' })
      .reply(200, (opts) => {
        const accept = String((opts.headers as Record<string, string>)['accept']);
        accepts.push(accept);
        const { requests } = JSON.parse(String(opts.body)) as { requests: { path: string }[] };
        const asJson = accept.includes('answers=json');
        return requests
          .map(({ path: p }) => {
            const n = Number(p.split('/').pop());
            const doc = n === 2 ? { error: 'no such thing' } : { n, big: 9007199254740993n.toString() };
            const status = n === 2 ? 404 : 200;
            const line = asJson
              ? `{"status":${status},"json":${JSON.stringify(doc).replace(/"big":"(\d+)"/, '"big":$1')}}`
              : JSON.stringify({
                  status,
                  body: JSON.stringify(doc).replace(/"big":"(\d+)"/, '"big":$1'),
                });
            return `${line}\n`;
          })
          .join('');
      })
      .persist();
    const t = transport();
    await t.startBatching();
    const Doc = z.object({ n: z.number(), big: z.number() });
    const settled = await Promise.allSettled(
      [0, 1, 2].map((i) => t.call('POST', `/api/x/${i}`, { schema: Doc })),
    );
    expect(settled[0]).toEqual({ status: 'fulfilled', value: { n: 0, big: 9007199254740992 } });
    expect(settled[1]).toEqual({ status: 'fulfilled', value: { n: 1, big: 9007199254740992 } });
    // An error answer given as a document is judged as its text would be.
    const failed = settled[2] as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(ApiError);
    expect((failed.reason as ApiError).message).toBe('no such thing (HTTP 404)');
    // A call that reads its answer with its own parser (say, keeping large integers) gets text.
    const raw = (text: string) => ({ text });
    const [own, other] = await Promise.all([
      t.call('POST', '/api/x/3', { parse: raw }),
      t.call('POST', '/api/x/4', { schema: Doc }),
    ]);
    t.stopBatching();
    expect(own).toEqual({ text: '{"n":3,"big":9007199254740993}' });
    expect(other).toEqual({ n: 4, big: 9007199254740992 });
    expect(accepts).toEqual(['application/x-ndjson; answers=json', 'application/x-ndjson']);
  });

  it('a 429 on one line of a batch: that call alone goes again, after a wait', async () => {
    server()
      .intercept({ path: '/api/rdadmin/batch', method: 'POST' })
      .reply(
        200,
        [
          { status: 200, body: '{"i":0}' },
          { status: 429, body: '{"error":"slow down"}' },
          { status: 200, body: '{"i":2}' },
        ]
          .map((l) => `${JSON.stringify(l)}\n`)
          .join(''),
      );
    server().intercept({ path: '/api/x/1', method: 'POST' }).reply(200, { i: 1 });
    const waits = await threeInABatch();
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(750);
    expect(waits[0]).toBeLessThanOrEqual(1250);
    expect(calls().map((c) => c.path)).toEqual(['/api/rdadmin/batch', '/api/rdadmin/batch', '/api/x/1']);
  });

  it('keeps two batches under way; calls made meanwhile wait and go out together, as full batches', async () => {
    // A server that answers a batch line by line, a turn of its event loop apart (as rdadmin serve
    // does), so answers reach the client a few at a time.
    const sizes: number[] = [];
    let under = 0;
    let most = 0;
    const srv = createServer(async (req, res) => {
      if (req.method === 'GET') return void res.end(JSON.stringify({ max_requests: 100 }));
      let text = '';
      for await (const chunk of req) text += chunk;
      const { requests } = JSON.parse(text) as { requests: unknown[] };
      sizes.push(requests.length);
      most = Math.max(most, ++under);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const _ of requests) {
        res.write(`${JSON.stringify({ status: 200, body: '{}' })}\n`);
        await new Promise((r) => setImmediate(r));
      }
      under--;
      res.end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const t = new Transport({
      baseUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
      token: 't',
      timeoutMs: 5000,
      connections: 4,
    });
    try {
      expect(await t.startBatching()).toBe(100);
      // What the bulk runner does: 200 calls out at a time, each answer starting the next call.
      let next = 0;
      const worker = async () => {
        while (next < 1000) expect(await t.call('POST', `/api/x/${next++}`)).toEqual({});
      };
      await Promise.all(Array.from({ length: 200 }, worker));
      t.stopBatching();
    } finally {
      await t.close();
      srv.close();
    }
    expect(most).toBe(2);
    expect(sizes).toEqual(Array(10).fill(100));
  });
});
