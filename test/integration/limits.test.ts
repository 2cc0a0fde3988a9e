import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/server/http';
import { type RunningServer, startServer } from '../../src/server/serve';
import { MAX_PAGE_SIZE } from '../../src/wire/common';
import { requiredQueryFor } from '../helpers/required-query';
import { leaks, registry, routeName, SECURITY_HEADERS, send } from '../helpers/routes';
import { startTestServer, type TestServer } from '../helpers/server';

// Limits (docs/reliability.md §3): body size, page size, request and header deadlines, no internals
// in any answer, and the security headers on every answer, including the ones Node itself would
// give to a request it cannot parse.

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

interface Raw {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
  /** ms from the first byte written until the server closed the connection. */
  closedAfterMs: number;
}

function parseRaw(text: string, closedAfterMs: number): Raw {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return {
    status: Number(lines[0]?.split(' ')[1]),
    head,
    headers,
    body: rest.join('\r\n\r\n'),
    closedAfterMs,
  };
}

/**
 * Writes `parts` to a raw socket (each after `gapMs`), never ending the request unless the parts do,
 * and collects what the server sends until it closes the connection (or `maxMs` passes).
 */
function rawExchange(
  url: string,
  parts: (string | Buffer)[],
  o: { gapMs?: number; maxMs?: number } = {},
): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const sock = connect(Number(port), hostname);
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new Error(`the server kept the connection open for ${o.maxMs ?? 5000} ms; got: ${got.slice(0, 200)}`),
      );
    }, o.maxMs ?? 5000);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      got += d;
    });
    sock.on('error', () => undefined); // a reset after the answer: the answer is what counts
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(parseRaw(got, performance.now() - started));
    });
    sock.on('connect', async () => {
      for (const p of parts) {
        if (sock.destroyed) return;
        sock.write(p);
        if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
      }
    });
  });
}

function expectJsonError(r: Raw, status: number, message: RegExp): void {
  expect(r.status, r.head).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(r.body)).toEqual({ error: expect.stringMatching(message) });
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(r.headers[k], `${k} on ${status}`).toBe(v);
}

async function stillServes(url: string, token: string): Promise<void> {
  const r = await send(url, {
    method: 'GET',
    path: '/api/users?name=admin',
    headers: { authorization: `Bearer ${token}` },
  });
  expect(r.status).toBe(200);
  expect(r.text).toContain('"admin"');
}

describe('request body size limit (1 MiB)', () => {
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    send(s.url, {
      method: 'POST',
      path: '/api/users',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', ...headers },
      body,
    });

  it('a body of exactly the limit is read and validated; one byte more is refused with 413', async () => {
    const exact = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES - 11) });
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    const ok = await post(exact);
    expect(ok.status).toBe(400);
    expect(JSON.parse(ok.text).error).toMatch(/'name' must be at most 100 characters/);
    const over = await post(`${exact} `);
    expect(over.status).toBe(413);
    expect(JSON.parse(over.text)).toEqual({ error: `request body is larger than ${MAX_BODY_BYTES} bytes` });
  });

  it('a chunked body with no declared length is cut off at the limit while it streams', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const frame = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    ]);
    // 20 frames = 1.25 MiB, and the request is never finished: the 413 must come anyway.
    const r = await rawExchange(
      s.url,
      [
        `POST /api/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
        ...Array(20).fill(frame),
      ],
      { maxMs: 10_000 },
    );
    expectJsonError(r, 413, /larger than 1048576 bytes/);
    await stillServes(s.url, s.token);
  });

  it('an over-long declared length is refused before the body is read', async () => {
    const r = await rawExchange(s.url, [
      `POST /api/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n{`,
    ]);
    expectJsonError(r, 413, /larger than/);
  });
});

describe('page size cap', () => {
  it(`every list route takes pageSize up to ${MAX_PAGE_SIZE} and refuses more`, async () => {
    const lists = registry(s.store).specs.filter(
      (r) => r.method === 'GET' && r.query && 'pageSize' in ((r.query as { shape?: object }).shape ?? {}),
    );
    expect(lists.length).toBeGreaterThanOrEqual(2);
    await s.seedUsers(Array.from({ length: 1005 }, (_, i) => `cap-${String(i).padStart(4, '0')}`));
    const required = await requiredQueryFor(s);
    for (const spec of lists) {
      const extra = required(spec) ? `${required(spec)}&` : '';
      const ok = await s.fetch(`${spec.path}?${extra}pageSize=${MAX_PAGE_SIZE}`, { token: s.token });
      expect(ok.status, routeName(spec)).toBe(200);
      const over = await s.fetch(`${spec.path}?${extra}pageSize=${MAX_PAGE_SIZE + 1}`, { token: s.token });
      expect(over.status, routeName(spec)).toBe(400);
      expect(((await over.json()) as { error: string }).error).toContain(`at most ${MAX_PAGE_SIZE}`);
    }
    const page = (await (await s.fetch('/api/users?pageSize=1000', { token: s.token })).json()) as {
      data: unknown[];
      total: number;
    };
    expect(page.data).toHaveLength(1000);
    expect(page.total).toBeGreaterThan(1000);
  });
});

describe('request and header deadlines', () => {
  let fast: RunningServer;
  let dir: string;
  const logs: string[] = [];
  let token: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rdadmin-limits-'));
    fast = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      log: (l) => logs.push(l),
      timeouts: { requestMs: 600, headersMs: 400 },
    });
    const r = await send(fast.url, {
      method: 'POST',
      path: '/api/login',
      body: JSON.stringify({ username: 'admin', password: 'test1234' }),
    });
    token = (JSON.parse(r.text) as { access_token: string }).access_token;
  });
  afterAll(async () => {
    await fast.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a client that sends the headers and never finishes the body is cut off with 408', async () => {
    const r = await rawExchange(
      fast.url,
      [
        `POST /api/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`,
      ],
      { maxMs: 5000 },
    );
    expectJsonError(r, 408, /did not arrive in time/);
    expect(r.headers['connection']).toBe('close');
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(500);
    expect(r.closedAfterMs).toBeLessThan(3000);
    // The route was reading the body when Node cut the request off: its log line says 408 as well.
    await expect
      .poll(() => logs.filter((l) => l.startsWith('POST /api/users ')))
      .toEqual([expect.stringMatching(/^POST \/api\/users 408 /)]);
  });

  it('a client that trickles its headers is cut off too', async () => {
    const parts = [
      'GET /api/users HTTP/1.1\r\n',
      ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: y\r\n`),
    ];
    const r = await rawExchange(fast.url, parts, { gapMs: 50, maxMs: 5000 });
    expectJsonError(r, 408, /did not arrive in time/);
    expect(r.closedAfterMs).toBeLessThan(3000);
  });

  it('the server keeps serving, and no internal error was logged', async () => {
    await stillServes(fast.url, token);
    expect(logs.filter((l) => l.includes('internal error'))).toEqual([]);
    expect(logs).toEqual(
      expect.arrayContaining([expect.stringMatching(/^client error 408: ERR_HTTP_REQUEST_TIMEOUT$/)]),
    );
  });

  it('the production defaults are 30 s for a request and 15 s for its headers, 10 s to finish at shutdown', async () => {
    const { DEFAULT_TIMEOUTS } = await import('../../src/server/serve');
    expect(DEFAULT_TIMEOUTS).toEqual({
      requestMs: 30_000,
      headersMs: 15_000,
      keepAliveMs: 65_000,
      shutdownGraceMs: 10_000,
    });
  });
});

describe('answers Node would give itself: {"error"} with security headers', () => {
  it('a request Node cannot parse → 400', async () => {
    const r = await rawExchange(s.url, ['GARBAGE / NOT-HTTP\r\n\r\n']);
    expectJsonError(r, 400, /malformed HTTP request/);
  });

  it('headers (or a URL) over 16 KiB → 431', async () => {
    const r = await rawExchange(s.url, [
      `GET /api/users?name=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]);
    expectJsonError(r, 431, /too large/);
  });

  it('a conflicting Content-Length and Transfer-Encoding (request smuggling) → 400', async () => {
    const r = await rawExchange(s.url, [
      'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ]);
    expectJsonError(r, 400, /malformed HTTP request/);
  });
});

describe('no internals in any answer, and security headers on every kind of answer', () => {
  it('success, 400, 401, 403, 404, 409, 413 and text answers all carry the headers and no internals', async () => {
    const ro = await s.makeToken('user:r');
    const cases: [string, Parameters<typeof send>[1], number][] = [
      ['200 JSON', { method: 'GET', path: '/api/openapi.json' }, 200],
      ['200 text', { method: 'POST', path: '/api/sysinfo_ver', body: '' }, 200],
      ['400', { method: 'POST', path: '/api/login', body: '{' }, 400],
      ['401', { method: 'GET', path: '/api/users' }, 401],
      [
        '403',
        { method: 'POST', path: '/api/users', headers: { authorization: `Bearer ${ro}` }, body: '{}' },
        403,
      ],
      ['404 route', { method: 'GET', path: '/nope' }, 404],
      ['404 method', { method: 'PATCH', path: '/api/login' }, 404],
      [
        '404 record',
        { method: 'GET', path: '/api/strategies/nope', headers: { authorization: `Bearer ${s.token}` } },
        404,
      ],
      [
        '409',
        {
          method: 'POST',
          path: '/api/users',
          headers: { authorization: `Bearer ${s.token}` },
          body: JSON.stringify({ name: 'admin', password: 'password123', group_name: 'Default' }),
        },
        409,
      ],
      ['413', { method: 'POST', path: '/api/login', body: 'x'.repeat(MAX_BODY_BYTES + 1) }, 413],
    ];
    for (const [what, req, status] of cases) {
      const r = await send(s.url, req);
      expect(r.status, what).toBe(status);
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(r.headers[k], `${k} on ${what}`).toBe(v);
      expect(leaks(r.text), what).toBeUndefined();
    }
  });

  it('an internal failure answers 500 {"error":"internal server error"}: the stack and SQL stay in the log', async () => {
    const t = await startTestServer();
    try {
      t.store.database.sqlite.exec('DROP TABLE strategies');
      const r = await send(t.url, {
        method: 'GET',
        path: '/api/strategies',
        headers: { authorization: `Bearer ${t.token}` },
      });
      expect(r.status).toBe(500);
      expect(JSON.parse(r.text)).toEqual({ error: 'internal server error' });
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(r.headers[k]).toBe(v);
      expect(leaks(r.text)).toBeUndefined();
      const logged = t.logs.find((l) => l.startsWith('internal error on GET /api/strategies'));
      expect(logged).toMatch(/no such table: strategies/);
      expect(leaks(logged!)).toBeDefined();
    } finally {
      await t.close();
    }
  });

  it('the leak detector recognises stack frames, SQL and SQLite errors', () => {
    expect(leaks('Error: x\n    at Object.<anonymous> (/app/src/server/x.ts:1:2)')).toBe('a stack frame');
    expect(leaks('SqliteError: SQLITE_CONSTRAINT')).toBe('SQLite');
    expect(leaks('near "SELECT": syntax error')).toBe('SQL text');
    expect(leaks('token expired at 2026-01-01; must be at most 100 characters')).toBeUndefined();
  });
});
