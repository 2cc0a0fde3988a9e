import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// Verbs whose ONE request changes many targets (user-groups add-users, device-groups add-devices
// and remove-devices, strategies assign and unassign), when that request fails: every target it
// carried gets the outcome a bulk run gives a target whose own request failed so (README "A bulk
// report never claims more than it knows"). A real server behind a real proxy that misbehaves on
// the change request only: it answers 500 or 403 without passing it on, or passes it on and then
// drops the connection, so the server has carried it out but the answer is lost.

type Fault = 'drop' | 'refuse' | 'deny' | undefined;

let s: TestServer;
let proxy: Server;
let url: string;
let env: Record<string, string>;
let fault: Fault;
/** The change requests the proxy saw (method and path). */
let changes: string[];
const sockets = new Set<Socket>();

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

beforeEach(async () => {
  s = await startTestServer();
  fault = undefined;
  changes = [];
  proxy = createServer(async (req, res) => {
    const body = await bodyOf(req);
    // Reads and the batches of lookups pass; a change request meets the fault.
    const change = req.method !== 'GET' && !req.url!.startsWith('/api/rdadmin/batch');
    if (change) changes.push(`${req.method} ${req.url}`);
    if (change && fault === 'refuse') {
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end('{"error":"database is locked"}');
    }
    if (change && fault === 'deny') {
      res.writeHead(403, { 'content-type': 'application/json' });
      return void res.end(`{"error":"token 'ci' lacks permission user_group:rw (it has user_group:r)"}`);
    }
    const up = await fetch(`${s.url}${req.url}`, {
      method: req.method,
      headers: {
        authorization: req.headers.authorization ?? '',
        'content-type': req.headers['content-type'] ?? 'application/json',
      },
      ...(body.length ? { body } : {}),
    });
    const text = await up.text();
    // Carried out by the server; only the answer is lost.
    if (change && fault === 'drop') return void req.socket.destroy();
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'x-rdadmin-batch']) {
      const v = up.headers.get(h);
      if (v) headers[h] = v;
    }
    res.writeHead(up.status, headers);
    res.end(text);
  });
  proxy.on('connection', (c: Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  env = { RDADMIN_URL: url, RDADMIN_TOKEN: s.token };
});
afterEach(async () => {
  for (const c of sockets) c.destroy();
  await new Promise((r) => proxy.close(r));
  await s.close();
});

const LOST = () =>
  `not confirmed (outcome unknown): no answer from the server (lost the connection to ${url} before the answer came: connection closed by the server)`;
const RERUN =
  'hint: the targets marked NOT CONFIRMED may or may not have changed: check them, or run the same command again once the server answers (it selects its targets afresh)';
const groupOfUser = async (name: string) => (await s.store.users.getByName(name))!.group_name;

describe('user-groups add-users: one request moves every user', () => {
  const names = Array.from({ length: 30 }, (_, i) => `u${i + 1}`);
  beforeEach(async () => {
    await s.seedUsers(names);
    await s.store.users.createGroup('G2');
  });

  it('the answer is lost after the server moved all 30: each is NOT CONFIRMED (unknown), not "not attempted"; exit 1', async () => {
    fault = 'drop';
    const r = await cli(
      ['user-groups', 'add-users', '--name', 'G2', '--users', names.join(','), '--yes', '--json'],
      { env },
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual(
      names.map((name) => ({
        name,
        guid: expect.any(String),
        group: 'G2',
        ok: false,
        attempted: true,
        outcome: 'unknown',
        error: LOST(),
      })),
    );
    expect(r.stderr).toBe(
      `error: Added 0 of 30 users; 0 failed, 30 not confirmed (outcome unknown).\n${RERUN}\n`,
    );
    // One request was sent, and the server did move them all.
    expect(changes).toHaveLength(1);
    for (const n of names) expect(await groupOfUser(n)).toBe('G2');
  });

  it('in text mode: one NOT CONFIRMED line per user, then the summary and the hint', async () => {
    fault = 'drop';
    const r = await cli(['user-groups', 'add-users', '--name', 'G2', '--users', 'u1,u2,u3', '--yes'], {
      env,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const outcome = LOST().replace('not confirmed (outcome unknown): ', 'outcome unknown, ');
    expect(r.stderr).toBe(
      [
        `NOT CONFIRMED: add u1: ${outcome}`,
        `NOT CONFIRMED: add u2: ${outcome}`,
        `NOT CONFIRMED: add u3: ${outcome}`,
        'error: Added 0 of 3 users; 0 failed, 3 not confirmed (outcome unknown).',
        RERUN,
        '',
      ].join('\n'),
    );
  });

  it('a refused request (500): each user it carried failed with the error; a name not found and a user already in the group keep their lines; exit 1', async () => {
    fault = 'refuse';
    await s.adminOk('POST', `/api/user-groups/${(await s.store.users.getGroupByName('G2'))!.guid}`, [
      (await s.store.users.getByName('u3'))!.guid,
    ]);
    const users = ['user-groups', 'add-users', '--name', 'G2', '--users', 'u1,u2,ghost,u3', '--yes'];
    const r = await cli(users, { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("u3: already in 'G2'\n");
    expect(r.stderr).toBe(
      [
        'FAILED to add u1: database is locked (HTTP 500)',
        'FAILED to add u2: database is locked (HTTP 500)',
        "FAILED ghost: user 'ghost' not found",
        'error: Added 0 of 3 users; 3 failed.',
        '',
      ].join('\n'),
    );
    const json = await cli([...users, '--json'], { env });
    expect(json.code).toBe(1);
    const failed = {
      ok: false,
      attempted: true,
      outcome: 'failed',
      error: 'database is locked (HTTP 500)',
      status: 500,
    };
    expect(JSON.parse(json.stdout)).toEqual([
      { name: 'u1', guid: expect.any(String), group: 'G2', ...failed },
      { name: 'u2', guid: expect.any(String), group: 'G2', ...failed },
      { name: 'ghost', ok: false, error: "user 'ghost' not found" },
      { name: 'u3', guid: expect.any(String), group: 'G2', ok: true, previous_group: 'G2' },
    ]);
    expect(await groupOfUser('u1')).toBe('Default');
  });

  it('a 403 on the request: each user failed, the run stopped on it; exit 4', async () => {
    fault = 'deny';
    const r = await cli(['user-groups', 'add-users', '--name', 'G2', '--users', 'u1,u2', '--yes', '--json'], {
      env,
    });
    expect(r.code).toBe(4);
    const denied =
      "permission denied: token 'ci' lacks permission user_group:rw (it has user_group:r) (HTTP 403)";
    expect(
      (JSON.parse(r.stdout) as Record<string, unknown>[]).map((x) => [x['name'], x['outcome'], x['error']]),
    ).toEqual([
      ['u1', 'failed', denied],
      ['u2', 'failed', denied],
    ]);
    expect(r.stderr.split('\n')[0]).toBe(`error: Added 0 of 2 users; 2 failed. Stopped: ${denied}`);
  });
});

describe('device-groups add-devices / remove-devices: one request for every device', () => {
  const ids = ['111111111', '222222222', '333333333'];
  const groupOf = async (id: string) => (await s.store.devices.getById(id))?.device_group_name;
  beforeEach(async () => {
    await s.store.devices.createGroup('New');
    for (const id of ids) await s.store.devices.create(id, {});
  });

  it('add-devices: the answer is lost after the server did it → each device NOT CONFIRMED; exit 1', async () => {
    fault = 'drop';
    const r = await cli(
      ['device-groups', 'add-devices', '--name', 'New', '--ids', ids.join(','), '--yes', '--json'],
      {
        env,
      },
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual(
      ids.map((id) => ({
        group: 'New',
        id,
        action: 'add-devices',
        ok: false,
        attempted: true,
        outcome: 'unknown',
        error: LOST(),
      })),
    );
    expect(r.stderr).toBe(
      `error: Added 0 of 3 devices; 0 failed, 3 not confirmed (outcome unknown).\n${RERUN}\n`,
    );
    for (const id of ids) expect(await groupOf(id)).toBe('New');
  });

  it('remove-devices refused (500) → one FAILED line per device, the summary; exit 1', async () => {
    const g = (await s.store.devices.getGroupByName('New'))!.guid;
    await s.adminOk('POST', `/api/device-groups/${g}`, ids);
    fault = 'refuse';
    const r = await cli(
      ['device-groups', 'remove-devices', '--name', 'New', '--ids', ids.join(','), '--yes'],
      {
        env,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        ...ids.map((id) => `FAILED to remove ${id}: database is locked (HTTP 500)`),
        'error: Removed 0 of 3 devices; 3 failed.',
        '',
      ].join('\n'),
    );
    for (const id of ids) expect(await groupOf(id)).toBe('New');
    fault = 'drop';
    const lost = await cli(
      ['device-groups', 'remove-devices', '--name', 'New', '--ids', ids.join(','), '--yes', '--json'],
      { env },
    );
    expect(lost.code).toBe(1);
    expect(
      (JSON.parse(lost.stdout) as Record<string, unknown>[]).map((x) => [x['id'], x['action'], x['outcome']]),
    ).toEqual(ids.map((id) => [id, 'remove-devices', 'unknown']));
    for (const id of ids) expect(await groupOf(id)).toBeNull();
  });
});

describe('strategies assign / unassign: one request for every target', () => {
  beforeEach(async () => {
    await s.seedUsers(['mike']);
    await new SimClient(s.url, { id: '1849118658' }).heartbeat();
    await s.store.strategies.create('T', {});
  });
  const assign = ['strategies', 'assign', '--name', 'T', '--peers', '1849118658', '--users', 'mike', '--yes'];

  it('assign: the answer is lost after the server did it → each target NOT CONFIRMED; exit 1', async () => {
    fault = 'drop';
    const r = await cli(assign, { env });
    expect(r.code).toBe(1);
    const outcome = LOST().replace('not confirmed (outcome unknown): ', 'outcome unknown, ');
    expect(r.stderr).toBe(
      [
        `NOT CONFIRMED: assign device 1849118658: ${outcome}`,
        `NOT CONFIRMED: assign user mike: ${outcome}`,
        'error: Assigned 0 of 2 targets; 0 failed, 2 not confirmed (outcome unknown).',
        RERUN,
        '',
      ].join('\n'),
    );
    expect((await s.store.users.getByName('mike'))?.strategy_guid).toBe(
      (await s.store.strategies.getByName('T'))!.guid,
    );
  });

  it('unassign refused (500) → each target failed, with --json one entry per target; exit 1', async () => {
    fault = 'refuse';
    const r = await cli(
      ['strategies', 'unassign', '--peers', '1849118658', '--users', 'mike', '--yes', '--json'],
      {
        env,
      },
    );
    expect(r.code).toBe(1);
    const failed = {
      strategy: null,
      action: 'unassign',
      ok: false,
      attempted: true,
      outcome: 'failed',
      error: 'database is locked (HTTP 500)',
      status: 500,
    };
    expect(JSON.parse(r.stdout)).toEqual([
      { type: 'device', id: '1849118658', guid: expect.any(String), ...failed },
      { type: 'user', name: 'mike', guid: expect.any(String), ...failed },
    ]);
    expect(r.stderr).toBe('error: Unassigned 0 of 2 targets; 2 failed.\n');
  });
});
