import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { type RunningProxy, startProShapedProxy } from '../helpers/proxies';
import { freshNames, newSharedBook, rowsOf } from '../helpers/records';
import { startTestServer, type TestServer } from '../helpers/server';

// --if-exists on the delete verbs, against a real rdadmin serve over HTTP, through a small proxy
// that can act as Pro does: no rdadmin serve endpoints, no batch header, and every refusal answered
// 200 {"error"}. A teardown job's second run: what is already gone is reported and exit 0; without
// the flag it stays exit 1; a real refusal stays exit 1 with the flag too.

let s: TestServer;
let proxy: RunningProxy;
let url: string;
let pro = false;
/** An administrator's session: tokens revoke takes one, not an API token. */
let adminSession: string;

beforeAll(async () => {
  s = await startTestServer();
  adminSession = await s.login('admin', 'test1234');
  proxy = await startProShapedProxy(s.url, { pro: () => pro });
  url = proxy.url;
});
afterAll(async () => {
  await proxy.close();
  await s.close();
});
beforeEach(() => {
  pro = false;
});

const runAs = (args: string[], token = s.token) =>
  cli(args, { env: { RDADMIN_URL: url, RDADMIN_TOKEN: token } });
const json = (stdout: string) => JSON.parse(stdout) as unknown;

const fresh = freshNames();
/** Numbers fresh device IDs. */
let n = 0;
const get = (path: string, token = s.token) => rowsOf(s, path, token);
const newBook = () => newSharedBook(s, fresh('Book'));

/** One delete verb, set up for a record that exists. */
interface Fixture {
  /** The delete command (without --if-exists / --json / --dry-run). */
  args: string[];
  /** "User group 'x'": how the messages name it. */
  what: string;
  /** Whether the record is still there. */
  exists(): Promise<boolean>;
  /** The JSON of a run that finds it gone (--if-exists), checked against the verb's shape. */
  goneJson(j: unknown): void;
}

interface Case {
  verb: string;
  setup(): Promise<Fixture>;
  /** A verb of rdadmin serve's own (Pro has no such endpoint): not run as Pro. */
  serveOnly?: boolean;
  /** The verb takes an administrator's session, not an API token (tokens revoke). */
  session?: boolean;
}

/** A bulk verb's entry for a target already gone. */
const absentEntry = (id: Record<string, unknown>, dryRun = false) => ({
  ...id,
  action: 'delete',
  ok: true,
  attempted: false,
  outcome: 'absent',
  ...(dryRun ? { dry_run: true } : {}),
});

const cases: Case[] = [
  ...(['user-groups', 'device-groups'] as const).map(
    (area): Case => ({
      verb: `${area} delete`,
      async setup() {
        const name = fresh(area === 'user-groups' ? 'UG' : 'DG');
        await s.adminOk('POST', `/api/${area}`, { name });
        return {
          args: [area, 'delete', '--name', name],
          what: `${area === 'user-groups' ? 'User group' : 'Device group'} '${name}'`,
          exists: async () => (await get(`/api/${area}?pageSize=1000`)).some((g) => g['name'] === name),
          goneJson: (j) => expect(j).toEqual([absentEntry({ name })]),
        };
      },
    }),
  ),
  {
    verb: 'strategies delete',
    serveOnly: true,
    async setup() {
      const name = fresh('S');
      await s.adminOk('POST', '/api/strategies', { name, options: { 'enable-audio': 'N' } });
      return {
        args: ['strategies', 'delete', '--name', name, '--yes'],
        what: `Strategy '${name}'`,
        exists: async () => (await get('/api/strategies')).some((x) => x['name'] === name),
        goneJson: (j) => expect(j).toEqual({ name, guid: null, deleted: false, existed: false }),
      };
    },
  },
  {
    verb: 'ab delete-ab',
    async setup() {
      const book = await newBook();
      return {
        args: ['ab', 'delete-ab', '--ab-name', book.name],
        what: `Shared address book '${book.name}'`,
        exists: async () =>
          (await get('/api/ab/shared/profiles?pageSize=1000')).some((b) => b['name'] === book.name),
        goneJson: (j) => expect(j).toEqual([absentEntry({ name: book.name })]),
      };
    },
  },
  {
    verb: 'ab delete-ab --ab-guid',
    async setup() {
      const book = await newBook();
      return {
        args: ['ab', 'delete-ab', '--ab-guid', book.guid],
        what: `Shared address book ${book.guid}`,
        exists: async () =>
          (await get('/api/ab/shared/profiles?pageSize=1000')).some((b) => b['guid'] === book.guid),
        goneJson: (j) => expect(j).toEqual([absentEntry({ guid: book.guid, name: book.guid })]),
      };
    },
  },
  {
    verb: 'ab delete-peer',
    async setup() {
      const book = await newBook();
      const id = String(700000000 + ++n);
      await s.adminOk('POST', `/api/ab/peer/add/${book.guid}`, { id, alias: 'desk' });
      return {
        args: ['ab', 'delete-peer', '--ab-name', book.name, '--peer-id', id],
        what: `Peer '${id}' in address book '${book.name}'`,
        exists: async () =>
          (await get(`/api/ab/peers?ab=${book.guid}&pageSize=1000`)).some((p) => p['id'] === id),
        goneJson: (j) => expect(j).toEqual([absentEntry({ peer: id })]),
      };
    },
  },
  {
    verb: 'ab delete-tag',
    async setup() {
      const book = await newBook();
      const name = fresh('tag');
      await s.adminOk('POST', `/api/ab/tag/add/${book.guid}`, { name, color: 0xffff0000 });
      return {
        args: ['ab', 'delete-tag', '--ab-name', book.name, '--tag-name', name],
        what: `Tag '${name}' in address book '${book.name}'`,
        exists: async () => {
          const r = await s.call('GET', `/api/ab/tags/${book.guid}`, s.token);
          return (r.json as unknown as { name: string }[]).some((t) => t.name === name);
        },
        goneJson: (j) => expect(j).toEqual([absentEntry({ tag: name })]),
      };
    },
  },
  {
    verb: 'users delete --exact',
    async setup() {
      const name = fresh('gone');
      await s.seedUsers([name], { status: 0 });
      return {
        args: ['users', 'delete', '--name', name, '--exact', '--yes'],
        what: `User '${name}'`,
        exists: async () => (await s.store.users.getByName(name)) !== undefined,
        goneJson: (j) => expect(j).toEqual([absentEntry({ name })]),
      };
    },
  },
  {
    verb: 'devices delete --exact',
    async setup() {
      const id = String(800000000 + ++n);
      await new SimClient(s.url, { id }).heartbeat();
      const d = (await s.store.devices.getById(id))!;
      await s.store.devices.update([d.guid], { status: 0 });
      return {
        args: ['devices', 'delete', '--id', id, '--exact', '--yes'],
        what: `Device '${id}'`,
        exists: async () => (await s.store.devices.getById(id)) !== undefined,
        goneJson: (j) => expect(j).toEqual([absentEntry({ id })]),
      };
    },
  },
  {
    verb: 'tokens revoke',
    serveOnly: true,
    session: true,
    async setup() {
      const name = fresh('tok');
      await s.makeToken('user:r', { name });
      return {
        args: ['tokens', 'revoke', '--name', name],
        what: `Token '${name}'`,
        exists: async () => (await get('/api/tokens', adminSession)).some((t) => t['name'] === name),
        goneJson: (j) => expect(j).toEqual({ name, guid: null, revoked: false, existed: false }),
      };
    },
  },
];

const re = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(cases)('--if-exists: $verb', (c) => {
  const run = (args: string[]) => runAs(args, c.session ? adminSession : s.token);
  for (const asPro of c.serveOnly ? [false] : [false, true]) {
    const as = asPro ? ' (as Pro)' : '';
    it(`deletes, then a second run is exit 1 without the flag and exit 0 with it${as}`, async () => {
      pro = asPro;
      const f = await c.setup();
      const first = await run([...f.args, '--if-exists']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).not.toMatch(/is not there/);
      expect(await f.exists()).toBe(false);
      const plain = await run(f.args);
      expect(plain.code, plain.stderr).toBe(1);
      const again = await run([...f.args, '--if-exists']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(new RegExp(`${re(f.what)} is not there; nothing to (delete|revoke)\\.`));
      const j = await run([...f.args, '--if-exists', '--json']);
      expect(j.code, j.stderr).toBe(0);
      f.goneJson(json(j.stdout));
    });

    it(`--dry-run says what would be deleted and what is already gone${as}`, async () => {
      pro = asPro;
      const f = await c.setup();
      const would = await run([...f.args, '--if-exists', '--dry-run']);
      expect(would.code, would.stderr).toBe(0);
      expect(would.stderr).toMatch(/Dry run: would (delete|revoke)/);
      expect(would.stderr).not.toMatch(/is not there/);
      expect(await f.exists()).toBe(true);
      expect((await run([...f.args, '--yes'])).code).toBe(0);
      const gone = await run([...f.args, '--if-exists', '--dry-run']);
      expect(gone.code, gone.stderr).toBe(0);
      expect(gone.stderr).toMatch(new RegExp(`${re(f.what)} is not there; nothing to (delete|revoke)\\.`));
      const goneJson = await run([...f.args, '--if-exists', '--dry-run', '--json']);
      expect(goneJson.code, goneJson.stderr).toBe(0);
      const j = json(goneJson.stdout) as Record<string, unknown> | Record<string, unknown>[];
      if (Array.isArray(j)) expect(j.map((e) => [e['outcome'], e['dry_run']])).toEqual([['absent', true]]);
      else expect(j).toMatchObject({ existed: false, action: 'none', dry_run: true });
      const plain = await run([...f.args, '--dry-run']);
      expect(plain.code, plain.stderr).toBe(1);
    });
  }
});

describe('--if-exists: only "not there" is forgiven', () => {
  it('a group list with one gone and one there: deletes it, reports the other, exit 0 (--json)', async () => {
    const here = fresh('UG');
    const gone = fresh('UG');
    await s.adminOk('POST', '/api/user-groups', { name: here });
    const r = await runAs([
      'user-groups',
      'delete',
      '--name',
      `${gone},${here}`,
      '--yes',
      '--if-exists',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = json(r.stdout) as Record<string, unknown>[];
    expect(j[0]).toEqual(absentEntry({ name: gone }));
    expect(j[1]).toMatchObject({ name: here, action: 'delete', ok: true, attempted: true, outcome: 'done' });
    expect(r.stderr).toContain('Deleted 1 user group; 1 already gone.');
    const text = await runAs(['user-groups', 'delete', '--name', `${gone},${here}`, '--yes', '--if-exists']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain(
      'Nothing to delete: the 2 user groups named are already gone (--if-exists).',
    );
  });

  it('a user group that still has users is refused: exit 1 with the flag, the dry run too', async () => {
    const name = fresh('UG');
    await s.adminOk('POST', '/api/user-groups', { name });
    await s.seedUsers([fresh('member')], { group: name });
    const gone = fresh('UG');
    const dry = await runAs([
      'user-groups',
      'delete',
      '--name',
      `${name},${gone}`,
      '--if-exists',
      '--dry-run',
    ]);
    expect(dry.code, dry.stderr).toBe(1);
    expect(dry.stderr).toMatch(/still has 1 user/);
    expect(dry.stderr).toContain(`User group '${gone}' is not there; nothing to delete.`);
    const real = await runAs(['user-groups', 'delete', '--name', `${name},${gone}`, '--if-exists', '--yes']);
    expect(real.code, real.stderr).toBe(1);
    expect(real.stderr).toMatch(/Deleted 0 of 1 user groups; 1 already gone, 1 failed/);
  });

  it('an enabled user is refused: exit 1 with --exact --if-exists, the dry run too', async () => {
    const name = fresh('on');
    await s.seedUsers([name]);
    for (const extra of [['--dry-run'], ['--yes']]) {
      const r = await runAs(['users', 'delete', '--name', name, '--exact', '--if-exists', ...extra]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`user '${name}' is enabled: disable it first, then delete it`);
    }
  });

  it('an enabled device is refused: exit 1 with --exact --if-exists', async () => {
    const id = String(800000000 + ++n);
    await new SimClient(s.url, { id }).heartbeat();
    const r = await runAs(['devices', 'delete', '--id', id, '--exact', '--if-exists', '--yes']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('is enabled: disable it first');
  });

  it('a missing permission is still exit 4, not "already gone"', async () => {
    const token = await s.makeToken('device:r');
    const r = await runAs(['user-groups', 'delete', '--name', fresh('UG'), '--if-exists'], token);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).not.toMatch(/is not there/);
  });

  it('a book that is not there still fails delete-peer / delete-tag (only the items are forgiven)', async () => {
    for (const args of [
      ['ab', 'delete-peer', '--ab-name', 'NoSuchBook', '--peer-id', '1'],
      ['ab', 'delete-tag', '--ab-name', 'NoSuchBook', '--tag-name', 't'],
    ]) {
      const r = await runAs([...args, '--if-exists']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/address book 'NoSuchBook' not found/);
    }
  });

  it('users disable --exact --if-exists: a user already gone is exit 0 (the teardown before delete)', async () => {
    const name = fresh('leaver');
    await s.seedUsers([name]);
    const args = ['users', 'disable', '--name', name, '--exact', '--yes'];
    expect((await runAs([...args, '--if-exists'])).code).toBe(0);
    expect((await runAs(['users', 'delete', '--name', name, '--exact', '--yes', '--if-exists'])).code).toBe(
      0,
    );
    expect((await runAs(args)).code).toBe(1);
    const again = await runAs([...args, '--if-exists']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`User '${name}' is not there; nothing to disable.`);
    const j = await runAs([...args, '--if-exists', '--json']);
    expect(json(j.stdout)).toEqual([{ ...absentEntry({ name }), action: 'disable' }]);
  });

  it('users / devices delete --if-exists without --exact is a usage error (exit 2)', async () => {
    const u = await runAs(['users', 'delete', '--name', 'x', '--if-exists']);
    expect(u.code, u.stderr).toBe(2);
    expect(u.stderr).toMatch(/--if-exists needs --exact/);
    const d = await runAs(['devices', 'delete', '--id', '1', '--if-exists']);
    expect(d.code, d.stderr).toBe(2);
  });

  it('strategies delete / tokens revoke --json: "existed": true when the flag was given and it deleted', async () => {
    const name = fresh('S');
    await s.adminOk('POST', '/api/strategies', { name, options: {} });
    const r = await runAs(['strategies', 'delete', '--name', name, '--yes', '--if-exists', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ name, deleted: true, existed: true });
    const tok = fresh('tok');
    await s.makeToken('user:r', { name: tok });
    const t = await runAs(['tokens', 'revoke', '--name', tok, '--if-exists', '--json'], adminSession);
    expect(t.code, t.stderr).toBe(0);
    expect(json(t.stdout)).toMatchObject({ name: tok, revoked: true, existed: true });
    // Without the flag the shape is the one it always had.
    const tok2 = fresh('tok');
    await s.makeToken('user:r', { name: tok2 });
    const plain = await runAs(['tokens', 'revoke', '--name', tok2, '--json'], adminSession);
    expect(Object.keys(json(plain.stdout) as object).sort()).toEqual(['guid', 'name', 'revoked']);
  });

  it('the help of each verb names the flag with an example', async () => {
    for (const verb of [
      ['user-groups', 'delete'],
      ['device-groups', 'delete'],
      ['strategies', 'delete'],
      ['ab', 'delete-ab'],
      ['ab', 'delete-peer'],
      ['ab', 'delete-tag'],
      ['users', 'disable'],
      ['users', 'delete'],
      ['devices', 'delete'],
      ['tokens', 'revoke'],
    ]) {
      const h = await runAs([...verb, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout, verb.join(' ')).toMatch(/--if-exists\s+\S/);
      expect(h.stdout, verb.join(' ')).toMatch(new RegExp(`rdadmin ${verb.join(' ')} .*--if-exists`));
    }
  });
});
