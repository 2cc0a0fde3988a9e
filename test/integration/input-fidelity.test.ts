import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { areas } from '../../commands';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// What a command line gives is what is selected, checked and stored: an empty filter selects
// nothing (it is refused), a dry run refuses what the real run would be refused, the name reported
// is the one the server stored, and a value's line break never forges a line of a view.

let s: TestServer;
let env: Record<string, string>;
/** Against a port nothing listens on: a request would end in exit 5, a usage error is 2. */
const nowhere = { RDADMIN_URL: 'http://127.0.0.1:1', RDADMIN_TOKEN: 'rdt_x' };

beforeEach(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
});
afterEach(async () => {
  await s.close();
});

const sharedBook = async (name: string) => {
  const r = await s.call('POST', '/api/ab/shared/add', s.token, { name });
  expect(r.status, r.text).toBe(200);
  return r.json!.guid as string;
};
const peersOf = async (guid: string) =>
  (await s.call('GET', `/api/ab/peers?ab=${guid}`, s.token)).json!.data as unknown as {
    id: string;
    alias?: string;
    note?: string;
    password?: string;
  }[];

describe('an empty filter value is refused, not "everything" (F1)', () => {
  it('LEAVER=""; users disable --name "$LEAVER" --yes disables no one', async () => {
    await s.seedUsers(['alice', 'bob']);
    const r = await cli(['users', 'disable', '--name', '', '--yes'], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error: --name is empty');
    expect(r.stderr).toContain('unset or empty shell variable');
    for (const name of ['alice', 'bob']) expect((await s.store.users.getByName(name))!.status).toBe(1);
    // No request at all: the refusal comes before the listing.
    expect(s.logs.filter((l) => l.startsWith('GET /api/users'))).toEqual([]);
    // Blanks are text to look for (names holding two spaces), not "everything".
    const blanks = await cli(['users', 'disable', '--name', '  ', '--yes'], { env });
    expect(blanks.code, blanks.stderr).toBe(0);
    expect(blanks.stderr).toContain('Found 0 users');
    for (const name of ['alice', 'bob']) expect((await s.store.users.getByName(name))!.status).toBe(1);
  });

  it('devices delete / assign / disable and users force-logout with an empty filter change nothing', async () => {
    const dev = new SimClient(s.url, { id: '777000001' });
    await dev.heartbeat();
    await s.seedUsers(['alice']);
    for (const args of [
      ['devices', 'delete', '--device_name', '', '--yes'],
      ['devices', 'assign', '--id', '', '--assign_to', 'note=x', '--yes'],
      ['devices', 'disable', '--user_name', '', '--yes'],
      ['devices', 'disable', '--device_group_name', '', '--yes'],
      ['devices', 'disable', '--group-name', '', '--yes'],
      ['users', 'force-logout', '--name', '', '--yes'],
    ]) {
      const r = await cli(args, { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/error: --[a-z_-]+ is empty/);
    }
    const d = (await s.store.devices.getById('777000001'))!;
    expect(d.status).toBe(1);
    expect(d.note).toBe('');
  });

  it('views refuse an empty filter too, naming the flag (a listing of everything would surprise)', async () => {
    for (const args of [
      ['users', 'view', '--name', ''],
      ['users', 'view', '--group_name', ''],
      ['devices', 'view', '--id', ''],
      ['devices', 'export', '--device_username', ''],
      ['user-groups', 'view', '--name', ''],
      ['user-groups', 'view-users', '--name', ''],
      ['user-groups', 'view-users', '--user-name', ''],
      ['device-groups', 'view', '--name', ''],
      ['device-groups', 'view-devices', '--name', ''],
      ['device-groups', 'view-devices', '--device-name', ''],
      ['ab', 'view-ab', '--ab-name', ''],
      ['ab', 'view-peer', '--personal', '--peer-id', ''],
      ['ab', 'view-peer', '--personal', '--alias', ''],
      ['ab', 'empty-recycle', '--personal', '--peer-id', ''],
      ['strategies', 'view', '--name', ''],
      ['strategies', 'assign', '--name', 'Default', '--peers', ''],
      ['audits', 'view-conn', '--remote', ''],
      ['audits', 'view-alarm', '--device', ''],
      ['audits', 'view-console', '--operator', ''],
    ]) {
      const r = await cli(args, { env: nowhere });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      const flag = args[args.length - 2]!;
      expect(r.stderr).toContain(`error: ${flag.replace('--group-name', '--group_name')} is empty`);
    }
  });

  it('every selecting option of every verb refuses an empty value before any request', async () => {
    let n = 0;
    for (const area of areas) {
      for (const verb of area.verbs) {
        for (const o of verb.options ?? []) {
          if (!o.selects) continue;
          const r = await cli([area.name, verb.name, o.selects, ''], { env: nowhere });
          expect(r.code, `${area.name} ${verb.name} ${o.selects}: ${r.stderr}`).toBe(2);
          expect(r.stderr).toContain(`error: ${o.selects} is empty`);
          n++;
        }
      }
    }
    // users 3×… + devices + groups + ab + strategies + audits: the filters are all marked.
    expect(n).toBeGreaterThan(60);
  });
});

describe('--assign_to ab=…: no part may hold a comma (F2)', () => {
  it('the CLI refuses a sixth part before any request; five parts still work', async () => {
    const book = await sharedBook('Book');
    await new SimClient(s.url, { id: '777000011' }).heartbeat();
    const six = await cli(
      [
        'devices',
        'assign',
        '--id',
        '777000011',
        '--exact',
        '--assign_to',
        'ab=Book,t2,my alias,pw,note, with comma',
      ],
      { env },
    );
    expect(six.code, six.stderr).toBe(2);
    expect(six.stderr).toContain('6 comma-separated parts, at most 5');
    expect(s.logs.filter((l) => l.startsWith('GET /api/devices'))).toEqual([]);
    expect(await peersOf(book)).toEqual([]);
    const five = await cli(
      ['devices', 'assign', '--id', '777000011', '--exact', '--assign_to', 'ab=Book,t2,my alias,pw,the note'],
      { env },
    );
    expect(five.code, five.stderr).toBe(0);
    expect(await peersOf(book)).toMatchObject([{ id: '777000011', alias: 'my alias', note: 'the note' }]);
  });

  it('the server answers 400 {"error"} to more than five parts, and changes nothing', async () => {
    const book = await sharedBook('Book');
    await new SimClient(s.url, { id: '777000012' }).heartbeat();
    const guid = (await s.store.devices.getById('777000012'))!.guid;
    const r = await s.call('POST', `/api/devices/${guid}/assign`, s.token, {
      type: 'ab',
      value: 'Book,t2,my alias,pw,note, with comma',
    });
    expect(r.status).toBe(400);
    expect(r.json!.error).toContain('6 comma-separated parts, at most 5');
    expect(await peersOf(book)).toEqual([]);
  });
});

describe('dry runs refuse what the real run would be refused (F3)', () => {
  const newUser = (name: string, ...more: string[]) => [
    'users',
    'new',
    '--name',
    name,
    '--password',
    'password123',
    '--group_name',
    'Default',
    ...more,
  ];
  const long = 'n'.repeat(101);

  it('users new: control characters, 101 characters and an email the server refuses are usage errors', async () => {
    for (const [args, message] of [
      [newUser('tab\tname', '--dry-run'), '--name must not contain control characters'],
      [newUser(long, '--dry-run'), '--name must be at most 100 characters'],
      [newUser('x', '--email', 'x@y', '--dry-run'), '--email must be an email address'],
      [newUser(long), '--name must be at most 100 characters'],
    ] as const) {
      const r = await cli([...args], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(s.logs.filter((l) => l.startsWith('POST /api/users'))).toEqual([]);
  });

  it('users new --name "  alice  " --dry-run finds alice taken, as the server (which trims) does', async () => {
    await s.seedUsers(['alice']);
    const dry = await cli(newUser('  alice  ', '--dry-run'), { env });
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain("a user named 'alice' already exists");
  });

  it('ab add-ab: a trimmed name that is taken, and a name too long, are refused by the dry run', async () => {
    await sharedBook('spaced');
    const taken = await cli(['ab', 'add-ab', '--ab-name', ' spaced ', '--dry-run'], { env });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("a shared address book named 'spaced' already exists");
    const tooLong = await cli(['ab', 'add-ab', '--ab-name', long, '--dry-run'], { env });
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('--ab-name must be at most 100 characters');
  });

  it('strategies create: a name too long is refused by the dry run', async () => {
    const r = await cli(['strategies', 'create', '--name', long, '--option', 'a=1', '--dry-run'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--name must be at most 100 characters');
  });

  it('ab add-peer --dry-run: a peer already in the book (409) and a password for the personal book (400)', async () => {
    const book = await sharedBook('Team');
    expect((await cli(['ab', 'add-peer', '--ab-guid', book, '--peer-id', '987'], { env })).code).toBe(0);
    const again = await cli(['ab', 'add-peer', '--ab-guid', book, '--peer-id', '987', '--dry-run'], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`peer 987 is already in address book ${book}: change it with update-peer`);
    const personal = await cli(
      ['ab', 'add-peer', '--personal', '--peer-id', '987', '--password', 'pw', '--dry-run'],
      { env },
    );
    expect(personal.code).toBe(2);
    expect(personal.stderr).toContain('a personal address book keeps no peer passwords');
    const missing = await cli(
      ['ab', 'update-peer', '--ab-guid', book, '--peer-id', '988', '--alias', 'x', '--dry-run'],
      { env },
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`peer 988 is not in address book ${book}`);
  });
});

describe('what is reported is what the server stored (F5)', () => {
  it('users new --name "  lead2" says lead2', async () => {
    const r = await cli(
      ['users', 'new', '--name', '  lead2', '--password', 'password123', '--group_name', 'Default'],
      {
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Created user lead2.\n');
    expect(await s.store.users.getByName('lead2')).toBeDefined();
  });

  it('ab add-ab and add-peer --json carry the trimmed name and ID', async () => {
    const add = await cli(['ab', 'add-ab', '--ab-name', '  trimmed book ', '--json'], { env });
    expect(add.code, add.stderr).toBe(0);
    const created = JSON.parse(add.stdout) as { guid: string; name: string };
    expect(created.name).toBe('trimmed book');
    const peer = await cli(['ab', 'add-peer', '--ab-guid', created.guid, '--peer-id', ' 987 ', '--json'], {
      env,
    });
    expect(peer.code, peer.stderr).toBe(0);
    expect(JSON.parse(peer.stdout)).toMatchObject({ id: '987' });
    expect((await peersOf(created.guid)).map((p) => p.id)).toEqual(['987']);
  });
});

describe('strategy names and values with line breaks (F6)', () => {
  it('a strategy name with a control character is refused by the CLI and by the server', async () => {
    const r = await cli(['strategies', 'create', '--name', 'S2\nnl', '--option', 'a=1'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--name must not contain control characters');
    const post = await s.call('POST', '/api/strategies', s.token, { name: 'S2\nforged', options: {} });
    expect(post.status).toBe(400);
    expect(post.json!.error).toContain('control characters');
    const rename = await cli(['strategies', 'update', '--name', 'Default', '--new-name', 'D\tx'], { env });
    expect(rename.code).toBe(2);
    expect(rename.stderr).toContain('--new-name must not contain control characters');
  });

  it('view and effective show a value line break escaped, one option a line; --json keeps it', async () => {
    const dev = new SimClient(s.url, { id: '777000021' });
    await dev.heartbeat();
    const c = await cli(['strategies', 'create', '--name', 'Multi', '--option', 'multi=l1\nl2\tforged'], {
      env,
    });
    expect(c.code, c.stderr).toBe(0);
    expect(
      (await cli(['strategies', 'assign', '--name', 'Multi', '--peers', '777000021'], { env })).code,
    ).toBe(0);
    const v = await cli(['strategies', 'view', '--name', 'Multi'], { env });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.split('\n').filter((l) => l.startsWith('option'))).toEqual([
      'option\tmulti=l1\\nl2\\tforged',
    ]);
    expect(v.stdout).not.toContain('l1\nl2');
    const e = await cli(['strategies', 'effective', '--peer', '777000021'], { env });
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('  option multi=l1\\nl2\\tforged\n');
    const json = await cli(['strategies', 'view', '--name', 'Multi', '--json'], { env });
    expect(JSON.parse(json.stdout).options).toEqual({ multi: 'l1\nl2\tforged' });
  });
});

describe('settings view: one setting a line (F6)', () => {
  // A newer server may carry settings this CLI does not know, with any text in them.
  let fake: Server;
  let url: string;
  beforeAll(async () => {
    fake = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        req.url === '/api/settings'
          ? JSON.stringify({ require_deployment: false, online_timeout: 45, motd: 'hello\nforged\tline' })
          : '{"error":"not here"}',
      );
    });
    await new Promise<void>((ok) => fake.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((ok) => fake.close(ok));
  });

  it('a value with a line break or a tab is shown escaped; --json keeps it exact', async () => {
    const r = await cli(['settings', 'view', '--url', url, '--token', 'rdt_x'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('require_deployment\tfalse\nonline_timeout\t45\nmotd\thello\\nforged\\tline\n');
    const j = await cli(['settings', 'view', '--url', url, '--token', 'rdt_x', '--json'], {});
    expect(JSON.parse(j.stdout).motd).toBe('hello\nforged\tline');
  });
});

describe('small things (F10)', () => {
  it('ab view-ab --help calls --ab-name a LIKE pattern, not an exact name', async () => {
    const r = await cli(['ab', 'view-ab', '--help'], { env: nowhere });
    expect(r.code).toBe(0);
    const line = r.stdout.slice(r.stdout.indexOf('--ab-name <'));
    expect(line).toMatch(
      /^--ab-name <pattern>\s+the shared address books whose name matches: a\s+LIKE pattern/,
    );
    expect(r.stdout).not.toContain('by exact name');
  });

  it('strategies update --unset of an option not set says so, sends nothing, exit 0', async () => {
    expect((await cli(['strategies', 'create', '--name', 'K', '--option', 'a=1'], { env })).code).toBe(0);
    const r = await cli(['strategies', 'update', '--name', 'K', '--unset', 'nonexistent'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("warning: strategy 'K' has no option 'nonexistent': nothing to remove");
    expect(r.stderr).toContain("Strategy 'K' is unchanged.");
    expect(r.stderr).not.toContain('Updated strategy');
    expect(s.logs.filter((l) => l.startsWith('PATCH /api/strategies'))).toEqual([]);
    // With something else to change, that is sent and the missing key is still said.
    const both = await cli(['strategies', 'update', '--name', 'K', '--unset', 'nonexistent,a'], { env });
    expect(both.code).toBe(0);
    expect(both.stderr).toContain("has no option 'nonexistent'");
    expect(both.stderr).toContain("Updated strategy 'K'.");
    const after = await cli(['strategies', 'view', '--name', 'K', '--json'], { env });
    expect(JSON.parse(after.stdout).options).toEqual({});
  });

  it('--option a=1 --option a=2 is refused, naming the key', async () => {
    for (const verb of [
      ['create', '--name', 'K2'],
      ['update', '--name', 'Default'],
    ]) {
      const r = await cli(['strategies', ...verb, '--option', 'a=1', '--option', 'a=2'], { env: nowhere });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('--option a is given twice');
    }
  });
});
