import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { type RunningProxy, startProShapedProxy } from '../helpers/proxies';
import { freshNames, newSharedBook, rowsOf } from '../helpers/records';
import { startTestServer, type TestServer } from '../helpers/server';

// --if-not-exists on the create verbs, against a real rdadmin serve over HTTP, through a small
// proxy in front of it. The proxy can make a record on the server just before it forwards the
// create that would make it (another job winning the race between rdadmin's lookup and its
// create), refuse a create without making anything, and act as Pro does: no batch endpoint nor
// rdadmin serve's header, and every refusal answered 200 {"error"}.

let s: TestServer;
let proxy: RunningProxy;
let url: string;
/** Answer as Pro does (see above). */
let pro = false;
/** What the proxy does to the next request that matches (once). */
let hook:
  | {
      method: string;
      path: RegExp;
      /** Runs first: makes the record on the server (the other job). */
      before?: () => Promise<void>;
      /** Answers this instead of forwarding (the server never sees the request). */
      refuse?: { status: number; error: string };
    }
  | undefined;
let hooked = 0;

beforeAll(async () => {
  s = await startTestServer();
  proxy = await startProShapedProxy(s.url, {
    pro: () => pro,
    async before(method, path) {
      const h = hook;
      if (!h || h.method !== method || !h.path.test(path)) return undefined;
      hook = undefined;
      hooked++;
      await h.before?.();
      return h.refuse ? { status: pro ? 200 : h.refuse.status, json: { error: h.refuse.error } } : undefined;
    },
  });
  url = proxy.url;
  await s.adminOk('POST', '/api/user-groups', { name: 'Other' });
});
afterAll(async () => {
  await proxy.close();
  await s.close();
});
beforeEach(() => {
  pro = false;
  hook = undefined;
  hooked = 0;
});

// stdin holds a password for the verbs that read one (--password-stdin); the others leave it.
const run = (args: string[]) =>
  cli(args, { env: { RDADMIN_URL: url, RDADMIN_TOKEN: s.token }, stdin: 'password123\n' });

const fresh = freshNames();
/** Numbers fresh device IDs. */
let n = 0;
const get = (path: string, token = s.token) => rowsOf(s, path, token);
const newBook = () => newSharedBook(s, fresh('Book'));

/** One create verb: how to run it for a record named by `key`, and what to check. */
interface Case {
  verb: string;
  /** Per test: sets up what the verb needs (a book, a user), and returns the record's identity. */
  setup(): Promise<Fixture>;
  /** strategies create is rdadmin serve's own: Pro has no such endpoint. */
  serveOnly?: boolean;
}

interface Fixture {
  /** The create command line (without --if-not-exists / --json / --dry-run). */
  args: string[];
  /** The same identity, another value for an attribute the create takes. */
  differing: string[];
  /** The warning the differing run prints. */
  warns: RegExp;
  /** The identity in the create's --json: a GUID where the record has one. */
  id(json: Record<string, unknown>): unknown;
  /** How many records with this identity the server holds. */
  count(): Promise<number>;
  /** Makes the record on the server, as another job would. */
  make(): Promise<void>;
  /** The create request the proxy sees. */
  create: { method: string; path: RegExp };
  /** "User 'x'": the start of the messages. */
  what: string;
  /** A command that fails for a real reason (exit 1), with what its error says. */
  failing: { args: string[]; error: RegExp };
}

const cases: Case[] = [
  {
    verb: 'users new',
    async setup() {
      const name = fresh('u');
      return {
        args: ['users', 'new', '--name', name, '--password-stdin', '--group_name', 'Default'],
        differing: ['users', 'new', '--name', name, '--password-stdin', '--group_name', 'Other'],
        warns: new RegExp(
          `warning: User '${name}' already exists with group 'Default', not 'Other' as given: it was not changed \\(--if-not-exists\\); to change it: rdadmin user-groups add-users --name Other --users '${name}'`,
        ),
        id: (j) => j['guid'],
        count: async () => (await get(`/api/users?pageSize=1000`)).filter((u) => u['name'] === name).length,
        make: () => s.adminOk('POST', '/api/users', { name, password: 'password123', group_name: 'Default' }),
        create: { method: 'POST', path: /^\/api\/users$/ },
        what: `User '${name}'`,
        failing: {
          args: ['users', 'new', '--name', name, '--password-stdin', '--group_name', 'NoSuchGroup'],
          error: /NoSuchGroup/,
        },
      };
    },
  },
  ...(['user-groups', 'device-groups'] as const).map(
    (area): Case => ({
      verb: `${area} add`,
      async setup() {
        const name = fresh(area === 'user-groups' ? 'UG' : 'DG');
        const path = `/api/${area}`;
        const one = area === 'user-groups' ? 'User group' : 'Device group';
        return {
          args: [area, 'add', '--name', name, '--note', 'first'],
          differing: [area, 'add', '--name', name, '--note', 'second'],
          warns: new RegExp(
            `warning: ${one} '${name}' already exists with note 'first', not 'second' as given: it was not changed \\(--if-not-exists\\); to change it: rdadmin ${area} update --name '${name}' --note`,
          ),
          id: (j) => j['guid'],
          count: async () => (await get(`${path}?pageSize=1000`)).filter((g) => g['name'] === name).length,
          make: () => s.adminOk('POST', path, { name, note: 'first' }),
          create: { method: 'POST', path: new RegExp(`^${path}$`) },
          what: `${one} '${name}'`,
          failing: {
            args: [area, 'add', '--name', name, '--accessed-from', 'user-group:NoSuchGroup'],
            error: /NoSuchGroup/,
          },
        };
      },
    }),
  ),
  {
    verb: 'strategies create',
    serveOnly: true,
    async setup() {
      const name = fresh('S');
      const all = async () => (await get('/api/strategies')).filter((x) => x['name'] === name);
      return {
        args: ['strategies', 'create', '--name', name, '--option', 'enable-audio=N'],
        differing: ['strategies', 'create', '--name', name, '--option', 'enable-audio=Y'],
        warns: new RegExp(
          `warning: Strategy '${name}' already exists with other options than given \\(enable-audio differ\\): it was not changed \\(--if-not-exists\\); to change it: rdadmin strategies update --name '${name}' --option enable-audio=Y`,
        ),
        id: (j) => j['guid'],
        count: async () => (await all()).length,
        make: () => s.adminOk('POST', '/api/strategies', { name, options: { 'enable-audio': 'N' } }),
        create: { method: 'POST', path: /^\/api\/strategies$/ },
        what: `Strategy '${name}'`,
        // A refusal the server makes of its own: another job's strategy of that name, created
        // with other letters' case... none here; see the refusals below.
        failing: {
          args: ['strategies', 'create', '--name', name, '--option', 'enable-audio=N'],
          error: /refused by the test/,
        },
      };
    },
  },
  {
    verb: 'ab add-ab',
    async setup() {
      const name = fresh('AB');
      return {
        args: ['ab', 'add-ab', '--ab-name', name, '--note', 'first'],
        differing: ['ab', 'add-ab', '--ab-name', name, '--note', 'second'],
        warns: new RegExp(
          `warning: Shared address book '${name}' already exists with note 'first', not 'second' as given: it was not changed \\(--if-not-exists\\); to change it: rdadmin ab update-ab --ab-guid \\S+ --note`,
        ),
        id: (j) => j['guid'],
        count: async () =>
          (await get('/api/ab/shared/profiles?pageSize=1000')).filter((b) => b['name'] === name).length,
        make: () => s.adminOk('POST', '/api/ab/shared/add', { name, note: 'first' }),
        create: { method: 'POST', path: /^\/api\/ab\/shared\/add$/ },
        what: `Shared address book '${name}'`,
        failing: { args: ['ab', 'add-ab', '--ab-name', name], error: /refused by the test/ },
      };
    },
  },
  {
    verb: 'ab add-peer',
    async setup() {
      const book = await newBook();
      const id = String(700000000 + ++n);
      return {
        args: ['ab', 'add-peer', '--ab-name', book.name, '--peer-id', id, '--alias', 'desk'],
        differing: ['ab', 'add-peer', '--ab-name', book.name, '--peer-id', id, '--alias', 'lab'],
        warns: new RegExp(
          `warning: Peer '${id}' in address book '${book.name}' already exists with alias 'desk', not 'lab' as given: it was not changed \\(--if-not-exists\\); to change it: rdadmin ab update-peer --ab-name '${book.name}' --peer-id ${id} --alias`,
        ),
        id: (j) => `${j['ab']}/${j['id']}`,
        count: async () =>
          (await get(`/api/ab/peers?ab=${book.guid}&pageSize=1000`)).filter((p) => p['id'] === id).length,
        make: () => s.adminOk('POST', `/api/ab/peer/add/${book.guid}`, { id, alias: 'desk' }),
        create: { method: 'POST', path: /^\/api\/ab\/peer\/add\// },
        what: `Peer '${id}' in address book '${book.name}'`,
        failing: {
          args: ['ab', 'add-peer', '--ab-name', 'NoSuchBook', '--peer-id', id],
          error: /address book 'NoSuchBook' not found/,
        },
      };
    },
  },
  {
    verb: 'ab add-tag',
    async setup() {
      const book = await newBook();
      const name = fresh('tag');
      const tags = async () => {
        const r = await s.call('GET', `/api/ab/tags/${book.guid}`, s.token);
        return (r.json as unknown as { name: string }[]).filter((t) => t.name === name);
      };
      return {
        args: ['ab', 'add-tag', '--ab-name', book.name, '--tag-name', name, '--tag-color', 'red'],
        differing: ['ab', 'add-tag', '--ab-name', book.name, '--tag-name', name, '--tag-color', 'blue'],
        warns: new RegExp(
          `warning: Tag '${name}' in address book '${book.name}' already exists with colour 0xFFFF0000, not 0xFF0000FF as given: it was not changed \\(--if-not-exists\\); to change it: rdadmin ab update-tag --ab-name '${book.name}' --tag-name '${name}' --tag-color 0xFF0000FF`,
        ),
        id: (j) => `${j['ab']}/${j['name']}/${j['color']}`,
        count: async () => (await tags()).length,
        make: () => s.adminOk('POST', `/api/ab/tag/add/${book.guid}`, { name, color: 0xffff0000 }),
        create: { method: 'POST', path: /^\/api\/ab\/tag\/add\// },
        what: `Tag '${name}' in address book '${book.name}'`,
        failing: {
          args: ['ab', 'add-tag', '--ab-name', 'NoSuchBook', '--tag-name', name],
          error: /address book 'NoSuchBook' not found/,
        },
      };
    },
  },
  {
    verb: 'ab add-rule',
    async setup() {
      const book = await newBook();
      const user = fresh('ru');
      await s.seedUsers([user]);
      const rules = async () =>
        (await get(`/api/ab/rules?ab=${book.guid}&pageSize=1000`)).filter((r) => r['user'] === user);
      return {
        args: ['ab', 'add-rule', '--ab-name', book.name, '--rule-user', user, '--rule-permission', 'ro'],
        differing: ['ab', 'add-rule', '--ab-name', book.name, '--rule-user', user, '--rule-permission', 'rw'],
        warns: new RegExp(
          `warning: Rule for user '${user}' in address book '${book.name}' already exists with permission ro, not rw as given: it was not changed \\(--if-not-exists\\); to change it: rdadmin ab update-rule --rule-guid \\S+ --rule-permission rw`,
        ),
        id: (j) => j['guid'],
        count: async () => (await rules()).length,
        make: () => s.adminOk('POST', '/api/ab/rule', { guid: book.guid, user, rule: 1 }),
        create: { method: 'POST', path: /^\/api\/ab\/rule$/ },
        what: `Rule for user '${user}' in address book '${book.name}'`,
        failing: {
          args: [
            'ab',
            'add-rule',
            '--ab-name',
            book.name,
            '--rule-user',
            'nobody-here',
            '--rule-permission',
            'ro',
          ],
          error: /nobody-here/,
        },
      };
    },
  },
];

const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe.each(cases)('$verb --if-not-exists', (c) => {
  it('creates the first time (existed: false); the second run exits 0, existed: true, the same record', async () => {
    const f = await c.setup();
    const first = await run([...f.args, '--if-not-exists', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const a = json(first.stdout);
    expect(a['existed']).toBe(false);
    expect(f.id(a)).toBeTruthy();
    expect(await f.count()).toBe(1);

    const again = await run([...f.args, '--if-not-exists', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const b = json(again.stdout);
    expect(b['existed']).toBe(true);
    expect(f.id(b)).toBe(f.id(a));
    expect(again.stderr).toContain(`${f.what} already exists; nothing changed.`);
    expect(again.stderr).not.toContain('warning:');
    expect(await f.count()).toBe(1);

    // In text mode: the same message, nothing on stdout but what the create prints there.
    const text = await run([...f.args, '--if-not-exists']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain(`${f.what} already exists; nothing changed.`);

    // Without the flag the create still fails on it, as before.
    const plain = await run([...f.args, '--json']);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe('');
  });

  it('--dry-run says it would create, and once it exists that nothing would change (exit 0 both)', async () => {
    const f = await c.setup();
    const would = await run([...f.args, '--if-not-exists', '--dry-run', '--json']);
    expect(would.code, would.stderr).toBe(0);
    expect(json(would.stdout)).toMatchObject({ dry_run: true, existed: false });
    expect(would.stderr).toContain('Dry run: would');
    expect(await f.count()).toBe(0);

    await f.make();
    const exists = await run([...f.args, '--if-not-exists', '--dry-run', '--json']);
    expect(exists.code, exists.stderr).toBe(0);
    const j = json(exists.stdout);
    expect(j).toMatchObject({ dry_run: true, existed: true, action: 'none' });
    expect(f.id(j)).toBeTruthy();
    expect(exists.stderr).toContain(`Dry run: ${f.what} already exists; nothing would change.`);
    expect(await f.count()).toBe(1);
  });

  it('a differing attribute is named in a warning, with the verb that changes it, and left alone', async () => {
    const f = await c.setup();
    await f.make();
    const r = await run([...f.differing, '--if-not-exists', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)['existed']).toBe(true);
    expect(r.stderr).toMatch(f.warns);
    expect(await f.count()).toBe(1);
    // Nothing was changed: the original values still hold, so the first command line warns nothing.
    const same = await run([...f.args, '--if-not-exists']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).not.toContain('warning:');
  });

  it('a real failure still exits 1 with its error and nothing on stdout', async () => {
    const f = await c.setup();
    if (/refused by the test/.test(String(f.failing.error)))
      hook = { ...f.create, refuse: { status: 400, error: 'refused by the test' } };
    const r = await run([...f.failing.args, '--if-not-exists', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(f.failing.error);
    expect(r.stderr).not.toContain('already exists; nothing changed');
  });

  for (const asPro of [false, true]) {
    const server = asPro ? 'Pro (a refusal is 200 {"error"})' : 'rdadmin serve (409)';
    if (asPro && c.serveOnly) continue;

    it(`a race lost to another job: the create is refused, looked up again, reported as existing (${server})`, async () => {
      pro = asPro;
      const f = await c.setup();
      hook = { ...f.create, before: f.make };
      const r = await run([...f.args, '--if-not-exists', '--json']);
      expect(hooked).toBe(1); // the lookup missed it, and the create reached the server after it was made
      expect(r.code, r.stderr).toBe(0);
      const j = json(r.stdout);
      expect(j['existed']).toBe(true);
      expect(f.id(j)).toBeTruthy();
      expect(r.stderr).toContain(`${f.what} already exists; nothing changed.`);
      expect(await f.count()).toBe(1);
    });

    it(`a refused create whose record is still not there is the create's own error, exit 1 (${server})`, async () => {
      pro = asPro;
      const f = await c.setup();
      hook = { ...f.create, refuse: { status: 409, error: 'conflict made up by the test' } };
      const r = await run([...f.args, '--if-not-exists', '--json']);
      expect(hooked).toBe(1);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('error: conflict made up by the test');
      expect(await f.count()).toBe(0);
    });
  }
});

describe('--if-not-exists details', () => {
  it('names are exact: another case, or a LIKE look-alike, is not the record (users new)', async () => {
    await s.adminOk('POST', '/api/users', {
      name: 'likeXuser',
      password: 'password123',
      group_name: 'Default',
    });
    const r = await run([
      ...['users', 'new', '--name', 'like_user', '--password-stdin', '--group_name', 'Default'],
      ...['--if-not-exists', '--json'],
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ name: 'like_user', existed: false });
  });

  it('the everyone rule of a book is found as that target, not a user rule', async () => {
    const book = await newBook();
    await s.seedUsers(['everyone-user']);
    await s.adminOk('POST', '/api/ab/rule', { guid: book.guid, user: 'everyone-user', rule: 1 });
    const args = [
      'ab',
      'add-rule',
      '--ab-name',
      book.name,
      '--rule-type',
      'everyone',
      '--rule-permission',
      'ro',
    ];
    const first = await run([...args, '--if-not-exists', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(json(first.stdout)['existed']).toBe(false);
    const again = await run([...args, '--if-not-exists', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout)).toMatchObject({
      existed: true,
      guid: json(first.stdout)['guid'],
      type: 'everyone',
    });
  });

  it('--help of each create verb shows the flag and an example with it', async () => {
    for (const verb of [
      ['users', 'new'],
      ['user-groups', 'add'],
      ['device-groups', 'add'],
      ['strategies', 'create'],
      ['ab', 'add-ab'],
      ['ab', 'add-peer'],
      ['ab', 'add-tag'],
      ['ab', 'add-rule'],
    ]) {
      const r = await run([...verb, '--help']);
      expect(r.code).toBe(0);
      const help = r.stdout + r.stderr;
      expect(help, verb.join(' ')).toMatch(/--if[-_]not[-_]exists\s/);
      expect(help, verb.join(' ')).toMatch(new RegExp(`rdadmin ${verb.join(' ')} .*--if-not-exists`));
    }
  });
});
