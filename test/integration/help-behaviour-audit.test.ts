import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliOptions, cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// What the help and the README promise, held against the CLI on a real server: an audit found
// each of these doing something else (confirmation skipped for a whole recycle bin of one, a
// force-logout cutting its own session mid-run, `\,` ignored by --tags, dry runs approving what the
// real run refuses, help naming flags that are refused or do not exist, fractional counts taken).

let s: TestServer;
let env: Record<string, string>;
const run = (args: string[], o: CliOptions = {}) => cli(args, { env, ...o });

beforeAll(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
});
afterAll(async () => {
  await s.close();
});

let books = 0;
/** A shared book owned by admin, with the peers given. */
async function book(peers: string[] = []) {
  const name = `Audit ${++books}`;
  const adminGuid = (await s.store.users.getByName('admin'))!.guid;
  const guid = await s.store.addressBooks.createShared({ name, ownerGuid: adminGuid });
  const ref = { guid, label: name };
  for (const id of peers) await s.store.addressBooks.addPeer(ref, id, {});
  return { name, guid, ref };
}
const inBin = async (guid: string) =>
  (await s.store.addressBooks.listRecycled(guid, 0, 100)).rows.map((p) => p.id).sort();

describe('ab empty-recycle: the whole bin is always confirmed, even one peer', () => {
  it('one peer in the bin, no --peer-id: listed and refused without a terminal (exit 3), kept', async () => {
    const b = await book(['700']);
    await s.store.addressBooks.deletePeers(b.ref, ['700']);
    const r = await run(['ab', 'empty-recycle', '--ab-name', b.name]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      `Found 1 peer:\n  peer 700 from the recycle bin of address book '${b.name}'\n`,
    );
    expect(r.stderr).toContain(
      'emptying the whole bin deletes it for good; confirmation is needed and there is no terminal to ask',
    );
    expect(await inBin(b.guid)).toEqual(['700']);
    // Asked on a terminal; declined changes nothing.
    const no = await run(['ab', 'empty-recycle', '--ab-name', b.name], { tty: true, answer: false });
    expect(no).toMatchObject({ code: 3, asked: ['Delete for good 1 peer?'] });
    expect(await inBin(b.guid)).toEqual(['700']);
    const yes = await run(['ab', 'empty-recycle', '--ab-name', b.name, '--yes']);
    expect(yes.code, yes.stderr).toBe(0);
    expect(await inBin(b.guid)).toEqual([]);
  });

  it('--peer-id naming one peer exactly is the usual rule: no question', async () => {
    const b = await book(['701', '702']);
    await s.store.addressBooks.deletePeers(b.ref, ['701', '702']);
    const r = await run(['ab', 'empty-recycle', '--ab-name', b.name, '--peer-id', '701']);
    expect(r.code, r.stderr).toBe(0);
    expect(await inBin(b.guid)).toEqual(['702']);
  });
});

describe("users force-logout with an administrator's session among the targets", () => {
  beforeAll(async () => {
    await s.seedUsers(['fl-ann', 'fl-bob']);
    // Another administrator: a request of its own, as the caller's account is.
    const { hashPassword } = await import('../../src/server/crypto');
    await s.store.users.create({
      name: 'fl-root',
      password_hash: await hashPassword('password123'),
      group_guid: (await s.store.users.getGroupByName('Default'))!.guid,
      status: 1,
      is_admin: true,
    });
  });

  it('logs the own account out last, counts it, and says the session has ended', async () => {
    const session = await s.login('admin', 'test1234');
    const others = await Promise.all(['fl-ann', 'fl-root'].map((u) => s.login(u, 'password123')));
    const r = await cli(['users', 'force-logout', '--name', '%', '--yes'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: session },
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('Logged out admin');
    expect(lines).toEqual(
      expect.arrayContaining(['Logged out fl-ann', 'Logged out fl-bob', 'Logged out fl-root']),
    );
    expect(r.stderr).toContain(
      "warning: admin is the account of this command's own session, so it was logged out last: this session has ended too",
    );
    expect(r.stderr).toContain(`Logged out ${lines.length} users.`);
    expect(r.stderr).not.toContain('FAILED');
    // Every session is gone, the caller's too.
    for (const t of [session, ...others])
      expect((await s.call('POST', '/api/currentUser', t, {})).status).toBe(401);
  });

  it('with an API token nothing is reordered and nothing is said about a session', async () => {
    const r = await run(['users', 'force-logout', '--name', 'fl-', '--yes']);
    expect(r.stderr).not.toContain('own session');
    // The token may not change the other administrator: that one fails, the rest are done.
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Logged out fl-ann');
  });
});

describe("ab add-peer / update-peer --tags: '\\,' is a comma inside a tag", () => {
  it('stores p,q as one tag; the bracket forms of ab.py still work', async () => {
    const b = await book();
    const add = await run(['ab', 'add-peer', '--ab-name', b.name, '--peer-id', '800', '--tags', 'p\\,q,z']);
    expect(add.code, add.stderr).toBe(0);
    expect((await s.store.addressBooks.getPeer(b.guid, '800'))!.tags).toEqual(['p,q', 'z']);
    for (const [tags, stored] of [
      ['[a\\,b, c]', ['a,b', 'c']],
      ['[x, y]', ['x', 'y']],
    ] as const) {
      const upd = await run(['ab', 'update-peer', '--ab-name', b.name, '--peer-id', '800', '--tags', tags]);
      expect(upd.code, upd.stderr).toBe(0);
      expect((await s.store.addressBooks.getPeer(b.guid, '800'))!.tags).toEqual(stored);
    }
  });
});

describe('group member dry runs refuse what the real run refuses, and count only what changes', () => {
  const groupOf = async (id: string) => (await s.store.devices.getById(id))?.device_group_name ?? null;
  beforeAll(async () => {
    await s.store.devices.createGroup('DProd');
    await s.store.devices.createGroup('DOld');
    const prod = (await s.store.devices.getGroupByName('DProd'))!.guid;
    const old = (await s.store.devices.getGroupByName('DOld'))!.guid;
    await s.store.devices.create('900000001', { device_group_guid: prod });
    await s.store.devices.create('900000002', { device_group_guid: prod });
    await s.store.devices.create('900000003', { device_group_guid: old });
    await s.store.devices.create('900000004', { device_group_guid: null });
  });
  const dg = (verb: string, ids: string, ...rest: string[]) =>
    run(['device-groups', verb, '--name', 'DProd', '--ids', ids, ...rest]);

  it('add-devices --dry-run of an unknown ID: exit 1 naming it, as the real run', async () => {
    const dry = await dg('add-devices', '999', '--dry-run');
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain('device not found: 999; nothing was changed');
    expect(dry.stderr).not.toContain('would add');
    const real = await dg('add-devices', '999', '--yes');
    expect(real.code).toBe(1);
  });

  it('remove-devices --dry-run: a device not in the group, or unknown, is exit 1', async () => {
    const unknown = await dg('remove-devices', '900000001,999', '--dry-run');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('device not found: 999; nothing was changed');
    const outside = await dg('remove-devices', '900000001,900000003', '--dry-run');
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain(
      "not in device group 'DProd': 900000003 (in 'DOld'); nothing was changed",
    );
    const real = await dg('remove-devices', '900000001,900000003', '--yes');
    expect(real.code).toBe(1);
    const ok = await dg('remove-devices', '900000001,900000002', '--dry-run');
    expect(ok).toMatchObject({ code: 0, stdout: '900000001\n900000002\n' });
    expect(ok.stderr).toContain("Dry run: would remove 2 device(s) from 'DProd'; nothing was changed.");
    expect(await groupOf('900000001')).toBe('DProd');
  });

  it('add-devices --dry-run counts only the devices that would change (text and --json)', async () => {
    const dry = await dg('add-devices', '900000001,900000002,900000003', '--dry-run');
    expect(dry).toMatchObject({ code: 0, stdout: '900000003\n' });
    expect(dry.stderr).toContain("900000003 would move from 'DOld'");
    expect(dry.stderr).toContain("900000001: already in 'DProd'");
    expect(dry.stderr).toContain(
      "Dry run: would add 1 device(s) to 'DProd' (2 already in it); nothing was changed.",
    );
    const json = await dg('add-devices', '900000001,900000003,900000004', '--dry-run', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      group: 'DProd',
      action: 'add-devices',
      ids: ['900000001', '900000003', '900000004'],
      added: 2,
      moved: [{ id: '900000003', from: 'DOld' }],
      unchanged: ['900000001'],
      dry_run: true,
    });
    expect(await groupOf('900000003')).toBe('DOld');
  });

  it('the confirmation counts only what would change', async () => {
    // Both already in the group: nothing to confirm, nothing changes.
    const none = await dg('add-devices', '900000001,900000002');
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toContain("Added 0 device(s) to device group 'DProd' (2 already in it).");
    // Two of three would change: those two are listed and confirmed.
    const two = await dg('add-devices', '900000001,900000003,900000004');
    expect(two.code).toBe(3);
    expect(two.stderr).toContain('Found 2 devices:\n  900000003\n  900000004\n');
    expect(two.stderr).toContain('this changes 2 devices; confirmation is needed');
    const asked = await dg('add-devices', '900000001,900000003,900000004', '--no-color');
    expect(asked.code).toBe(3);
    const tty = await run(
      ['device-groups', 'add-devices', '--name', 'DProd', '--ids', '900000001,900000003,900000004'],
      {
        tty: true,
        answer: false,
      },
    );
    expect(tty).toMatchObject({ code: 3, asked: ["Put 2 devices into 'DProd'?"] });
    expect(await groupOf('900000003')).toBe('DOld');
  });

  it('user-groups add-users --dry-run with an unknown name: exit 1, as the real run', async () => {
    await s.seedUsers(['dr-bob']);
    await s.store.users.createGroup('DrSales');
    const dry = await run([
      'user-groups',
      'add-users',
      '--name',
      'DrSales',
      '--users',
      'zzz,dr-bob',
      '--dry-run',
    ]);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain("FAILED zzz: user 'zzz' not found");
    expect(dry.stderr).toContain("Dry run: would add 1 user(s) to 'DrSales'; nothing was changed.");
    expect(dry.stderr).toContain('error: 1 not found (zzz): the real run would fail for it');
    expect((await s.store.users.getByName('dr-bob'))!.group_guid).toBe(
      (await s.store.users.getGroupByName('Default'))!.guid,
    );
  });
});

describe('rule verbs and the recycle bin: the help says what the server does', () => {
  it('add-rule / view-rule refuse --personal up front (exit 2) and do not list it', async () => {
    for (const args of [
      ['ab', 'view-rule', '--personal'],
      ['ab', 'add-rule', '--personal', '--rule-type', 'everyone', '--rule-permission', 'ro'],
    ]) {
      const r = await run(args);
      expect([args[1], r.code]).toEqual([args[1], 2]);
      expect(r.stderr).toContain(`${args[1]} works on shared address books only, not on the personal one`);
      const help = await run([args[0]!, args[1]!, '--help']);
      expect(help.stdout).not.toMatch(/^\s+--personal\b/m);
    }
  });

  it('view-recycle --help says who may list a bin, and an address_book:r token may', async () => {
    const help = await run(['ab', 'view-recycle', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      'a user whose permission on the shared book is read/write or full control (read-only is refused, 403); with an API token, address_book:r is enough',
    );
    const b = await book(['710']);
    await s.store.addressBooks.deletePeers(b.ref, ['710']);
    const reader = await s.makeToken('address_book:r');
    const r = await cli(['ab', 'view-recycle', '--ab-name', b.name], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: reader },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('710');
  });
});

describe('counts are whole numbers, wherever they come from', () => {
  it('--concurrency, RDADMIN_CONCURRENCY and RDADMIN_PAGE_SIZE refuse fractions (exit 2)', async () => {
    for (const [args, extra, what] of [
      [['--concurrency', '1.5'], {}, "--concurrency must be a whole number from 1 to 64 (got '1.5')"],
      [
        [],
        { RDADMIN_CONCURRENCY: '2.5' },
        "RDADMIN_CONCURRENCY must be a whole number from 1 to 64 (got '2.5')",
      ],
      [
        [],
        { RDADMIN_PAGE_SIZE: '2.5' },
        "RDADMIN_PAGE_SIZE must be a whole number from 1 to 1000 (got '2.5')",
      ],
    ] as [string[], Record<string, string>, string][]) {
      const r = await cli(['users', 'view', ...args], { env: { ...env, ...extra } });
      expect([what, r.code]).toEqual([what, 2]);
      expect(r.stderr).toContain(what);
    }
    const ok = await cli(['users', 'view', '--concurrency', '4', '--name', 'admin'], {
      env: { ...env, RDADMIN_PAGE_SIZE: '7' },
    });
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('help and hints name the flags that exist', () => {
  it("devices disconnect --conn x: the hint names audits view-conn's --remote", async () => {
    const r = await run(['devices', 'disconnect', '--id', '1', '--conn', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "hint: connection ids are the CONN column of 'rdadmin audits view-conn --remote ID'",
    );
    const flags = await run(['audits', 'view-conn', '--help']);
    expect(flags.stdout).toMatch(/--remote <peer_id>/);
  });

  it('devices purge --help says --offline_days is required', async () => {
    const help = (await run(['devices', 'purge', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--offline_days N (1 or more) is required');
    expect(help).toMatch(/--offline-days <days> required:/);
    const r = await run(['devices', 'purge', '--device_name', 'x']);
    expect(r).toMatchObject({ code: 2 });
    expect(r.stderr).toContain('purge needs --offline_days N (1 or more)');
  });

  it("users help says '_' matches any one character, and names --exact", async () => {
    await s.seedUsers(['build_bot', 'buildXbot']);
    for (const args of [
      ['users', '--help'],
      ['users', 'view', '--help'],
      ['users', 'disable', '--help'],
    ]) {
      const help = (await run(args)).stdout.replace(/\s+/g, ' ');
      expect(help, args.join(' ')).toMatch(/'_' (in a value )?matches any one character/);
      expect(help, args.join(' ')).toContain('--exact');
    }
    // What the help says: build_bot finds buildXbot too; --exact finds build_bot alone.
    const like = await run(['users', 'view', '--name', 'build_bot']);
    expect(
      like.stdout
        .split('\n')
        .map((l) => l.split('\t')[0])
        .filter(Boolean)
        .sort(),
    ).toEqual(['buildXbot', 'build_bot']);
    const exact = await run(['users', 'view', '--name', 'build_bot', '--exact']);
    expect(exact.stdout.split('\t')[0]).toBe('build_bot');
  });
});

describe('group create and update dry runs: readable text, a complete --json document', () => {
  beforeAll(async () => {
    await s.store.users.createGroup('DrAdmins');
  });

  it('user-groups add --dry-run', async () => {
    const r = await run(['user-groups', 'add', '--name', 'DrFoo', '--note', 'the foo team', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      "Dry run: would create user group 'DrFoo'; nothing was changed.\n  name: DrFoo\n  note: the foo team\n  accessed from: (nobody)\n  access to: (nothing)\n",
    );
    const json = await run([
      'user-groups',
      'add',
      '--name',
      'DrFoo',
      '--accessed-from',
      'user-group:DrAdmins',
      '--dry-run',
      '--json',
    ]);
    expect(JSON.parse(json.stdout)).toEqual({
      name: 'DrFoo',
      note: '',
      allowed_incomings: [{ type: 0, name: 'DrAdmins' }],
      allowed_outgoings: [],
      action: 'add',
      dry_run: true,
    });
    expect(await s.store.users.getGroupByName('DrFoo')).toBeUndefined();
  });

  it('device-groups update --dry-run shows the group as it would be, rules included', async () => {
    const add = await run([
      'device-groups',
      'add',
      '--name',
      'DrLab',
      '--note',
      'old',
      '--accessed-from',
      'user-group:DrAdmins',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const r = await run(['device-groups', 'update', '--name', 'DrLab', '--note', 'x', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      "Dry run: would update device group 'DrLab' (note changes); nothing was changed.\n  name: DrLab (unchanged)\n  note: x\n  accessed from: user-group:DrAdmins (unchanged)\n",
    );
    expect(r.stderr).not.toContain('{');
    const json = await run([
      'device-groups',
      'update',
      '--name',
      'DrLab',
      '--note',
      'x',
      '--dry-run',
      '--json',
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: 'DrLab',
      changes: { note: 'x' },
      group: { name: 'DrLab', note: 'x', allowed_incomings: [{ type: 0, name: 'DrAdmins' }] },
      dry_run: true,
    });
    const view = await run(['device-groups', 'view', '--name', 'DrLab', '--json']);
    expect(JSON.parse(view.stdout)[0].note).toBe('old');
  });
});
