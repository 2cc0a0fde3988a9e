import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// rdadmin against a server that is not rdadmin serve (Pro, or rdadmin serve behind a proxy that
// misbehaves). The proxy here forwards to a real rdadmin serve, hides what Pro does not have (the
// batch endpoint, rdadmin serve's header, its own endpoints: 404 {"error":"Not Found"}), and can
// answer a change with a gateway error after forwarding it, or with 429 and a long Retry-After.

type Fault = 'gateway-after' | 'slow-down' | undefined;

let s: TestServer;
let proxy: Server;
let url: string;
let fault: Fault;
const forwarded: string[] = [];

const SERVE_ONLY = [
  /^\/api\/rdadmin\//,
  /^\/api\/ab\/recycle/,
  /^\/api\/devices\/[^/]+\/(disconnect|reset-uuid)$/,
  /^\/api\/strategies\/effective/,
  /^\/api\/settings/,
  /^\/api\/tokens/,
];

function hidden(method: string, path: string): boolean {
  if (SERVE_ONLY.some((re) => re.test(path))) return true;
  // Pro lists, views, enables and assigns strategies; creating, changing and deleting them is ours.
  return (
    (method === 'POST' && path === '/api/strategies') ||
    ((method === 'PATCH' || method === 'DELETE') && /^\/api\/strategies\/[^/]+$/.test(path))
  );
}

beforeAll(async () => {
  s = await startTestServer();
  const target = new URL(s.url);
  proxy = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const method = req.method ?? 'GET';
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (hidden(method, path)) return json(404, { error: 'Not Found' });
    const change = method !== 'GET';
    if (change && fault === 'slow-down') return json(429, { error: 'slow down' }, { 'retry-after': '120' });
    forwarded.push(`${method} ${path}`);
    const up = request(
      { host: target.hostname, port: target.port, path: req.url, method, headers: req.headers },
      (answer) => {
        if (change && fault === 'gateway-after') {
          answer.resume();
          res.writeHead(504, { 'content-type': 'text/html' });
          res.end('<html><head><title>504 Gateway Time-out</title></head></html>');
          return;
        }
        const headers = { ...answer.headers };
        delete headers['x-rdadmin-batch'];
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => proxy.close(r));
  await s.close();
});
beforeEach(() => {
  fault = undefined;
  forwarded.length = 0;
});

const run = (args: string[], token = s.token) =>
  cli(args, { env: { RDADMIN_URL: url, RDADMIN_TOKEN: token } });

describe('bulk runs against a gateway and a server asking to slow down', () => {
  it('a 504 from a gateway after the change reached the server is NOT CONFIRMED, not failed', async () => {
    await s.seedUsers(['gw1', 'gw2', 'gw3'], { status: 0 });
    fault = 'gateway-after';
    const r = await run(['users', 'enable', '--name', 'gw', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const rows = JSON.parse(r.stdout) as { name: string; outcome: string; error: string }[];
    expect(rows.map((x) => [x.name, x.outcome]).sort()).toEqual([
      ['gw1', 'unknown'],
      ['gw2', 'unknown'],
      ['gw3', 'unknown'],
    ]);
    expect(rows[0]!.error).toMatch(/^not confirmed \(outcome unknown\): a gateway answered for the server/);
    expect(r.stderr).toContain('3 not confirmed (outcome unknown)');
    expect(r.stderr).toContain('may or may not have changed');
    // They were changed: "failed" would have been a lie.
    for (const n of ['gw1', 'gw2', 'gw3']) expect((await s.store.users.getByName(n))?.status).toBe(1);
  });

  it('a 429 asking to wait over a minute stops the run: the rest not attempted, the wait named', async () => {
    await s.seedUsers(
      Array.from({ length: 40 }, (_, i) => `sl${String(i).padStart(2, '0')}`),
      { status: 0 },
    );
    fault = 'slow-down';
    const r = await run(['users', 'enable', '--name', 'sl', '--yes', '--json', '--concurrency', '2']);
    expect(r.code, r.stderr).toBe(1);
    const rows = JSON.parse(r.stdout) as { outcome: string; error: string }[];
    expect(rows).toHaveLength(40);
    const failed = rows.filter((x) => x.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(rows.filter((x) => x.outcome === 'not_attempted').length).toBe(40 - failed.length);
    expect(rows.at(-1)!.error).toBe('not attempted: the run stopped on the server asking to slow down');
    expect(r.stderr).toContain('hint: the server asks to wait 120 s before the next request');
    expect(forwarded.filter((l) => l.startsWith('POST'))).toEqual([]);
  });
});

describe("rdadmin serve's own verbs against a server without them", () => {
  const notServe = /does not have it; it is rdadmin serve's own, and this server is not rdadmin serve/;

  it('say so once, before any change or dry-run claim, exit 1', async () => {
    const c = new SimClient(s.url, { id: '700000001', uuid: 'cHJvLWxpa2U=' });
    await c.heartbeat();
    await s.adminOk('POST', '/api/ab/shared/add', { name: 'Team' });
    for (const args of [
      ['devices', 'reset-uuid', '--id', '700000001', '--yes'],
      ['devices', 'disconnect', '--id', '700000001'],
      ['strategies', 'create', '--name', 'K2', '--option', 'enable-audio=N', '--dry-run'],
      ['strategies', 'update', '--name', 'Default', '--option', 'enable-audio=N'],
      ['strategies', 'delete', '--name', 'Default', '--yes'],
      ['strategies', 'effective', '--peer', '700000001'],
      ['ab', 'view-recycle', '--ab-name', 'Team'],
      ['ab', 'empty-recycle', '--ab-name', 'Team', '--dry-run'],
      ['tokens', 'list'],
    ]) {
      forwarded.length = 0;
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(notServe);
      expect(r.stderr).toContain('hint: do it in the Pro web console, or point --url at rdadmin serve');
      expect(r.stderr).not.toContain('Dry run: would');
      expect(
        forwarded.filter((l) => !l.startsWith('GET')),
        args.join(' '),
      ).toEqual([]);
    }
  });

  it('work as before against rdadmin serve itself', async () => {
    const r = await cli(['strategies', 'create', '--name', 'K3', '--dry-run'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("Dry run: would create strategy 'K3'");
  });
});
