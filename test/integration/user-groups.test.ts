import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

let s: TestServer;
let env: Record<string, string>;

beforeEach(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
});
afterEach(async () => {
  await s.close();
});

interface Rule {
  type: number;
  name: string;
}
interface Group {
  guid: string;
  name: string;
  note: string;
  allowed_incomings: Rule[];
  allowed_outgoings: Rule[];
  user_count: number;
}

async function groups(): Promise<Group[]> {
  const r = await s.fetch('/api/user-groups?pageSize=1000', { token: s.token });
  return ((await r.json()) as { data: Group[] }).data;
}
async function group(name: string): Promise<Group | undefined> {
  return (await groups()).find((g) => g.name === name);
}
async function deviceGroup(name: string) {
  const r = await s.fetch('/api/device-groups?pageSize=1000', { token: s.token });
  return ((await r.json()) as { data: { name: string; allowed_incomings: Rule[] }[] }).data.find(
    (g) => g.name === name,
  );
}
const requests = (prefix: string) => s.logs.filter((l) => l.startsWith(prefix));

describe('user-groups view', () => {
  beforeEach(async () => {
    await s.store.users.createGroup('Eng_1', 'underscore');
    await s.store.users.createGroup('EngX1');
    await s.store.users.createGroup('Equipe Vendas');
    await s.seedUsers(['ann', 'ben'], { group: 'Eng_1' });
  });

  it('lists every group with its member count and rules, under every area alias', async () => {
    for (const area of ['user-groups', 'user_group', 'user-group']) {
      const r = await cli([area, 'view', '--json'], { env });
      expect(r.code, area).toBe(0);
      const rows = JSON.parse(r.stdout) as Group[];
      expect(rows.map((g) => g.name)).toEqual(['Default', 'Eng_1', 'EngX1', 'Equipe Vendas']);
      expect(rows.find((g) => g.name === 'Eng_1')).toMatchObject({
        note: 'underscore',
        user_count: 2,
        allowed_incomings: [],
        allowed_outgoings: [],
      });
    }
  });

  it('--name is exact: _ is no wildcard, case matters; a value with % is a pattern', async () => {
    const exact = await cli(['user-groups', 'view', '--name', 'Eng_1', '--json'], { env });
    expect((JSON.parse(exact.stdout) as Group[]).map((g) => g.name)).toEqual(['Eng_1']);
    const docs = await cli(['user-groups', 'view', '--name', 'Equipe Vendas', '--json'], { env });
    expect((JSON.parse(docs.stdout) as Group[]).map((g) => g.name)).toEqual(['Equipe Vendas']);
    const lower = await cli(['user-groups', 'view', '--name', 'eng_1'], { env });
    expect(lower).toMatchObject({ code: 0, stdout: '' });
    expect(lower.stderr).toContain('Found 0 user groups');
    const pattern = await cli(['user-groups', 'view', '--name', 'Eng%', '--json'], { env });
    expect((JSON.parse(pattern.stdout) as Group[]).map((g) => g.name)).toEqual(['Eng_1', 'EngX1']);
  });

  it('prints TSV when piped and a table on a terminal', async () => {
    await s.fetch('/api/user-groups', {
      method: 'POST',
      token: s.token,
      body: JSON.stringify({ name: 'Ops', note: 'n', allowed_outgoings: [{ type: 0, name: 'Eng_1' }] }),
    });
    const piped = await cli(['user-groups', 'view', '--name', 'Ops'], { env });
    expect(piped.stdout).toBe('Ops\t0\t\tuser-group:Eng_1\tn\n');
    const tty = await cli(['user-groups', 'view', '--name', 'Eng_1', '--no-color'], { env, tty: true });
    expect(tty.stdout).toContain('ACCESSED FROM');
    expect(tty.stdout).toContain('user-group:Ops');
  });

  it('pages through many groups', async () => {
    for (let i = 0; i < 62; i++) await s.store.users.createGroup(`g${String(i).padStart(2, '0')}`);
    const r = await cli(['user-groups', 'view', '--json'], { env: { ...env, RDADMIN_PAGE_SIZE: '30' } });
    expect(JSON.parse(r.stdout)).toHaveLength(66);
    expect(requests('GET /api/user-groups ')).toHaveLength(3);
  });
});

describe('user-groups add', () => {
  beforeEach(async () => {
    await s.store.users.createGroup('Gerentes');
    await s.store.devices.createGroup('Servidores Dev');
    await s.seedUsers(['john']);
  });

  it('creates the documented example; its rules show on both sides', async () => {
    const r = await cli(
      [
        'user-groups',
        'add',
        '--name',
        'Engenharia',
        '--accessed-from',
        '[{"type":0,"name":"Gerentes"}]',
        '--access-to',
        '[{"type":1,"name":"Servidores Dev"}]',
      ],
      { env },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Created user group 'Engenharia'.");
    expect(r.stderr).toContain('accessed from: user-group:Gerentes');
    expect(await group('Engenharia')).toMatchObject({
      allowed_incomings: [{ type: 0, name: 'Gerentes' }],
      allowed_outgoings: [{ type: 1, name: 'Servidores Dev' }],
    });
    // One edge set, seen from the other ends.
    expect((await group('Gerentes'))!.allowed_outgoings).toEqual([{ type: 0, name: 'Engenharia' }]);
    expect((await deviceGroup('Servidores Dev'))!.allowed_incomings).toEqual([
      { type: 0, name: 'Engenharia' },
    ]);
  });

  it('accepts the friendlier KIND:NAME form, --note, and prints the row with --json', async () => {
    const r = await cli(
      [
        'user-groups',
        'add',
        '--name',
        'Ops',
        '--note',
        'on call',
        '--accessed-from',
        'user-group:Gerentes, user:john',
        '--access-to',
        'device-group:Servidores Dev',
        '--json',
      ],
      { env },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: 'Ops',
      note: 'on call',
      allowed_incomings: [
        { type: 0, name: 'Gerentes' },
        { type: 2, name: 'john' },
      ],
      allowed_outgoings: [{ type: 1, name: 'Servidores Dev' }],
      user_count: 0,
    });
  });

  it.each([
    [['--accessed-from', '[{"type":0,"name":"Gerentes"'], 'not valid JSON'],
    [['--accessed-from', '{"type":0,"name":"Gerentes"}'], 'must be a JSON array'],
    [
      ['--accessed-from', '[{"type":1,"name":"Servidores Dev"}]'],
      'type 1 (device group) is not allowed here',
    ],
    [['--access-to', '[{"type":2,"name":"john"}]'], 'type 2 (user) is not allowed here'],
    [['--access-to', 'user:john'], '--access-to entry 1 (user:john): type 2 (user)'],
    [['--accessed-from', '[{"type":"0","name":"x"}]'], '"type" must be 0 (user group) or 2 (user)'],
    [['--accessed-from', '[{"type":0,"name":""}]'], '"name" must be a non-empty string'],
    [['--accessed-from', '[{"type":0,"name":"x","guid":"y"}]'], 'unknown field(s) guid'],
    [['--accessed-from', 'Gerentes'], "entry 'Gerentes' is not KIND:NAME"],
    [['--accessed-from', ''], "pass '[]' to clear"],
    [['--name', 'a,b'], '--name must not contain a comma'],
    [[], 'add needs --name'],
  ])('refuses %j before any request (exit 2, D-21)', async (args, message) => {
    const withName = args.includes('--name') || args.length === 0 ? args : ['--name', 'X', ...args];
    const r = await cli(['user-groups', 'add', ...withName], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(requests('POST /api/user-groups')).toEqual([]);
  });

  it('--dry-run checks the input and creates nothing', async () => {
    const r = await cli(
      ['user-groups', 'add', '--name', 'Ops', '--access-to', 'user-group:Gerentes', '--dry-run'],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "Dry run: would create user group 'Ops'; nothing was changed.\n  name: Ops\n  note: (none)\n  accessed from: (nobody)\n  access to: user-group:Gerentes\n",
    );
    expect(await group('Ops')).toBeUndefined();
    expect(requests('POST /api/user-groups')).toEqual([]);
  });

  it('unknown names and duplicates are server errors naming the entry (exit 1)', async () => {
    const unknown = await cli(
      ['user-groups', 'add', '--name', 'X', '--access-to', 'user-group:Gerentes,device-group:Nope'],
      { env },
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      `allowed_outgoings[1] {"type":1,"name":"Nope"}: device group 'Nope' does not exist (HTTP 400)`,
    );
    expect(await group('X')).toBeUndefined();
    const dup = await cli(['user-groups', 'add', '--name', 'Gerentes'], { env });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("a user group named 'Gerentes' already exists");
  });
});

describe('user-groups update', () => {
  beforeEach(async () => {
    await s.store.users.createGroup('Gerentes');
    await s.store.users.createGroup('Suporte');
    await s.store.devices.createGroup('Servidores');
    await s.seedUsers(['john']);
    const r = await cli(
      [
        'user-groups',
        'add',
        '--name',
        'Eng',
        '--note',
        'old',
        '--accessed-from',
        'user-group:Gerentes',
        '--access-to',
        'device-group:Servidores',
      ],
      { env },
    );
    expect(r.code).toBe(0);
  });

  it('changes only what is given: rename and note keep the rules', async () => {
    const r = await cli(
      ['user-groups', 'update', '--name', 'Eng', '--new-name', 'Engineering', '--note', 'new'],
      { env },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Updated user group 'Eng' (now 'Engineering').");
    expect(await group('Engineering')).toMatchObject({
      note: 'new',
      allowed_incomings: [{ type: 0, name: 'Gerentes' }],
      allowed_outgoings: [{ type: 1, name: 'Servidores' }],
    });
    expect((await deviceGroup('Servidores'))!.allowed_incomings).toEqual([{ type: 0, name: 'Engineering' }]);
  });

  it('a rule flag replaces that list only; [] clears it on both sides', async () => {
    const r = await cli(
      ['user-groups', 'update', '--name', 'Eng', '--accessed-from', '[{"type":2,"name":"john"}]', '--json'],
      { env },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      allowed_incomings: [{ type: 2, name: 'john' }],
      allowed_outgoings: [{ type: 1, name: 'Servidores' }],
    });
    expect((await group('Gerentes'))!.allowed_outgoings).toEqual([]);
    const clear = await cli(['user-groups', 'update', '--name', 'Eng', '--access-to', '[]'], { env });
    expect(clear.code).toBe(0);
    expect((await group('Eng'))!.allowed_outgoings).toEqual([]);
    expect((await deviceGroup('Servidores'))!.allowed_incomings).toEqual([]);
    expect((await group('Eng'))!.allowed_incomings).toEqual([{ type: 2, name: 'john' }]);
  });

  it('editing the other side changes this side (one edge set)', async () => {
    const r = await cli(['user-groups', 'update', '--name', 'Suporte', '--accessed-from', 'user-group:Eng'], {
      env,
    });
    expect(r.code).toBe(0);
    expect((await group('Eng'))!.allowed_outgoings).toEqual([
      { type: 0, name: 'Suporte' },
      { type: 1, name: 'Servidores' },
    ]);
    const dg = await cli(['device-groups', 'update', '--name', 'Servidores', '--accessed-from', '[]'], {
      env,
    });
    expect(dg.code).toBe(0);
    expect((await group('Eng'))!.allowed_outgoings).toEqual([{ type: 0, name: 'Suporte' }]);
  });

  it('nothing to change is a usage error, before any request (D-22)', async () => {
    const r = await cli(['user-groups', 'update', '--name', 'Eng'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'update needs something to change: --new-name, --note, --accessed-from, --access-to',
    );
    expect(requests('GET /api/user-groups')).toEqual([]);
    expect(requests('PATCH')).toEqual([]);
  });

  it('invalid rules are a usage error before the lookup (D-21); unknown group and refusals exit 1', async () => {
    const bad = await cli(
      ['user-groups', 'update', '--name', 'Eng', '--access-to', '[{"type":2,"name":"john"}]'],
      {
        env,
      },
    );
    expect(bad.code).toBe(2);
    expect(requests('GET /api/user-groups')).toEqual([]);
    const missing = await cli(['user-groups', 'update', '--name', 'Nope', '--note', 'x'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("user group 'Nope' not found");
    const self = await cli(['user-groups', 'update', '--name', 'Eng', '--access-to', 'user-group:Eng'], {
      env,
    });
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('a group needs no rule for itself');
    const rename = await cli(['user-groups', 'update', '--name', 'Default', '--new-name', 'Everyone'], {
      env,
    });
    expect(rename.code).toBe(1);
    expect(rename.stderr).toContain("the 'Default' user group cannot be renamed");
    const taken = await cli(['user-groups', 'update', '--name', 'Eng', '--new-name', 'Suporte'], { env });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("a user group named 'Suporte' already exists");
  });

  it('--dry-run shows the change and sends nothing', async () => {
    const r = await cli(['user-groups', 'update', '--name', 'Eng', '--note', 'x', '--dry-run'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Dry run: would update user group');
    expect((await group('Eng'))!.note).toBe('old');
  });
});

describe('user-groups delete', () => {
  beforeEach(async () => {
    for (const g of ['G1', 'G2', 'G3']) await s.store.users.createGroup(g);
    await s.seedUsers(['member'], { group: 'G3' });
  });

  it('deletes one group by exact name, and its rules vanish from the other side', async () => {
    await cli(['user-groups', 'update', '--name', 'G2', '--access-to', 'user-group:G1'], { env });
    expect((await group('G1'))!.allowed_incomings).toEqual([{ type: 0, name: 'G2' }]);
    const r = await cli(['user-groups', 'delete', '--name', 'G2'], { env });
    expect(r).toMatchObject({ code: 0, stdout: 'Deleted G2\n' });
    expect(await group('G2')).toBeUndefined();
    expect((await group('G1'))!.allowed_incomings).toEqual([]);
  });

  it('a comma list with a typo deletes nothing (D-6)', async () => {
    const r = await cli(['user-groups', 'delete', '--name', 'G1,G2x,G2', '--yes'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("user group 'G2x' not found: nothing was deleted");
    // The three names were looked up in a batch (rdadmin serve takes them), not one request each.
    expect(requests('(batch) GET /api/user-groups').length).toBeGreaterThanOrEqual(3);
    expect(requests('GET /api/user-groups')).toEqual([]);
    expect((await groups()).map((g) => g.name)).toEqual(['Default', 'G1', 'G2', 'G3']);
    expect(requests('DELETE')).toEqual([]);
  });

  it('several groups need --yes without a terminal; duplicates count once', async () => {
    const no = await cli(['user-groups', 'delete', '--name', 'G1, G2'], { env });
    expect(no.code).toBe(3);
    expect(await group('G1')).toBeDefined();
    const dry = await cli(['user-groups', 'delete', '--name', 'G1,G2', '--dry-run'], { env });
    expect(dry).toMatchObject({ code: 0, stdout: 'G1\nG2\n' });
    const yes = await cli(['user-groups', 'delete', '--name', 'G1,G2,G1', '--yes', '--json'], { env });
    expect(yes.code).toBe(0);
    expect((JSON.parse(yes.stdout) as { name: string; ok: boolean }[]).map((x) => [x.name, x.ok])).toEqual([
      ['G1', true],
      ['G2', true],
    ]);
  });

  it('refuses Default and a group that still has users; the rest is still deleted (exit 1)', async () => {
    const r = await cli(['user-groups', 'delete', '--name', 'Default,G3,G1', '--yes'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Deleted G1\n');
    expect(r.stderr).toContain("the 'Default' user group cannot be deleted");
    expect(r.stderr).toContain("user group 'G3' still has 1 user: move them to another group first");
    expect(r.stderr).toContain('Deleted 1 of 3 user groups; 2 failed.');
    expect((await s.store.users.getByName('member'))!.group_name).toBe('G3');
    // Once the users have moved, the group can go.
    expect(
      (await cli(['user-groups', 'add-users', '--name', 'Default', '--users', 'member'], { env })).code,
    ).toBe(0);
    expect((await cli(['user-groups', 'delete', '--name', 'G3'], { env })).code).toBe(0);
  });

  it('needs --name', async () => {
    const r = await cli(['user-groups', 'delete'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('delete needs --name');
  });
});

describe('user-groups view-users and add-users', () => {
  beforeEach(async () => {
    await s.store.users.createGroup('Eng_1');
    await s.store.users.createGroup('EngX1');
    await s.seedUsers(['john', 'johnny', 'mary'], { group: 'Eng_1' });
    await s.seedUsers(['jon'], { group: 'EngX1' });
  });

  it('view-users: --name is the exact group, --user-name a substring; both optional', async () => {
    const names = (out: string) => (JSON.parse(out) as { name: string }[]).map((u) => u.name);
    const group = await cli(['user-groups', 'view-users', '--name', 'Eng_1', '--json'], { env });
    expect(names(group.stdout)).toEqual(['john', 'johnny', 'mary']);
    const both = await cli(
      ['user-groups', 'view-users', '--name', 'Eng_1', '--user-name', 'john', '--json'],
      {
        env,
      },
    );
    expect(names(both.stdout)).toEqual(['john', 'johnny']);
    const anyGroup = await cli(['user-groups', 'view-users', '--user-name', 'jo', '--json'], { env });
    expect(names(anyGroup.stdout)).toEqual(['john', 'johnny', 'jon']);
    const all = await cli(['user-groups', 'view-users', '--json'], { env });
    expect(names(all.stdout)).toEqual(['admin', 'john', 'johnny', 'jon', 'mary']);
    const piped = await cli(['user-groups', 'view-users', '--name', 'EngX1'], { env });
    expect(piped.stdout).toBe('jon\t\tEngX1\tenabled\t\n');
    // A group that does not exist is exit 1, nothing on stdout; an empty one is exit 0.
    for (const json of [[], ['--json']]) {
      const typo = await cli(['user-groups', 'view-users', '--name', 'EngX2', ...json], { env });
      expect(typo).toMatchObject({ code: 1, stdout: '' });
      expect(typo.stderr).toContain("user group 'EngX2' not found");
    }
    await s.store.users.createGroup('Empty');
    const empty = await cli(['user-groups', 'view-users', '--name', 'Empty', '--json'], { env });
    expect(empty).toMatchObject({ code: 0, stdout: '[]\n' });
    // A token that may list users but not user groups keeps the empty answer.
    const userR = await s.makeToken('user:r');
    const blind = await cli(['user-groups', 'view-users', '--name', 'EngX2', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: userR },
    });
    expect(blind).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('view-users needs only user:r; the group verbs need user_group', async () => {
    const userR = await s.makeToken('user:r');
    const ok = await cli(['user-groups', 'view-users', '--name', 'EngX1', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: userR },
    });
    expect(ok.code).toBe(0);
    const denied = await cli(['user-groups', 'view'], { env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: userR } });
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain('lacks permission user_group:r');
    const groupR = await s.makeToken('user_group:r,user:r');
    const write = await cli(['user-groups', 'add', '--name', 'New'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: groupR },
    });
    expect(write.code).toBe(4);
    expect(write.stderr).toContain('lacks permission user_group:rw');
  });

  it('add-users moves users (a user is in one group) and says where from', async () => {
    const r = await cli(
      ['user-groups', 'add-users', '--name', 'EngX1', '--users', 'john, mary ,jon', '--yes'],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Added john (from 'Eng_1')\nAdded mary (from 'Eng_1')\njon: already in 'EngX1'\n");
    expect(r.stderr).toContain("Added 2 user(s) to group 'EngX1' (1 already in it).");
    for (const n of ['john', 'mary', 'jon'])
      expect((await s.store.users.getByName(n))!.group_name).toBe('EngX1');
    expect((await s.store.users.getByName('johnny'))!.group_name).toBe('Eng_1');
    // The names were looked up in batches; with --no-batch, one request each.
    expect(requests('(batch) GET /api/users ').length).toBeGreaterThanOrEqual(3);
    expect(requests('GET /api/users ')).toEqual([]);
    s.logs.length = 0;
    const alone = await cli(
      ['user-groups', 'add-users', '--name', 'Eng_1', '--users', 'john,mary', '--no-batch', '--yes'],
      { env },
    );
    expect(alone.code).toBe(0);
    expect(requests('(batch)')).toEqual([]);
    expect(requests('GET /api/users ').length).toBeGreaterThanOrEqual(2);
  });

  it('add-users with unknown names: the rest is added, the failures reported, exit 1', async () => {
    const r = await cli(['user-groups', 'add-users', '--name', 'EngX1', '--users', 'john,ghost,johnn'], {
      env,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("Added john (from 'Eng_1')\n");
    expect(r.stderr).toContain("FAILED ghost: user 'ghost' not found");
    expect(r.stderr).toContain("FAILED johnn: user 'johnn' not found");
    expect(r.stderr).toContain("Added 1 user(s) to group 'EngX1'; 2 not found (ghost, johnn).");
    expect((await s.store.users.getByName('john'))!.group_name).toBe('EngX1');
    const json = await cli(
      ['user-groups', 'add-users', '--name', 'Eng_1', '--users', 'john,ghost', '--json'],
      {
        env,
      },
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([
      { name: 'john', guid: expect.any(String), group: 'Eng_1', ok: true, previous_group: 'EngX1' },
      { name: 'ghost', ok: false, error: "user 'ghost' not found" },
    ]);
  });

  it('add-users with no valid user sends nothing (exit 1); missing flags are usage errors', async () => {
    const r = await cli(['user-groups', 'add-users', '--name', 'EngX1', '--users', 'ghost,phantom'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no valid users found: user 'ghost' not found; user 'phantom' not found");
    expect(requests('POST /api/user-groups')).toEqual([]);
    const usage = await cli(['user-groups', 'add-users', '--name', 'EngX1'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('add-users needs --users');
    const group = await cli(['user-groups', 'add-users', '--name', 'Nope', '--users', 'john'], { env });
    expect(group.code).toBe(1);
    expect(group.stderr).toContain("user group 'Nope' not found");
  });

  it('user lookups are exact, escaped and paginated (D-2)', async () => {
    await s.seedUsers(['a_b', 'aXb', 'MAX', 'Max', 'max']);
    const r = await cli(
      ['user-groups', 'add-users', '--name', 'EngX1', '--users', 'a_b,max', '--json', '--yes'],
      {
        env: { ...env, RDADMIN_PAGE_SIZE: '1' },
      },
    );
    expect(r.code).toBe(0);
    expect((await s.store.users.getByName('a_b'))!.group_name).toBe('EngX1');
    expect((await s.store.users.getByName('aXb'))!.group_name).toBe('Default');
    expect((await s.store.users.getByName('max'))!.group_name).toBe('EngX1');
    expect((await s.store.users.getByName('MAX'))!.group_name).toBe('Default');
    // 'max' matched MAX, Max and max case-insensitively: three pages of one row each were read
    // (the lookups of several names go in batches).
    expect(requests('(batch) GET /api/users ').length).toBeGreaterThanOrEqual(4);
  });

  it('moving more than one user is confirmed; users already in the group are not sent', async () => {
    const refused = await cli(['user-groups', 'add-users', '--name', 'EngX1', '--users', 'john,mary,jon'], {
      env,
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("Found 2 users:\n  john (from 'Eng_1')\n  mary (from 'Eng_1')\n");
    expect(requests('POST /api/user-groups')).toEqual([]);
    const asked = await cli(['user-groups', 'add-users', '--name', 'EngX1', '--users', 'john,mary,jon'], {
      env,
      tty: true,
      answer: true,
    });
    expect(asked).toMatchObject({ code: 0, asked: ["Move 2 users into 'EngX1'?"] });
    expect(requests('POST /api/user-groups')).toHaveLength(1);
    s.logs.length = 0;
    const again = await cli(['user-groups', 'add-users', '--name', 'EngX1', '--users', 'john,mary,jon'], {
      env,
    });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("Added 0 user(s) to group 'EngX1' (3 already in it).");
    expect(requests('POST /api/user-groups')).toEqual([]);
  });

  it('add-users --dry-run resolves and changes nothing', async () => {
    const r = await cli(['user-groups', 'add-users', '--name', 'EngX1', '--users', 'john', '--dry-run'], {
      env,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Would add john (from 'Eng_1')\n");
    expect((await s.store.users.getByName('john'))!.group_name).toBe('Eng_1');
  });
});

describe('user groups on the server', () => {
  const send = (method: string, path: string, body: unknown, token = s.token) =>
    s.fetch(path, { method, token, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const error = async (r: Response) => ((await r.json()) as { error: string }).error;

  it.each([
    [
      { name: 'A', allowed_incomings: [{ type: 1, name: 'X' }] },
      'allowed_incomings[0] {"type":1,"name":"X"}: type 1 (device group) is not allowed in allowed_incomings of a user group; use 0 (user group) or 2 (user)',
    ],
    [
      { name: 'A', allowed_outgoings: [{ type: 2, name: 'admin' }] },
      'type 2 (user) is not allowed in allowed_outgoings',
    ],
    [{ name: 'A', allowed_outgoings: [{ type: 7, name: 'x' }] }, 'type 7 is not allowed'],
    [
      {
        name: 'A',
        allowed_incomings: [
          { type: 0, name: 'Default' },
          { type: 2, name: 'ghost' },
        ],
      },
      'allowed_incomings[1] {"type":2,"name":"ghost"}: user \'ghost\' does not exist',
    ],
    [{ name: 'A', allowed_incomings: 'x' }, "field 'allowed_incomings'"],
    [{ name: 'A', extra: 1 }, 'unknown field(s): extra'],
    [{ name: '' }, "field 'name' must not be empty"],
  ])('POST /api/user-groups %j → 400', async (body, message) => {
    const r = await send('POST', '/api/user-groups', body);
    expect(r.status).toBe(400);
    expect(await error(r)).toContain(message);
  });

  it('PATCH: an empty body is refused; unknown GUID is 404; rules echo names after a rename', async () => {
    const def = (await group('Default'))!;
    const empty = await send('PATCH', `/api/user-groups/${def.guid}`, {});
    expect(empty.status).toBe(400);
    expect(await error(empty)).toContain('nothing to update');
    const missing = await send('PATCH', '/api/user-groups/nope', { note: 'x' });
    expect(missing.status).toBe(404);
    const a = (await (
      await send('POST', '/api/user-groups', { name: 'A', allowed_outgoings: [{ type: 0, name: 'Default' }] })
    ).json()) as Group;
    await send('PATCH', `/api/user-groups/${a.guid}`, { name: 'B' });
    expect((await group('Default'))!.allowed_incomings).toEqual([{ type: 0, name: 'B' }]);
  });

  it('POST /api/user-groups/{guid}: a bare array of user GUIDs; unknown ones change nothing (404)', async () => {
    await s.seedUsers(['u1']);
    const g = (await (await send('POST', '/api/user-groups', { name: 'T' })).json()) as Group;
    const u1 = (await s.store.users.getByName('u1'))!;
    const notArray = await send('POST', `/api/user-groups/${g.guid}`, { user_guids: [u1.guid] });
    expect(notArray.status).toBe(400);
    const unknown = await send('POST', `/api/user-groups/${g.guid}`, [u1.guid, 'ghost-guid']);
    expect(unknown.status).toBe(404);
    expect(await error(unknown)).toBe('user not found: ghost-guid');
    expect((await s.store.users.getByName('u1'))!.group_name).toBe('Default');
    const ok = await send('POST', `/api/user-groups/${g.guid}`, [u1.guid]);
    expect(await ok.json()).toEqual({ added: 1, moved: [{ name: 'u1', from: 'Default' }] });
  });

  it('deleting a user removes the rules that name them', async () => {
    await s.seedUsers(['temp'], { status: 0 });
    await send('POST', '/api/user-groups', { name: 'R', allowed_incomings: [{ type: 2, name: 'temp' }] });
    const temp = (await s.store.users.getByName('temp'))!;
    expect((await s.fetch(`/api/users/${temp.guid}`, { method: 'DELETE', token: s.token })).status).toBe(200);
    expect((await group('R'))!.allowed_incomings).toEqual([]);
  });

  it('every change is in the console audit log with the group codes', async () => {
    await cli(['user-groups', 'add', '--name', 'Audited', '--accessed-from', 'user-group:Default'], { env });
    await cli(['user-groups', 'update', '--name', 'Audited', '--note', 'n'], { env });
    await cli(['user-groups', 'add-users', '--name', 'Audited', '--users', 'admin'], { env });
    await cli(['user-groups', 'add-users', '--name', 'Default', '--users', 'admin'], { env });
    await cli(['user-groups', 'delete', '--name', 'Audited'], { env });
    const log = (await s.store.audit.listConsole()).reverse();
    expect(log.map((e) => [e.typ, e.iop, e.detail])).toEqual([
      [
        0,
        1,
        "created user group 'Audited'; accessed from: user group 'Default'; access to: nobody (API token 'all')",
      ],
      [0, 10, "updated user group 'Audited': note changed (API token 'all')"],
      [0, 10, "added admin to user group 'Audited' (API token 'all')"],
      [0, 10, "added admin to user group 'Default' (API token 'all')"],
      [0, 4, "deleted user group 'Audited' (API token 'all')"],
    ]);
  });
});
