import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// --exact asks for the escaped name (`build\_bot`), so `_` and `%` match only themselves. A server
// whose LIKE has no escape character reads `\` as a backslash and finds nothing: --exact must then
// ask again with the raw name (a pattern that matches itself) and keep the exact matches, as the
// group and user lookups do, instead of reporting "Found 0" and exiting 0 with nothing done.
// Such a server is played by a proxy in front of rdadmin serve that answers an empty page to a
// listing whose filter holds a backslash (no name here holds one).

let s: TestServer;
let proxy: Server;
let env: Record<string, string>;
const filtered: string[] = [];

beforeAll(async () => {
  s = await startTestServer();
  await s.seedUsers(['build_bot', 'buildXbot', 'support_lead']);
  for (const [id, name] of [
    ['100000001', 'SRV_DB_01'],
    ['100000002', 'SRVXDBX01'],
  ] as const) {
    const c = new SimClient(s.url, { id, uuid: Buffer.from(id).toString('base64'), hostname: name });
    await c.heartbeat();
    await c.sysinfo();
  }
  const target = new URL(s.url);
  proxy = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const list = req.method === 'GET' && /^\/api\/(users|devices)$/.test(url.pathname);
    if (list && [...url.searchParams.values()].some((v) => v.includes('\\'))) {
      filtered.push(decodeURIComponent(url.search));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: [], total: 0 }));
      return;
    }
    const up = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  env = { RDADMIN_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, RDADMIN_TOKEN: s.token };
});
afterAll(async () => {
  await new Promise((r) => proxy.close(r));
  await s.close();
});

describe('--exact against a server that ignores \\ escapes', () => {
  it('users view and a changing verb find the exact name (and only it)', async () => {
    filtered.length = 0;
    const view = await cli(['users', 'view', '--name', 'build_bot', '--exact', '--json'], { env });
    expect(view.code, view.stderr).toBe(0);
    expect((JSON.parse(view.stdout) as { name: string }[]).map((u) => u.name)).toEqual(['build_bot']);
    expect(filtered.length).toBeGreaterThan(0); // the escaped ask really found nothing
    const off = await cli(['users', 'disable', '--name', 'support_lead', '--exact', '--yes'], { env });
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toContain('Disabled support_lead');
    expect((await s.store.users.getByName('support_lead'))?.status).toBe(0);
    expect((await s.store.users.getByName('build_bot'))?.status).not.toBe(0);
  });

  it('devices view and a changing verb find the exact device name', async () => {
    const view = await cli(['devices', 'view', '--device_name', 'SRV_DB_01', '--exact', '--json'], { env });
    expect(view.code, view.stderr).toBe(0);
    expect((JSON.parse(view.stdout) as { id: string }[]).map((d) => d.id)).toEqual(['100000001']);
    const off = await cli(['devices', 'disable', '--device_name', 'SRV_DB_01', '--exact', '--yes'], { env });
    expect(off.code, off.stderr).toBe(0);
    const rows = JSON.parse(
      (await cli(['devices', 'view', '--device_name', 'SRV', '--json'], { env })).stdout,
    ) as { id: string; status: number }[];
    expect(rows.map((d) => [d.id, d.status]).sort()).toEqual([
      ['100000001', 0],
      ['100000002', 1],
    ]);
  });
});
