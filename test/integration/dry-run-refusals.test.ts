import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simFleet } from '../../src/sim/rustdesk-client';
import { type CliOptions, cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// A dry run refuses what the real run would be refused (README, "--dry-run"): the verbs that
// change existing records check what the rows they list, or a cheap listing, already tell, and
// exit 1 with the server's words, as the real run does; what cannot be checked is said to be
// unchecked. Each refusal is run for real too, against the same rdadmin serve, to show they agree.
// Also: ab delete-peer / delete-tag with nothing there (one JSON document), and devices purge whose
// delete is refused after the disable went through (done in part, said so).

let s: TestServer;
let env: Record<string, string>;
let adminGuid: string;

/**
 * Requests that change something: not reads, nor POST /api/currentUser, nor a batch itself (the
 * requests it carries are logged one by one, `(batch) GET …`).
 */
function writes(): string[] {
  return s.logs.filter(
    (l) =>
      /^(\(batch\) )?(POST|PUT|DELETE|PATCH) /.test(l) &&
      !/POST \/api\/(login|currentUser|rdadmin\/batch) /.test(l),
  );
}

const run = (args: string[], o: CliOptions = {}) => cli(args, { env, ...o });

/** Runs a dry run: it must send no change. */
async function dry(args: string[]) {
  const before = writes().length;
  const r = await run([...args, '--dry-run']);
  expect(writes().slice(before), args.join(' ')).toEqual([]);
  return r;
}

beforeAll(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
  adminGuid = (await s.store.users.getByName('admin'))!.guid;
  await s.seedUsers(['bob', 'carl']);
  await s.seedUsers(['gone-1', 'gone-2'], { status: 0 });
  await s.seedUsers(['sam', 'sue'], { group: 'Sales' });
  await s.store.users.createGroup('Empty');
  await s.store.devices.createGroup('Lab');
  await s.store.strategies.create('Servers', {});
  const fleet = simFleet(s.url, 3, (i) => ({ hostname: ['pc-a', 'pc-b', 'pc-c'][i] }));
  for (const c of fleet) await c.heartbeat();
  // 100000002 is disabled: it may be deleted.
  await s.store.devices.update([(await s.store.devices.getById('100000002'))!.guid], { status: 0 });
});
afterAll(async () => {
  await s.close();
});

describe('users delete / devices delete --dry-run: an enabled record must be disabled first', () => {
  it('users: one enabled user is refused with the real run’s words, exit 1; a disabled one passes', async () => {
    const r = await dry(['users', 'delete', '--name', 'bob', '--exact']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('bob\n');
    expect(r.stderr).toBe(
      "Dry run: would delete 1 user; nothing was changed.\nerror: the real run would fail for bob: user 'bob' is enabled: disable it first, then delete it\n",
    );
    const real = await run(['users', 'delete', '--name', 'bob', '--exact']);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain("user 'bob' is enabled: disable it first, then delete it");
    const ok = await dry(['users', 'delete', '--name', 'gone-1', '--exact']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('Dry run: would delete 1 user; nothing was changed.\n');
    expect(await s.store.users.getByName('gone-1')).toBeDefined();
  });

  it('users: several matches name each refused one; --json marks them, one document', async () => {
    const r = await dry(['users', 'delete', '--name', '%']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "  would fail: bob: user 'bob' is enabled: disable it first, then delete it\n",
    );
    expect(r.stderr).not.toContain('would fail: gone-1');
    expect(r.stderr).toContain('error: the real run would fail for 5 of the 7 users (named above)');
    const j = await dry(['users', 'delete', '--name', 'b%', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual([
      {
        guid: (await s.store.users.getByName('bob'))!.guid,
        name: 'bob',
        action: 'delete',
        dry_run: true,
        ok: false,
        error: "user 'bob' is enabled: disable it first, then delete it",
      },
    ]);
    const fine = await dry(['users', 'delete', '--name', 'gone', '--json']);
    expect(fine.code).toBe(0);
    expect((JSON.parse(fine.stdout) as Record<string, unknown>[]).map((x) => [x['name'], x['ok']])).toEqual([
      ['gone-1', undefined],
      ['gone-2', undefined],
    ]);
  });

  it('devices: an enabled device is refused, a disabled one passes', async () => {
    const r = await dry(['devices', 'delete', '--id', '100000000', '--exact']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: the real run would fail for 100000000 (pc-a): device 100000000 is enabled: disable it first, then delete it',
    );
    const real = await run(['devices', 'delete', '--id', '100000000', '--exact']);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain('device 100000000 is enabled: disable it first, then delete it');
    const ok = await dry(['devices', 'delete', '--id', '100000002', '--exact']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await s.store.devices.getById('100000002')).toBeDefined();
  });
});

describe('devices assign --dry-run: what --assign_to names must exist', () => {
  it.each([
    ['user_name=nosuch', "user 'nosuch' does not exist"],
    ['user_name=Bob', "user 'Bob' does not exist"],
    ['strategy_name=NoStrat', "strategy 'NoStrat' does not exist"],
    ['device_group_name=NoDG', "device group 'NoDG' does not exist"],
    ['ab=NoBook,tag', "shared address book 'NoBook' does not exist"],
  ])('%s is refused, as the real run is', async (assign, words) => {
    const args = ['devices', 'assign', '--id', '100000001', '--exact', '--assign_to', assign];
    const r = await dry(args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error: ${words} (--assign_to`);
    const real = await run(args);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain(words);
  });

  it('existing names, and clearing, pass', async () => {
    await s.store.addressBooks.createShared({ name: 'Team', ownerGuid: adminGuid });
    for (const assign of [
      'user_name=bob',
      'user_name=',
      'strategy_name=Servers',
      'strategy_name=-',
      'device_group_name=Lab',
      'ab=Team,tag',
      'note=anything',
    ]) {
      const r = await dry(['devices', 'assign', '--id', '100000001', '--exact', '--assign_to', assign]);
      expect([assign, r.code, r.stderr]).toEqual([
        assign,
        0,
        'Dry run: would assign 1 device; nothing was changed.\n',
      ]);
    }
  });

  it('a filter that matches nothing is no refusal (the real run sends nothing either)', async () => {
    const r = await dry([
      'devices',
      'assign',
      '--device_name',
      'no-such-device',
      '--assign_to',
      'user_name=nosuch',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Found 0 devices');
  });
});

describe('user-groups delete --dry-run', () => {
  it('Default, and a group that still has users, are refused; an empty group passes', async () => {
    const deflt = await dry(['user-groups', 'delete', '--name', 'Default']);
    expect(deflt.code).toBe(1);
    expect(deflt.stderr).toContain(
      "error: the real run would fail for Default: the 'Default' user group cannot be deleted",
    );
    const sales = await dry(['user-groups', 'delete', '--name', 'Sales']);
    expect(sales.code).toBe(1);
    expect(sales.stderr).toContain(
      "error: the real run would fail for Sales: user group 'Sales' still has 2 users: move them to another group first",
    );
    const real = await run(['user-groups', 'delete', '--name', 'Sales']);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain("user group 'Sales' still has 2 users: move them to another group first");
    const empty = await dry(['user-groups', 'delete', '--name', 'Empty']);
    expect(empty.code, empty.stderr).toBe(0);
    const all = await dry(['user-groups', 'delete', '--name', 'Default,Sales,Empty', '--json']);
    expect(all.code).toBe(1);
    expect((JSON.parse(all.stdout) as Record<string, unknown>[]).map((g) => [g['name'], g['ok']])).toEqual([
      ['Default', false],
      ['Sales', false],
      ['Empty', undefined],
    ]);
    expect(all.stderr).toContain('error: the real run would fail for 2 of the 3 user groups (named above)');
    expect(await s.store.users.getGroupByName('Empty')).toBeDefined();
  });
});

describe('ab --dry-run: tags, rules and books are checked as the server checks them', () => {
  let book: { guid: string; name: string };
  beforeAll(async () => {
    const guid = await s.store.addressBooks.createShared({ name: 'Desk', ownerGuid: adminGuid });
    book = { guid, name: 'Desk' };
    const ref = { guid, label: 'Desk' };
    for (const t of ['t1', 't3']) await s.store.addressBooks.addTag(ref, t, 0xff00ff00);
    const bob = (await s.store.users.getByName('bob'))!;
    await s.store.addressBooks.addRule(guid, { userGuid: bob.guid, groupGuid: null }, 1);
    const sales = (await s.store.users.getGroupByName('Sales'))!;
    await s.store.addressBooks.addRule(guid, { userGuid: null, groupGuid: sales.guid }, 2);
  });
  const ab = (args: string[]) => dry(['ab', ...args, '--ab-name', 'Desk']);

  it('add-tag of a tag the book has; update-tag of one it lacks; a new name already taken', async () => {
    for (const [args, words] of [
      [['add-tag', '--tag-name', 't1'], "tag 't1' already exists in address book 'Desk'"],
      [
        ['add-tag', '--tag-name', 't1', '--tag-color', 'red'],
        "tag 't1' already exists in address book 'Desk'",
      ],
      [
        ['update-tag', '--tag-name', 'nosuch', '--tag-color', 'red'],
        "tag 'nosuch' is not in address book 'Desk'",
      ],
      [
        ['update-tag', '--tag-name', 't3', '--new-name', 't1'],
        "tag 't1' already exists in address book 'Desk'",
      ],
      [
        ['rename-tag', '--tag-name', 't3', '--new-name', 't1'],
        "tag 't1' already exists in address book 'Desk'",
      ],
      [
        ['rename-tag', '--tag-name', 'nosuch', '--new-name', 't9'],
        "tag 'nosuch' is not in address book 'Desk'",
      ],
    ] as const) {
      const r = await ab([...args]);
      expect([args.join(' '), r.code, r.stderr.split('\n')[0]]).toEqual([
        args.join(' '),
        1,
        `error: ${words}`,
      ]);
      const real = await run(['ab', ...args, '--ab-name', 'Desk']);
      expect([args.join(' '), real.code]).toEqual([args.join(' '), 1]);
      expect(real.stderr).toContain(words);
    }
    expect((await s.store.addressBooks.listTags(book.guid)).map((t) => t.name)).toEqual(['t1', 't3']);
    for (const args of [
      ['add-tag', '--tag-name', 't2'],
      ['update-tag', '--tag-name', 't3', '--tag-color', 'red', '--new-name', 't4'],
      ['rename-tag', '--tag-name', 't3', '--new-name', 't3'],
    ]) {
      const r = await ab(args);
      expect([args.join(' '), r.code, r.stderr]).toEqual([
        args.join(' '),
        0,
        expect.stringContaining('Dry run: would'),
      ]);
    }
  });

  it('add-rule: an unknown user or group, a target with a rule, the owner', async () => {
    for (const [args, words] of [
      [['--rule-user', 'nosuch'], "user 'nosuch' does not exist"],
      [['--rule-group', 'NoG'], "user group 'NoG' does not exist"],
      [['--rule-user', 'bob'], 'a rule for this target already exists (rule '],
      [['--rule-group', 'Sales'], 'a rule for this target already exists (rule '],
      [['--rule-user', 'admin'], "user 'admin' owns address book 'Desk' and always has full control"],
    ] as const) {
      const r = await ab(['add-rule', ...args, '--rule-permission', 'rw']);
      expect([args.join(' '), r.code, r.stderr.split('\n')[0]]).toEqual([
        args.join(' '),
        1,
        expect.stringContaining(`error: ${words}`),
      ]);
      const real = await run(['ab', 'add-rule', ...args, '--rule-permission', 'rw', '--ab-name', 'Desk']);
      expect([args.join(' '), real.code]).toEqual([args.join(' '), 1]);
      expect(real.stderr).toContain(words);
    }
    for (const args of [
      ['--rule-user', 'carl'],
      ['--rule-group', 'Empty'],
      ['--rule-type', 'everyone'],
    ]) {
      const r = await ab(['add-rule', ...args, '--rule-permission', 'ro']);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 0]);
    }
    // A second "everyone" rule is refused too.
    await s.store.addressBooks.addRule(book.guid, { userGuid: null, groupGuid: null }, 1);
    const everyone = await ab(['add-rule', '--rule-type', 'everyone', '--rule-permission', 'ro']);
    expect(everyone.code).toBe(1);
    expect(everyone.stderr).toContain('a rule for this target already exists');
  });

  it('update-rule / delete-rule by GUID alone: the dry run says the rule was not checked', async () => {
    const up = await dry(['ab', 'update-rule', '--rule-guid', 'nosuch', '--rule-permission', 'rw', '--json']);
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout)).toEqual({ action: 'set rule nosuch to rw', dry_run: true, checked: false });
    expect(up.stderr).toContain('warning: not checked: that the rule exists');
    const del = await dry(['ab', 'delete-rule', '--rule-guid', 'nosuch']);
    expect(del.code).toBe(0);
    expect(del.stderr).toContain('Dry run: would delete 1 rule; nothing was changed.');
    expect(del.stderr).toContain('warning: not checked: that the rule exists');
    const delJson = await dry(['ab', 'delete-rule', '--rule-guid', 'nosuch', '--json']);
    expect(JSON.parse(delJson.stdout)).toEqual([
      { rule: 'nosuch', checked: false, action: 'delete', dry_run: true },
    ]);
  });

  it('update-ab / delete-ab with a GUID that is no shared book', async () => {
    const up = await dry(['ab', 'update-ab', '--ab-guid', 'nosuch', '--note', 'x']);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('error: address book not found: nosuch');
    const real = await run(['ab', 'update-ab', '--ab-guid', 'nosuch', '--note', 'x']);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain('address book not found: nosuch');
    expect((await dry(['ab', 'update-ab', '--ab-guid', book.guid, '--note', 'x'])).code).toBe(0);
    const del = await dry(['ab', 'delete-ab', '--ab-guid', `nosuch,${book.guid}`, '--json']);
    expect(del.code).toBe(1);
    expect(JSON.parse(del.stdout)).toEqual([
      {
        guid: 'nosuch',
        name: 'nosuch',
        action: 'delete',
        dry_run: true,
        ok: false,
        error: 'address book not found: nosuch',
      },
      { guid: book.guid, name: book.guid, action: 'delete', dry_run: true },
    ]);
    expect((await dry(['ab', 'delete-ab', '--ab-guid', book.guid])).code).toBe(0);
    expect(await s.store.addressBooks.getByGuid(book.guid)).toBeDefined();
  });
});

describe('ab delete-peer / delete-tag when nothing named is in the book', () => {
  let guid: string;
  beforeAll(async () => {
    guid = await s.store.addressBooks.createShared({ name: 'Empty book', ownerGuid: adminGuid });
    await s.store.addressBooks.addPeer({ guid, label: 'Empty book' }, '111', {});
  });

  it('--json prints one document; the peer is not attempted; no "Found 0"', async () => {
    const before = writes().length;
    const r = await run(['ab', 'delete-peer', '--ab-name', 'Empty book', '--peer-id', '999', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        peer: '999',
        action: 'delete',
        ok: false,
        attempted: false,
        outcome: 'failed',
        error: "peer 999: not in address book 'Empty book'",
      },
    ]);
    expect(r.stderr).toBe(
      "warning: not in address book 'Empty book': 999 (nothing is sent for it)\nerror: nothing to delete: peer 999 is not in address book 'Empty book'\n",
    );
    const two = await run(['ab', 'delete-peer', '--ab-name', 'Empty book', '--peer-id', '998,999']);
    expect(two.code).toBe(1);
    expect(two.stdout).toBe('');
    expect(two.stderr).toContain(
      "error: nothing to delete: the 2 peers named are not in address book 'Empty book'",
    );
    const tag = await run(['ab', 'delete-tag', '--ab-name', 'Empty book', '--tag-name', 'nosuch', '--json']);
    expect(tag.code).toBe(1);
    expect(JSON.parse(tag.stdout)).toMatchObject([{ tag: 'nosuch', ok: false, attempted: false }]);
    expect(tag.stderr).not.toContain('Found 0');
    const dryTag = await run([
      'ab',
      'delete-tag',
      '--ab-name',
      'Empty book',
      '--tag-name',
      'nosuch',
      '--json',
      '--dry-run',
    ]);
    expect(dryTag.code).toBe(1);
    expect(JSON.parse(dryTag.stdout)).toMatchObject([{ tag: 'nosuch', attempted: false, dry_run: true }]);
    expect(writes().slice(before)).toEqual([]);
  });

  it('with some named there: those are deleted, the absent ones are failed and not attempted', async () => {
    await s.store.addressBooks.addPeer({ guid, label: 'Empty book' }, '222', {});
    const r = await run([
      'ab',
      'delete-peer',
      '--ab-name',
      'Empty book',
      '--peer-id',
      '222,997',
      '--yes',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        peer: '997',
        action: 'delete',
        ok: false,
        attempted: false,
        outcome: 'failed',
        error: "peer 997: not in address book 'Empty book'",
      },
      { peer: '222', action: 'delete', ok: true, attempted: true, outcome: 'done' },
    ]);
  });
});

// A proxy in front of rdadmin serve that answers as Pro does where this needs it: no batches, errors
// as HTTP 200 {"error"}, rows without rdadmin serve's counts. `refuseDeletes` refuses every device
// delete the way Pro refuses one (an online device cannot be deleted).
describe('behind a Pro-like proxy', () => {
  let proxy: Server;
  let url: string;
  let refuseDeletes = false;
  let p: TestServer;
  let penv: Record<string, string>;

  beforeEach(async () => {
    refuseDeletes = false;
    p = await startTestServer();
    const target = new URL(p.url);
    proxy = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (refuseDeletes && req.method === 'DELETE' && path.startsWith('/api/devices/')) {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'the device is online: it cannot be deleted' }));
        return;
      }
      const up = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        async (answer) => {
          const chunks: Buffer[] = [];
          for await (const c of answer) chunks.push(c as Buffer);
          let body = Buffer.concat(chunks).toString();
          if (req.method === 'GET' && path === '/api/user-groups')
            body = body.replace(/"user_count":\d+,?/g, '').replace(/,}/g, '}');
          const { 'x-rdadmin-batch': _, 'content-length': __, ...headers } = answer.headers;
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(body);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    penv = { RDADMIN_URL: url, RDADMIN_TOKEN: p.token };
  });
  afterEach(async () => {
    await new Promise((r) => proxy.close(r));
    await p.close();
  });

  it('user-groups delete --dry-run counts the users when the rows carry no count', async () => {
    await p.seedUsers(['u1', 'u2', 'u3'], { group: 'Ops' });
    await p.store.users.createGroup('Ops2');
    const rows = await cli(['user-groups', 'view', '--json'], { env: penv });
    expect(rows.stdout).not.toContain('user_count');
    const r = await cli(['user-groups', 'delete', '--name', 'Ops', '--dry-run'], { env: penv });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("user group 'Ops' still has 3 users");
    const empty = await cli(['user-groups', 'delete', '--name', 'Ops2', '--dry-run'], { env: penv });
    expect(empty.code, empty.stderr).toBe(0);
  });

  it('devices purge: a delete refused after the disable went through is said to be disabled, not deleted', async () => {
    const fleet = simFleet(p.url, 3, (i) => ({ hostname: ['old-a', 'old-b', 'old-c'][i] }));
    for (const c of fleet) await c.heartbeat();
    const old = new Date(Date.now() - 90 * 86_400_000).toISOString();
    p.store.database.sqlite.prepare('UPDATE devices SET last_online = ?').run(old);
    // One was disabled already: its refused delete is a plain failure (this run changed nothing).
    await p.store.devices.update([(await p.store.devices.getById('100000002'))!.guid], { status: 0 });
    refuseDeletes = true;
    const r = await cli(['devices', 'purge', '--offline_days', '60', '--yes', '--concurrency', '1'], {
      env: penv,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'FAILED to purge 100000000 (old-a): disabled, not deleted: the device is online: it cannot be deleted',
    );
    expect(r.stderr).toContain(
      'FAILED to purge 100000002 (old-c): the device is online: it cannot be deleted',
    );
    expect(r.stderr).toContain(
      'error: Purged 0 of 3 devices; 3 failed. 2 of them were disabled but not deleted.',
    );
    for (const id of ['100000000', '100000001', '100000002'])
      expect((await p.store.devices.getById(id))?.status).toBe(0);
    const json = await cli(['devices', 'purge', '--offline_days', '60', '--yes', '--json'], { env: penv });
    expect(json.code).toBe(1);
    // All three are disabled now: this run disabled none of them.
    expect((JSON.parse(json.stdout) as Record<string, unknown>[]).map((d) => d['disabled'])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    await p.store.devices.update([(await p.store.devices.getById('100000001'))!.guid], { status: 1 });
    const one = await cli(
      ['devices', 'purge', '--offline_days', '60', '--id', '100000001', '--yes', '--json'],
      {
        env: penv,
      },
    );
    expect(one.code).toBe(1);
    expect(JSON.parse(one.stdout)).toEqual([
      {
        guid: (await p.store.devices.getById('100000001'))!.guid,
        id: '100000001',
        disabled: true,
        action: 'purge',
        ok: false,
        attempted: true,
        outcome: 'failed',
        error: 'disabled, not deleted: the device is online: it cannot be deleted',
        status: 200,
      },
    ]);
    expect(one.stderr).toContain('Purged 0 of 1 devices; 1 failed. 1 of them was disabled but not deleted.');
    refuseDeletes = false;
    const rerun = await cli(['devices', 'purge', '--offline_days', '60', '--yes'], { env: penv });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('Purged 3 devices.');
  });
});
