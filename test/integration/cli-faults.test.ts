import { readFileSync } from 'node:fs';
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, cli } from '../helpers/cli';
import { ROOT } from '../helpers/spawn';

// The CLI fault matrix (README "What you see when things go wrong", docs/reliability.md §5): for
// each way a server or the network can fail, the exact message a user sees and the exit code,
// end to end through the CLI against a real local server that misbehaves on purpose.

const TLS_DIR = join(ROOT, 'test', 'fixtures', 'tls');
const TOKEN = 'rdt_fault-matrix-token-0123456789';
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let handler: Handler;
let http: Server;
let https: Server;
let base: string;
let tlsBase: string;
let closed: string;
const sockets = new Set<Socket>();
const seen: string[] = [];

function listen(s: Server): Promise<string> {
  s.on('connection', (c: Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve(`${(s.address() as AddressInfo).port}`)),
  );
}

const USERS = [1, 2, 3, 4, 5, 6].map((i) => ({
  guid: `g${i}`,
  name: `u${i}`,
  status: 1,
  group_name: 'Default',
}));
const list = (n = 1) => JSON.stringify({ data: USERS.slice(0, n), total: n });

function json(status: number, body: string): Handler {
  return (_q, r) => {
    r.writeHead(status, { 'content-type': 'application/json' });
    r.end(body);
  };
}

beforeAll(async () => {
  http = createHttp((q, r) => {
    seen.push(`${q.method} ${q.url}`);
    handler(q, r);
  });
  base = `http://127.0.0.1:${await listen(http)}`;
  https = createHttps(
    { key: readFileSync(join(TLS_DIR, 'key.pem')), cert: readFileSync(join(TLS_DIR, 'cert.pem')) },
    (_q, r) => json(200, list())(_q, r),
  );
  tlsBase = `https://127.0.0.1:${await listen(https)}`;
  const spare = createHttp();
  closed = `http://127.0.0.1:${await listen(spare)}`;
  await new Promise((r) => spare.close(r));
});
beforeEach(() => {
  seen.length = 0;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => http.close(r));
  await new Promise((r) => https.close(r));
});

const view = (url: string, extra: string[] = []) =>
  cli(['users', 'view', '--url', url, '--timeout', '1', ...extra], { env: { RDADMIN_TOKEN: TOKEN } });

/** Exactly these stderr lines, this exit code, nothing on stdout, and never a stack trace. */
function expectFailure(r: CliRun, code: number, lines: string[]): void {
  expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
    code,
    stderr: `${lines.join('\n')}\n`,
    stdout: '',
  });
}

const HINT_NET = 'hint: check --url (or RDADMIN_URL / the profile) and that the server is running';
const HINT_PROXY = 'hint: is --url the RustDesk console (port 21114), and not a proxy or web page?';
const HINT_5XX = 'hint: the server (or a proxy in front of it) failed; check its log, then try again';

describe('what a user sees when things go wrong (users view)', () => {
  it('server unreachable (connection refused) → exit 5', async () => {
    expectFailure(await view(closed), 5, [`error: cannot reach ${closed}: connection refused`, HINT_NET]);
  });

  it('DNS failure (a name under the reserved .invalid TLD) → exit 5', async () => {
    expectFailure(await view('http://rdadmin-test.invalid:21114'), 5, [
      'error: cannot reach http://rdadmin-test.invalid:21114: host name not found',
      HINT_NET,
    ]);
  });

  it('TLS failure: a self-signed certificate without --ca or --insecure → exit 5; with either it works', async () => {
    expectFailure(await view(tlsBase), 5, [
      `error: TLS failure talking to ${tlsBase}: self-signed certificate`,
      'hint: for a self-signed or private CA, pass --ca FILE (PEM); --insecure skips verification (not recommended)',
    ]);
    const withCa = await view(tlsBase, ['--ca', join(TLS_DIR, 'cert.pem')]);
    expect([withCa.code, withCa.stdout, withCa.stderr]).toEqual([0, 'u1\t\tDefault\tenabled\tno\t\n', '']);
    const insecure = await view(tlsBase, ['--insecure']);
    expect([insecure.code, insecure.stdout, insecure.stderr]).toEqual([
      0,
      'u1\t\tDefault\tenabled\tno\t\n',
      '',
    ]);
  });

  it('timeout: the server accepts the request and never answers → exit 5', async () => {
    handler = () => {};
    expectFailure(await view(base), 5, [
      `error: no answer from ${base} within 1s`,
      'hint: raise --timeout SECONDS, or check that the server is not overloaded',
    ]);
  });

  it('connection reset in the middle of the answer → exit 5 (a read is retried twice first)', async () => {
    handler = (_q, r) => {
      r.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      r.write('{"data":[');
      setTimeout(() => r.socket?.destroy(), 10);
    };
    expectFailure(await view(base), 5, [
      `error: lost the connection to ${base} before the answer came: connection closed by the server`,
      'hint: the server (or a proxy in front of it) closed the connection; check its log, then try again',
    ]);
    expect(seen).toHaveLength(3);
  });

  it('a 5xx with {"error"} → exit 1, the server\'s message', async () => {
    handler = json(500, '{"error":"database is locked"}');
    expectFailure(await view(base), 1, ['error: database is locked (HTTP 500)', HINT_5XX]);
  });

  it('an HTML error page (a proxy in front of the server) → exit 1, its title', async () => {
    handler = (_q, r) => {
      r.writeHead(502, { 'content-type': 'text/html' });
      r.end('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>');
    };
    expectFailure(await view(base), 1, ['error: an HTML page: "502 Bad Gateway" (HTTP 502)', HINT_5XX]);
    handler = (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/html' });
      r.end('<!doctype html><html><title>Sign in</title></html>');
    };
    expectFailure(await view(base), 1, [
      'error: the server answered HTTP 200 with a body that is not JSON: an HTML page: "Sign in"',
      HINT_PROXY,
    ]);
  });

  it('an empty body where a listing was expected → exit 1, never "Found 0 users"', async () => {
    handler = (_q, r) => r.end();
    expectFailure(await view(base), 1, [
      'error: the server answered HTTP 200 with an empty body where data was expected',
      HINT_PROXY,
    ]);
    handler = (_q, r) => {
      r.writeHead(500);
      r.end();
    };
    expectFailure(await view(base), 1, ['error: empty body (HTTP 500)', HINT_5XX]);
  });

  it('a --json listing cut short by a failing page still ends its array (the rows so far); exit 1', async () => {
    handler = (q, r) =>
      /[?&]current=1(&|$)/.test(q.url ?? '')
        ? json(200, JSON.stringify({ data: USERS.slice(0, 3), total: 6 }))(q, r)
        : json(500, '{"error":"database is locked"}')(q, r);
    const r = await cli(['users', 'view', '--url', base, '--timeout', '1', '--json'], {
      env: { RDADMIN_TOKEN: TOKEN, RDADMIN_PAGE_SIZE: '3' },
    });
    expect([r.code, r.stderr]).toEqual([1, `error: database is locked (HTTP 500)\n${HINT_5XX}\n`]);
    expect((JSON.parse(r.stdout) as { name: string }[]).map((u) => u.name)).toEqual(['u1', 'u2', 'u3']);
  });

  it('{"error"} on a 200 (as Pro answers some refusals) → exit 1; its "Permission denied" → exit 4', async () => {
    handler = json(200, '{"error":"database is locked"}');
    expectFailure(await view(base), 1, ['error: database is locked']);
    handler = json(200, '{"error":"not allowed here: permission denied"}');
    expectFailure(await view(base), 1, ['error: not allowed here: permission denied']);
    for (const text of ['Permission denied', 'permission denied: user:r']) {
      handler = json(200, JSON.stringify({ error: text }));
      expectFailure(await view(base), 4, [
        `error: ${text}`,
        'hint: the server refused it for want of permission: an API token needs the permission of this area (given where the token was made: the web console, or `rdadmin tokens create --help`); a user session, the right in that area',
      ]);
    }
  });

  it('401 → exit 4', async () => {
    handler = json(401, '{"error":"invalid token"}');
    expectFailure(await view(base), 4, [
      'error: not authenticated: invalid token (HTTP 401)',
      'hint: check the token: --token-file, RDADMIN_TOKEN, or `rdadmin login`',
    ]);
  });

  it('403 → exit 4', async () => {
    handler = json(403, `{"error":"token 'ci' lacks permission user:r (it has user:none)"}`);
    expectFailure(await view(base), 4, [
      "error: permission denied: token 'ci' lacks permission user:r (it has user:none) (HTTP 403)",
      'hint: an API token needs the permission named above (`rdadmin tokens create --help`); a user session, the right in that area',
    ]);
  });

  it('404 → exit 1, with a hint about --url when the endpoint itself is missing', async () => {
    handler = json(404, '{"error":"no such endpoint: GET /api/users"}');
    expectFailure(await view(base), 1, [
      'error: no such endpoint: GET /api/users (HTTP 404)',
      'hint: check --url: it must be the RustDesk console (port 21114, with its path prefix if any); a server without this endpoint answers 404 too',
    ]);
    handler = (_q, r) => {
      r.writeHead(404, { 'content-type': 'text/html' });
      r.end('<html><title>404 Not Found</title></html>');
    };
    const page = await view(base);
    expect([page.code, page.stderr.split('\n')[0]]).toEqual([
      1,
      'error: an HTML page: "404 Not Found" (HTTP 404)',
    ]);
  });

  it('429 (the server asks to slow down): waited out and sent again; one warning, exit 0', async () => {
    let refused = 0;
    handler = (q, r) => {
      if (refused++ === 0) {
        r.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
        return r.end('{"error":"slow down"}');
      }
      return json(200, list(2))(q, r);
    };
    const r = await view(base);
    expect({ code: r.code, stdout: r.stdout.split('\n')[0], stderr: r.stderr }).toEqual({
      code: 0,
      stdout: 'u1\t\tDefault\tenabled\tno\t',
      stderr:
        'warning: the server asks to slow down (HTTP 429): waiting and trying again; a lower --concurrency (now 8) sends fewer requests at once\n',
    });
    expect(seen).toEqual(['GET /api/users?current=1&pageSize=100', 'GET /api/users?current=1&pageSize=100']);
  });

  it('429 asking for more than a minute → exit 1 at once, naming the wait', async () => {
    handler = (_q, r) => {
      r.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3600' });
      r.end('{"error":"slow down"}');
    };
    expectFailure(await view(base), 1, [
      'error: slow down (HTTP 429)',
      'hint: the server asks to wait 3600 s (about 1 h) before the next request',
    ]);
    expect(seen).toHaveLength(1);
  });

  it('--debug adds the request log and the stack; without it there is none, and never the token', async () => {
    handler = json(500, '{"error":"database is locked"}');
    const plain = await view(base);
    const debug = await view(base, ['--debug']);
    expect(plain.stderr).not.toMatch(/^\s+at /m);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^debug: → GET \/api\/users\?current=1&pageSize=100$/m);
    expect(debug.stderr).toMatch(/^debug: ← 500 GET \/api\/users \d+ms$/m);
    expect(debug.stderr).toMatch(/^ApiError: database is locked \(HTTP 500\)\n\s+at /m);
    expect(debug.stderr + debug.stdout).not.toContain(TOKEN);
  });
});

describe('bulk runs when the server misbehaves (users disable --yes)', () => {
  const disable = (extra: string[] = []) =>
    cli(
      [
        'users',
        'disable',
        '--name',
        'u',
        '--yes',
        '--url',
        base,
        '--timeout',
        '1',
        '--concurrency',
        '1',
        ...extra,
      ],
      {
        env: { RDADMIN_TOKEN: TOKEN },
      },
    );

  it('a request that gets no answer is reported NOT CONFIRMED, and the run goes on; exit 1', async () => {
    handler = (q, r) => {
      if (q.method === 'GET') return json(200, list(4))(q, r);
      if (q.url === '/api/users/g2/disable') return r.socket?.destroy(); // the answer is lost
      if (q.url === '/api/users/g3/disable') return; // never answered
      return json(200, '{}')(q, r);
    };
    const r = await disable();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Disabled u1\nDisabled u4\n');
    expect(r.stderr).toBe(
      [
        `NOT CONFIRMED: disable u2: outcome unknown, no answer from the server (lost the connection to ${base} before the answer came: connection closed by the server)`,
        `NOT CONFIRMED: disable u3: outcome unknown, no answer from the server (no answer from ${base} within 1s)`,
        'error: Disabled 2 of 4 users; 0 failed, 2 not confirmed (outcome unknown).',
        'hint: the targets marked NOT CONFIRMED may or may not have changed: check them, or run the same command again once the server answers (it selects its targets afresh)',
        '',
      ].join('\n'),
    );
    // POSTs are not retried: one request per target.
    expect(seen.filter((s) => s.startsWith('POST'))).toHaveLength(4);
  });

  it('once the server refuses connections, nothing new is started: the rest are not attempted; exit 1', async () => {
    let posts = 0;
    handler = (q, r) => {
      if (q.method === 'GET') return json(200, list(6))(q, r);
      posts++;
      if (posts === 3) {
        // The server goes away: this answer is lost and the next connection is refused.
        http.close();
        for (const s of sockets) s.destroy();
        return;
      }
      return json(200, '{}')(q, r);
    };
    const r = await disable(['--json']);
    await new Promise<void>((resolve) => http.listen(Number(new URL(base).port), '127.0.0.1', resolve));
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as { name: string; ok: boolean; outcome?: string; error?: string }[];
    expect(results.map((x) => [x.name, x.ok ? 'done' : x.outcome])).toEqual([
      ['u1', 'done'],
      ['u2', 'done'],
      ['u3', 'unknown'],
      ['u4', 'failed'],
      ['u5', 'not_attempted'],
      ['u6', 'not_attempted'],
    ]);
    expect(results[3]!.error).toBe(`not done: cannot reach ${base}: connection refused`);
    expect(results[4]!.error).toBe('not attempted: the run stopped on the server became unreachable');
    expect(r.stderr).toBe(
      [
        `error: Disabled 2 of 6 users; 1 failed, 1 not confirmed (outcome unknown), 2 not attempted. Stopped: cannot reach ${base}: connection refused`,
        'hint: the targets marked NOT CONFIRMED may or may not have changed: check them, or run the same command again once the server answers (it selects its targets afresh)',
        '',
      ].join('\n'),
    );
  });

  it('a server that answers 429 (Retry-After: 0) to each disable once: each is sent again and done; exit 0', async () => {
    const refused = new Set<string>();
    handler = (q, r) => {
      if (q.method === 'GET') return json(200, list(3))(q, r);
      if (!refused.has(q.url!)) {
        refused.add(q.url!);
        r.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
        return r.end('{"error":"slow down"}');
      }
      return json(200, '{}')(q, r);
    };
    const r = await disable(['--concurrency', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['Disabled u1', 'Disabled u2', 'Disabled u3']);
    expect(r.stderr).toBe(
      'warning: the server asks to slow down (HTTP 429): waiting and trying again; a lower --concurrency (now 3) sends fewer requests at once\nDisabled 3 users.\n',
    );
    expect(seen.filter((x) => x.startsWith('POST')).sort()).toEqual([
      'POST /api/users/g1/disable',
      'POST /api/users/g1/disable',
      'POST /api/users/g2/disable',
      'POST /api/users/g2/disable',
      'POST /api/users/g3/disable',
      'POST /api/users/g3/disable',
    ]);
  });

  it('a refusal by the server (4xx/5xx) is a plain failure: reported, and the run goes on', async () => {
    handler = (q, r) => {
      if (q.method === 'GET') return json(200, list(3))(q, r);
      if (q.url === '/api/users/g2/disable') return json(500, '{"error":"database is locked"}')(q, r);
      return json(200, '{}')(q, r);
    };
    const r = await disable();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Disabled u1\nDisabled u3\n');
    expect(r.stderr).toBe(
      'FAILED to disable u2: database is locked (HTTP 500)\nerror: Disabled 2 of 3 users; 1 failed.\n',
    );
  });
});

describe('bulk runs in batches when the server misbehaves (users disable --yes)', () => {
  const disable = (extra: string[] = []) =>
    cli(['users', 'disable', '--name', 'u', '--yes', '--url', base, '--timeout', '1', ...extra], {
      env: { RDADMIN_TOKEN: TOKEN },
    });
  /** Lists four users, saying (as rdadmin serve does with every answer) that it takes batches. */
  const takesBatches = (post: Handler): Handler => {
    return (q, r) => {
      if (q.method === 'GET') {
        r.writeHead(200, { 'content-type': 'application/json', 'x-rdadmin-batch': '100' });
        return r.end(list(4));
      }
      return post(q, r);
    };
  };
  const line = (status: number, body: string) => `${JSON.stringify({ status, body })}\n`;

  it('the connection breaks after two answers: those two are done, the other two NOT CONFIRMED; exit 1', async () => {
    handler = takesBatches((_q, r) => {
      r.writeHead(200, { 'content-type': 'application/x-ndjson' });
      r.write(line(200, '{}') + line(200, '{}'));
      setTimeout(() => r.socket?.destroy(), 50);
    });
    const r = await disable();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Disabled u1\nDisabled u2\n');
    expect(r.stderr).toBe(
      [
        `NOT CONFIRMED: disable u3: outcome unknown, no answer from the server (lost the connection to ${base} before the answer came: connection closed by the server)`,
        `NOT CONFIRMED: disable u4: outcome unknown, no answer from the server (lost the connection to ${base} before the answer came: connection closed by the server)`,
        'error: Disabled 2 of 4 users; 0 failed, 2 not confirmed (outcome unknown).',
        'hint: the targets marked NOT CONFIRMED may or may not have changed: check them, or run the same command again once the server answers (it selects its targets afresh)',
        '',
      ].join('\n'),
    );
    // The listing said the server takes batches: no need to ask; one batch for the four.
    expect(seen.filter((s) => s.includes('/api/rdadmin/batch'))).toEqual(['POST /api/rdadmin/batch']);
  });

  it('an answer that ends early is NOT CONFIRMED too; a refusal inside is that target failing alone', async () => {
    handler = takesBatches((_q, r) => {
      r.writeHead(200, { 'content-type': 'application/x-ndjson' });
      r.end(line(200, '{}') + line(404, '{"error":"user not found: g2"}') + line(200, '{}'));
    });
    const r = await disable(['--json']);
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as { name: string; ok: boolean; outcome?: string; error?: string }[];
    expect(results.map((x) => [x.name, x.ok ? 'done' : x.outcome, x.error])).toEqual([
      ['u1', 'done', undefined],
      ['u2', 'failed', 'user not found: g2 (HTTP 404)'],
      ['u3', 'done', undefined],
      [
        'u4',
        'unknown',
        'not confirmed (outcome unknown): no answer from the server (the server answered 3 of a batch of 4 requests, then stopped)',
      ],
    ]);
  });

  it('a batch refused whole (4xx) ran nothing: every target failed with its error, none unknown', async () => {
    handler = takesBatches(json(400, '{"error":"request body field \'requests\' is required"}'));
    const r = await disable(['--json']);
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as { ok: boolean; outcome?: string; error?: string }[];
    expect(results.map((x) => [x.outcome, x.error])).toEqual(
      Array(4).fill(['failed', "request body field 'requests' is required (HTTP 400)"]),
    );
  });

  it('an answer split inside a character between two chunks reads whole', async () => {
    handler = takesBatches((_q, r) => {
      r.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const text = Buffer.from(
        line(200, '{}') + line(409, '{"error":"déjà désactivé"}') + line(200, '{}') + line(200, '{}'),
      );
      const cut = text.indexOf(Buffer.from('é')) + 1; // between the two bytes of the first é
      r.write(text.subarray(0, cut));
      setTimeout(() => r.end(text.subarray(cut)), 30);
    });
    const r = await disable();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FAILED to disable u2: déjà désactivé (HTTP 409)\n');
  });

  it('a request the server takes only alone is sent again alone, and counts once', async () => {
    const refused =
      '{"error":"POST /api/users/g2/disable cannot be part of a batch: a batch holds admin API requests only"}';
    handler = takesBatches((q, r) => {
      if (q.url === '/api/users/g2/disable') return json(200, '{}')(q, r);
      r.writeHead(200, { 'content-type': 'application/x-ndjson' });
      r.end(line(200, '{}') + line(400, refused) + line(200, '{}') + line(200, '{}'));
    });
    const r = await disable();
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'Disabled u1',
      'Disabled u2',
      'Disabled u3',
      'Disabled u4',
    ]);
    expect(seen.filter((s) => s.startsWith('POST'))).toEqual([
      'POST /api/rdadmin/batch',
      'POST /api/users/g2/disable',
    ]);
  });

  it('a batch endpoint announced but missing (404): every call goes alone instead, and is done', async () => {
    handler = takesBatches((q, r) => {
      if (q.url === '/api/rdadmin/batch') return json(404, '{"error":"no such endpoint"}')(q, r);
      return json(200, '{}')(q, r);
    });
    const r = await disable();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'Disabled u1',
      'Disabled u2',
      'Disabled u3',
      'Disabled u4',
    ]);
    expect(seen.filter((s) => s.startsWith('POST')).sort()).toEqual([
      'POST /api/rdadmin/batch',
      'POST /api/users/g1/disable',
      'POST /api/users/g2/disable',
      'POST /api/users/g3/disable',
      'POST /api/users/g4/disable',
    ]);
  });

  it('a server whose answers do not say it takes batches (Pro) gets one request per target, unasked', async () => {
    handler = (q, r) => {
      if (q.method === 'GET') return json(200, list(3))(q, r);
      return json(200, '{}')(q, r);
    };
    const r = await disable();
    expect(r.code).toBe(0);
    expect(seen.filter((s) => s.startsWith('POST')).sort()).toEqual([
      'POST /api/users/g1/disable',
      'POST /api/users/g2/disable',
      'POST /api/users/g3/disable',
    ]);
    expect(seen.filter((s) => s.includes('/api/rdadmin/batch'))).toEqual([]);
  });
});
