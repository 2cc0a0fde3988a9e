import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
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

async function status(name: string): Promise<number | undefined> {
  return (await s.store.users.getByName(name))?.status;
}

function names(json: string): string[] {
  return (JSON.parse(json) as { name: string }[]).map((u) => u.name);
}

describe('users view', () => {
  it('pages through 65 users (several pages) and prints every one', async () => {
    const many = Array.from({ length: 65 }, (_, i) => `user${String(i).padStart(2, '0')}`);
    await s.seedUsers(many);
    const r = await cli(['users', 'view', '--json'], { env: { ...env, RDADMIN_PAGE_SIZE: '30' } });
    expect(r.code).toBe(0);
    expect(names(r.stdout)).toEqual(['admin', ...many]);
    // Page 1 alone; it says the server takes batches, so pages 2 and 3 go together in one.
    expect(s.logs.filter((l) => l.startsWith('GET /api/users '))).toHaveLength(1);
    expect(s.logs.filter((l) => l.startsWith('(batch) GET /api/users '))).toHaveLength(2);
    expect(s.logs.filter((l) => l.startsWith('POST /api/rdadmin/batch 200'))).toHaveLength(1);
  });

  it('filters by --group_name and --group-name alike, as a substring', async () => {
    await s.seedUsers(['ann', 'ben'], { group: 'Sales Team' });
    await s.seedUsers(['cid'], { group: 'Support' });
    for (const flag of ['--group_name', '--group-name', '--group_name=sales']) {
      const args = flag.includes('=') ? [flag] : [flag, 'sales'];
      const r = await cli(['users', 'view', ...args, '--json'], { env });
      expect(r.code, flag).toBe(0);
      expect(names(r.stdout), flag).toEqual(['ann', 'ben']);
    }
  });

  it('prints TSV without a header when piped, and a table on a terminal', async () => {
    await s.seedUsers(['zed'], { note: 'a\tb' });
    const piped = await cli(['users', 'view', '--name', 'zed'], { env });
    expect(piped.stdout).toBe('zed\t\tDefault\tenabled\tno\ta b\n');
    const tty = await cli(['users', 'view', '--name', 'zed', '--no-color'], { env, tty: true });
    expect(tty.stdout).toContain('│ NAME');
    expect(tty.stdout).toContain('│ zed');
    expect(tty.stdout).not.toContain('\u001b[');
  });

  it("says 'Found 0 users' on stderr and exits 0 when nothing matches", async () => {
    const r = await cli(['users', 'view', '--name', 'nobody'], { env });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toContain('Found 0 users');
  });

  it('a changing verb with --exact naming a user who is not there: not found, exit 1 (a filter: Found 0, exit 0)', async () => {
    for (const extra of [[], ['--dry-run'], ['--json']]) {
      const r = await cli(['users', 'disable', '--name', 'no-such-user', '--exact', '--yes', ...extra], {
        env,
      });
      expect([r.code, r.stdout, r.stderr], extra.join(' ')).toEqual([
        1,
        '',
        "error: user 'no-such-user' not found: nothing to disable\nhint: --exact matches the whole value, case-sensitively; without it the value is a substring\n",
      ]);
    }
    const grouped = await cli(
      ['users', 'disable', '--name', 'zed', '--group_name', 'Nobody', '--exact', '--yes'],
      { env },
    );
    expect([grouped.code, grouped.stderr.split('\n')[0]]).toEqual([
      1,
      "error: user 'zed' in group 'Nobody' not found: nothing to disable",
    ]);
    const filter = await cli(['users', 'disable', '--name', 'no-such-user', '--yes'], { env });
    expect([filter.code, filter.stderr]).toEqual([0, 'Found 0 users\n']);
  });

  it('treats % and _ per the wildcard rule, and --exact literally', async () => {
    await s.seedUsers(['build_bot', 'buildXbot', '100%uptime', "o'brien", 'José', '山田太郎']);
    const under = await cli(['users', 'view', '--name', 'build_bot', '--json'], { env });
    expect(names(under.stdout)).toEqual(['build_bot', 'buildXbot']);
    const exact = await cli(['users', 'view', '--name', 'build_bot', '--exact', '--json'], { env });
    expect(names(exact.stdout)).toEqual(['build_bot']);
    const pct = await cli(['users', 'view', '--name', '100%', '--json'], { env });
    expect(names(pct.stdout)).toEqual(['100%uptime']);
    const pctExact = await cli(['users', 'view', '--name', '100%uptime', '--exact', '--json'], { env });
    expect(names(pctExact.stdout)).toEqual(['100%uptime']);
    const quote = await cli(['users', 'view', '--name', "o'b", '--json'], { env });
    expect(names(quote.stdout)).toEqual(["o'brien"]);
    const accent = await cli(['users', 'view', '--name', 'josé', '--json'], { env });
    expect(names(accent.stdout)).toEqual(['José']);
    const cjk = await cli(['users', 'view', '--name', '山田', '--json'], { env });
    expect(names(cjk.stdout)).toEqual(['山田太郎']);
    // A backslash escapes the next character, as the server reads the pattern (as documented).
    await s.seedUsers(['back\\slash', 'backslash']);
    const plain = await cli(['users', 'view', '--name', 'back\\slash', '--json'], { env });
    expect(names(plain.stdout)).toEqual(['backslash']);
    const doubled = await cli(['users', 'view', '--name', 'back\\\\slash', '--json'], { env });
    expect(names(doubled.stdout)).toEqual(['back\\slash']);
    const literal = await cli(['users', 'view', '--name', 'back\\slash', '--exact', '--json'], { env });
    expect(names(literal.stdout)).toEqual(['back\\slash']);
  });

  it("'-' means 'not set'", async () => {
    const r = await cli(['users', 'view', '--group_name', '-', '--json'], { env });
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});

describe('users new and invite', () => {
  it('creates a user with the documented example, in both flag spellings', async () => {
    const r = await cli(
      [
        'users',
        'new',
        '--name',
        'username',
        '--password',
        'password123',
        '--group_name',
        'Default',
        '--email',
        'user@example.com',
        '--note',
        'nota',
      ],
      { env },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Created user username.');
    expect(r.stderr).toContain('--password-stdin');
    const u = await s.store.users.getByName('username');
    expect(u).toMatchObject({ email: 'user@example.com', note: 'nota', group_name: 'Default', status: 1 });
    const r2 = await cli(['users', 'new', '--name', 'u2', '--password-stdin', '--group-name', 'Default'], {
      env,
      stdin: 'password123\n',
    });
    expect(r2.code).toBe(0);
    const login = await s.login('u2', 'password123');
    expect(login).toMatch(/^rds_/);
  });

  it('validates before any request: missing flags and a short password are usage errors', async () => {
    const missing = await cli(['users', 'new', '--name', 'x'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('new needs --password, --group_name');
    const short = await cli(
      ['users', 'new', '--name', 'x', '--password', 'short', '--group_name', 'Default'],
      { env },
    );
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('between 8 and 128 characters');
    expect(s.logs.filter((l) => l.startsWith('POST /api/users'))).toEqual([]);
  });

  it('reports server-side refusals with exit 1: unknown group, duplicate name', async () => {
    const group = await cli(
      ['users', 'new', '--name', 'x', '--password', 'password123', '--group_name', 'Nope'],
      { env },
    );
    expect(group.code).toBe(1);
    expect(group.stderr).toContain("user group 'Nope' does not exist");
    const dup = await cli(
      ['users', 'new', '--name', 'admin', '--password', 'password123', '--group_name', 'Default'],
      { env },
    );
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("a user named 'admin' already exists");
  });

  it('invites: prints the one-time link (no email is claimed), and the link sets the password', async () => {
    const r = await cli(
      [
        'users',
        'invite',
        '--email',
        'user@example.com',
        '--name',
        'newbie',
        '--group_name',
        'Default',
        '--note',
        'n',
      ],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/No email was sent: give this link to the user \(valid until \d{4}-\d\d-\d\dT/);
    expect(r.stderr).not.toContain('warning');
    const link = r.stdout.trim();
    expect(link).toMatch(new RegExp(`^${s.url}/api/invitations/rdi_`));
    expect(await status('newbie')).toBe(-1);
    const accept = await fetch(link, { method: 'POST', body: JSON.stringify({ password: 'password123' }) });
    expect(accept.status).toBe(200);
    expect(await status('newbie')).toBe(1);
    expect(await s.login('newbie', 'password123')).toMatch(/^rds_/);
    const again = await fetch(link, { method: 'POST', body: JSON.stringify({ password: 'password123' }) });
    expect(again.status).toBe(404);
    const json = await cli(
      ['users', 'invite', '--email', 'b@example.com', '--name', 'b', '--group_name', 'Default', '--json'],
      { env },
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      email_sent: false,
      invitation_url: expect.stringContaining('/api/invitations/'),
    });
  });

  it('warns when the link does not start with the address rdadmin reached the server at', async () => {
    const other = await startTestServer({ config: { publicUrl: 'https://rd.example.com/rustdesk' } });
    try {
      const r = await cli(
        ['users', 'invite', '--email', 'p@example.com', '--name', 'pub', '--group_name', 'Default'],
        {
          env: { RDADMIN_URL: other.url, RDADMIN_TOKEN: other.token },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^https:\/\/rd\.example\.com\/rustdesk\/api\/invitations\/rdi_/);
      expect(r.stderr).toContain(
        `warning: the invitation link starts with https://rd.example.com/rustdesk, not with ${other.url} where rdadmin reached the server: if users cannot open it, start rdadmin serve with --public-url set to the address they reach it at (or, behind a reverse proxy, with --trust-proxy)`,
      );
    } finally {
      await other.close();
    }
  });

  it('an invitee disabled before accepting and enabled again gets the invitation back, not a login without a password', async () => {
    const r = await cli(
      ['users', 'invite', '--email', 'i@example.com', '--name', 'invitee', '--group_name', 'Default'],
      { env },
    );
    const link = r.stdout.trim();
    expect((await cli(['users', 'disable', '--name', 'invitee'], { env })).code).toBe(0);
    const suspended = await fetch(link, {
      method: 'POST',
      body: JSON.stringify({ password: 'password123' }),
    });
    expect(suspended.status).toBe(404);
    const enabled = await cli(['users', 'enable', '--name', 'invitee'], { env });
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(await status('invitee')).toBe(-1);
    expect((await s.store.audit.listConsole())[0]!.detail).toContain(
      "enabled user 'invitee' (invitation pending again, until ",
    );
    const accept = await fetch(link, { method: 'POST', body: JSON.stringify({ password: 'password123' }) });
    expect(accept.status).toBe(200);
    expect(await s.login('invitee', 'password123')).toMatch(/^rds_/);
  });

  it('invite needs --email, --name and --group_name', async () => {
    const r = await cli(['users', 'invite', '--name', 'x'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invite needs --email, --group_name');
  });

  it('an email the server would refuse is a usage error before any request (invite and new)', async () => {
    for (const email of ['bad', 'a@', '@b.com', 'a b@c.com', 'x@y']) {
      const r = await cli(['users', 'invite', '--email', email, '--name', 'x', '--group_name', 'Default'], {
        env,
      });
      expect(r.code, email).toBe(2);
      expect(r.stderr).toContain('--email must be an email address');
    }
    const created = await cli(
      [
        'users',
        'new',
        '--name',
        'x',
        '--password',
        'password123',
        '--group_name',
        'Default',
        '--email',
        'bad',
      ],
      { env },
    );
    expect(created.code).toBe(2);
    expect(s.logs.filter((l) => l.startsWith('POST /api/users'))).toEqual([]);
    expect(await s.store.users.getByName('x')).toBeUndefined();
  });
});

describe('invite --dry-run of a user invited before (the server clock is the real one here)', () => {
  it('foresees the refusal of a live link without --renew, and the renewal of a disabled user (whose link is suspended)', async () => {
    const args = [
      'users',
      'invite',
      '--email',
      'dry@example.com',
      '--name',
      'dry',
      '--group_name',
      'Default',
    ];
    expect((await cli(args, { env })).code).toBe(0);
    const live = await cli([...args, '--dry-run'], { env });
    expect([live.code, live.stderr.split('\n')[0]]).toEqual([
      1,
      expect.stringMatching(
        /^error: a user named 'dry' already exists, invited as <dry@example.com>, and that invitation's link works until /,
      ),
    ]);
    expect((await cli([...args, '--dry-run', '--renew'], { env })).code).toBe(0);
    expect((await cli(['users', 'disable', '--name', 'dry', '--exact', '--yes'], { env })).code).toBe(0);
    const disabled = await cli([...args, '--dry-run'], { env });
    expect([disabled.code, disabled.stderr]).toEqual([
      0,
      'Dry run: would renew the invitation of dry <dry@example.com> (a new link; the earlier one would stop working); nothing was changed.\n',
    ]);
    // and the real run does what the dry run said
    expect((await cli(args, { env })).code).toBe(0);
  });
});

describe('expired invitations', () => {
  const T0 = Date.parse('2026-09-01T09:00:00Z');
  const WEEK = 7 * 86_400_000;
  let now = T0;
  beforeEach(async () => {
    await s.close();
    now = T0;
    s = await startTestServer({ clock: () => new Date(now) });
    env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
  });

  const invite = (name: string, email: string, group = 'Default', renew?: boolean) =>
    s.call('POST', '/api/users/invite', s.token, {
      name,
      email,
      group_name: group,
      ...(renew === undefined ? {} : { renew }),
    });
  const accept = (url: string) =>
    fetch(url, { method: 'POST', body: JSON.stringify({ password: 'password123' }) });
  const row = async (name: string) => {
    const rows = (await s.call('GET', `/api/users?name=${name}`, s.token)).json?.['data'] as Record<
      string,
      unknown
    >[];
    return rows[0]!;
  };
  const guid = async (name: string) => (await s.store.users.getByName(name))!.guid;
  const details = async () => (await s.store.audit.listConsole()).map((e) => e.detail);

  it('view says until when; enable says it expired; inviting again renews it: new link, group and devices kept', async () => {
    await s.store.users.createGroup('Staff');
    const first = await invite('inv2', 'inv2@example.com', 'Staff');
    const oldLink = String(first.json?.['invitation_url']);
    const device = new SimClient(s.url, { id: '424242' });
    await device.heartbeat();
    await s.adminOk('POST', `/api/devices/${(await s.store.devices.getById('424242'))!.guid}/assign`, {
      type: 'user_name',
      value: 'inv2',
    });
    expect(await row('inv2')).toMatchObject({
      status: -1,
      invitation_expires_at: new Date(T0 + WEEK).toISOString(),
    });
    expect(await row('admin')).not.toHaveProperty('invitation_expires_at');

    now = T0 + WEEK + 1_000;
    expect((await accept(oldLink)).status).toBe(404);
    const enable = await s.call('POST', `/api/users/${await guid('inv2')}/enable`, s.token);
    expect(enable.status).toBe(400);
    expect(enable.json?.['error']).toBe(
      `the invitation of user 'inv2' expired at ${new Date(T0 + WEEK).toISOString()}: invite them again (the same name, email <inv2@example.com> and user group 'Staff') for a new link; the user keeps its group and assignments`,
    );
    // Another address or another group is not a renewal: 409, saying what would be.
    const other = await invite('inv2', 'else@example.com', 'Staff');
    expect(other.status).toBe(409);
    expect(other.json?.['error']).toBe(
      "a user named 'inv2' already exists, invited as <inv2@example.com> and not accepted yet: invite that address again for a new link, or delete the user to invite another address",
    );
    const group = await invite('inv2', 'inv2@example.com');
    expect(group.status).toBe(409);
    expect(group.json?.['error']).toContain("invite again with --group_name 'Staff'");

    // The CLI: a dry run foresees the renewal (not 'already exists'), and the run says what it did.
    const inviteArgs = [
      'users',
      'invite',
      '--email',
      'INV2@example.com',
      '--name',
      'inv2',
      '--group_name',
      'Staff',
    ];
    const dry = await cli([...inviteArgs, '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(
      'Dry run: would renew the invitation of inv2 <INV2@example.com> (a new link; the earlier one would stop working); nothing was changed.',
    );
    const dryOther = await cli(
      [...inviteArgs.slice(0, 3), 'else@example.com', ...inviteArgs.slice(4), '--dry-run'],
      {
        env,
      },
    );
    expect(dryOther.code).toBe(1);
    expect(dryOther.stderr).toContain("a user named 'inv2' already exists");
    const human = await cli(inviteArgs, { env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toContain(
      'Renewed the invitation of inv2: the earlier link no longer works. No email was sent: give this new link to the user (valid until',
    );
    // The new link works: inviting again is refused unless --renew asks for another one.
    const kept = await cli([...inviteArgs, '--json'], { env });
    expect([kept.code, kept.stdout]).toEqual([1, '']);
    expect(kept.stderr).toBe(
      `error: a user named 'inv2' already exists, invited as <inv2@example.com>, and that invitation's link works until ${new Date(now + WEEK).toISOString()}: ask for a new link with "renew": true (rdadmin users invite --renew), which ends the earlier one (HTTP 409)\n`,
    );
    const again = await cli([...inviteArgs, '--renew', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    const renewed = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(renewed).toMatchObject({
      guid: await guid('inv2'),
      expires_at: new Date(now + WEEK).toISOString(),
      email_sent: false,
      renewed: true,
    });
    expect(renewed['invitation_url']).not.toBe(oldLink);
    expect(await row('inv2')).toMatchObject({
      status: -1,
      group_name: 'Staff',
      invitation_expires_at: new Date(now + WEEK).toISOString(),
    });
    expect((await details())[0]).toBe(
      `invitation renewed for user 'inv2' <inv2@example.com>: the earlier link no longer works; no email sent, invitation link handed to the operator (expires ${new Date(now + WEEK).toISOString()}) (API token 'all')`,
    );
    expect((await accept(String(renewed['invitation_url']))).status).toBe(200);
    expect(await row('inv2')).toMatchObject({ status: 1, group_name: 'Staff' });
    expect(await row('inv2')).not.toHaveProperty('invitation_expires_at');
    expect((await s.store.devices.getById('424242'))!.user_guid).toBe(await guid('inv2'));
    // Accepted: an invitation is not renewed any more.
    const late = await invite('inv2', 'inv2@example.com', 'Staff');
    expect(late.status).toBe(409);
    expect(late.json?.['error']).toBe(
      "a user named 'inv2' already exists and can log in (an invitation is renewed only for a user who never accepted one): choose another name",
    );
  });

  it('an unexpired link is replaced only when asked ("renew": true); the earlier one then stops working', async () => {
    const first = await invite('inv3', 'inv3@example.com');
    now += 60_000;
    for (const renew of [undefined, false]) {
      const kept = await invite('inv3', 'inv3@example.com', 'Default', renew);
      expect([kept.status, kept.json?.['error']]).toEqual([
        409,
        `a user named 'inv3' already exists, invited as <inv3@example.com>, and that invitation's link works until ${new Date(T0 + WEEK).toISOString()}: ask for a new link with "renew": true (rdadmin users invite --renew), which ends the earlier one`,
      ]);
    }
    expect(
      (await s.call('GET', `/api/invitations/${String(first.json?.['invitation_url']).split('/').pop()}`, ''))
        .status,
    ).toBe(200);
    const second = await invite('inv3', 'inv3@example.com', 'Default', true);
    expect(second.status).toBe(200);
    expect((await accept(String(first.json?.['invitation_url']))).status).toBe(404);
    expect((await accept(String(second.json?.['invitation_url']))).status).toBe(200);
  });

  it('disabled before it expired, enabled after: refused as expired (no pending claim); inviting again brings the user back', async () => {
    await invite('inv4', 'inv4@example.com');
    const g = await guid('inv4');
    expect((await s.call('POST', `/api/users/${g}/disable`, s.token)).status).toBe(200);
    now = T0 + WEEK + 1_000;
    const enable = await s.call('POST', `/api/users/${g}/enable`, s.token);
    expect(enable.status).toBe(400);
    expect(enable.json?.['error']).toMatch(/^the invitation of user 'inv4' expired at .*: invite them again/);
    expect((await s.store.users.getByName('inv4'))!.status).toBe(0);
    expect((await details()).some((d) => d.includes('pending again'))).toBe(false);
    const again = await invite('inv4', 'inv4@example.com');
    expect(again.status).toBe(200);
    expect((await s.store.users.getByName('inv4'))!.status).toBe(-1);
    expect((await details())[0]).toContain(
      "invitation renewed for user 'inv4' <inv4@example.com> (was disabled)",
    );
    // Disabled again and enabled while the new link works: pending again, and it says until when.
    await s.call('POST', `/api/users/${g}/disable`, s.token);
    expect((await s.call('POST', `/api/users/${g}/enable`, s.token)).status).toBe(200);
    expect((await details())[0]).toBe(
      `enabled user 'inv4' (invitation pending again, until ${new Date(now + WEEK).toISOString()}) (API token 'all')`,
    );
  });
});

describe('users disable / enable / delete: safety', () => {
  beforeEach(async () => {
    await s.seedUsers(['demo', 'demo-alice', 'demo_bob', 'other']);
  });

  it('acts on a single exact match without asking', async () => {
    const r = await cli(['users', 'disable', '--name', 'other'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Disabled other\n');
    expect(await status('other')).toBe(0);
  });

  it('refuses without a TTY and without --yes when several match: exit 3, nothing changed', async () => {
    const r = await cli(['users', 'disable', '--name', 'demo'], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('3 users match');
    expect(r.stderr).toContain('--yes');
    for (const n of ['demo', 'demo-alice', 'demo_bob']) expect(await status(n)).toBe(1);
  });

  it('a single non-exact match also needs confirmation', async () => {
    const r = await cli(['users', 'disable', '--name', 'alice'], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("'demo-alice', is not an exact match");
    expect(await status('demo-alice')).toBe(1);
  });

  it('--yes --json disables every match in parallel and prints one result per user', async () => {
    const r = await cli(['users', 'disable', '--name', 'demo', '--yes', '--json'], { env });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; ok: boolean; action: string; guid: string }[];
    expect(out.map((x) => x.name).sort()).toEqual(['demo', 'demo-alice', 'demo_bob']);
    expect(out.every((x) => x.ok && x.action === 'disable' && x.guid)).toBe(true);
    for (const n of ['demo', 'demo-alice', 'demo_bob']) expect(await status(n)).toBe(0);
    expect(await status('other')).toBe(1);
  });

  it('asks on a terminal: yes proceeds, no exits 3 and changes nothing', async () => {
    const no = await cli(['users', 'disable', '--name', 'demo'], { env, tty: true, answer: false });
    expect(no.code).toBe(3);
    expect(no.asked).toEqual(['Disable 3 users?']);
    expect(no.stderr).toContain('demo-alice');
    expect(await status('demo')).toBe(1);
    const yes = await cli(['users', 'disable', '--name', 'demo'], { env, tty: true, answer: true });
    expect(yes.code).toBe(0);
    expect(await status('demo')).toBe(0);
  });

  it('the real prompt reads the answer from a terminal stream', async () => {
    for (const [answer, code, st] of [
      ['n\r', 3, 1],
      ['y\r', 0, 0],
    ] as const) {
      const stdin = new PassThrough();
      const run = cli(['users', 'enable', '--name', 'demo', '--no-color'], {
        env,
        tty: true,
        stdinStream: stdin,
      });
      if (st === 0)
        await s.store.users.update([(await s.store.users.getByName('demo'))!.guid], { status: 1 });
      const typed = setInterval(() => stdin.write(answer), 100);
      const r = await run;
      clearInterval(typed);
      expect(r.code).toBe(code);
      expect(r.stderr).toContain('Enable 3 users?');
    }
  });

  it('--dry-run lists the targets and changes nothing', async () => {
    // Enabled users: listed, and refused as the real run would refuse them (disable them first).
    const enabled = await cli(['users', 'delete', '--name', 'demo', '--dry-run'], { env });
    expect(enabled.code).toBe(1);
    expect(enabled.stdout.split('\n').filter(Boolean).sort()).toEqual(['demo', 'demo-alice', 'demo_bob']);
    expect(enabled.stderr).toContain('Dry run: would delete 3 users');
    expect(enabled.stderr).toContain('the real run would fail for 3 of the 3 users');
    for (const n of ['demo', 'demo-alice', 'demo_bob'])
      await s.store.users.update([(await s.store.users.getByName(n))!.guid], { status: 0 });
    const r = await cli(['users', 'delete', '--name', 'demo', '--dry-run'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['demo', 'demo-alice', 'demo_bob']);
    expect(r.stderr).toContain('Dry run: would delete 3 users');
    const j = await cli(['users', 'delete', '--name', 'demo', '--dry-run', '--json'], { env });
    expect((JSON.parse(j.stdout) as { dry_run: boolean }[]).every((x) => x.dry_run)).toBe(true);
    expect(await s.store.users.countAll()).toBe(5);
  });

  it('a mutation with no filter needs --all', async () => {
    const r = await cli(['users', 'force-logout', '--yes'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--all');
    const all = await cli(['users', 'disable-email-verification', '--all', '--yes', '--json'], { env });
    // every user is attempted; an API token may not change the administrator account, which fails alone
    const results = JSON.parse(all.stdout) as { name: string; ok: boolean; status?: number }[];
    expect(results).toHaveLength(5);
    expect(results.filter((x) => !x.ok)).toMatchObject([{ name: 'admin', status: 400 }]);
    expect(all.code).toBe(1);
  });

  it('partial failure: continues, summarises, exits 1', async () => {
    await cli(['users', 'disable', '--name', 'demo_bob'], { env });
    const r = await cli(['users', 'delete', '--name', 'demo', '--yes'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Deleted demo_bob\n');
    expect(r.stderr).toContain(
      "FAILED to delete demo: user 'demo' is enabled: disable it first, then delete it (HTTP 400)",
    );
    expect(r.stderr).toContain('Deleted 1 of 3 users; 2 failed.');
    const j = await cli(['users', 'delete', '--name', 'demo', '--yes', '--json'], { env });
    const results = JSON.parse(j.stdout) as { ok: boolean; status?: number }[];
    expect(results).toHaveLength(2);
    expect(results.every((x) => !x.ok && x.status === 400)).toBe(true);
    expect(j.code).toBe(1);
  });

  it('never lets the acting administrator disable or delete themselves', async () => {
    const r = await cli(['users', 'disable', '--name', 'admin', '--exact'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot disable the account you are acting as');
    expect(await status('admin')).toBe(1);
  });

  it('enable re-enables disabled users', async () => {
    await cli(['users', 'disable', '--name', 'demo', '--yes'], { env });
    const r = await cli(['users', 'enable', '--name', 'demo', '--yes'], { env });
    expect(r.code).toBe(0);
    expect(await status('demo_bob')).toBe(1);
  });
});

describe('users 2FA, verification and sessions', () => {
  beforeEach(async () => {
    await s.seedUsers(['mike']);
  });

  it('enable-2fa-enforce checks --web-console-url before any request (D-14)', async () => {
    const r = await cli(['users', 'enable-2fa-enforce', '--name', 'mike'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--web-console-url');
    expect(s.logs.filter((l) => l.includes('/api/users'))).toEqual([]);
  });

  it('enforces and stops enforcing 2FA', async () => {
    const on = await cli(
      ['users', 'enable-2fa-enforce', '--name', 'mike', '--web-console-url', 'https://console.example.com'],
      { env },
    );
    expect(on.code).toBe(0);
    expect(on.stdout).toBe('Enforced 2FA for mike\n');
    expect(await s.store.users.getByName('mike')).toMatchObject({
      tfa_enforced: 1,
      tfa_enforce_url: 'https://console.example.com',
    });
    const off = await cli(['users', 'disable-2fa-enforce', '--name', 'mike'], { env });
    expect(off.code).toBe(0);
    expect((await s.store.users.getByName('mike'))?.tfa_enforced).toBe(0);
  });

  it('reset-2fa clears TOTP; disable-email-verification clears the flag', async () => {
    const mike = (await s.store.users.getByName('mike'))!;
    await s.store.users.update([mike.guid], { totp_secret: 'SECRET', email_verification: 1 });
    expect((await cli(['users', 'reset-2fa', '--name', 'mike'], { env })).code).toBe(0);
    expect((await s.store.users.getByName('mike'))?.totp_secret).toBeNull();
    expect((await cli(['users', 'disable-email-verification', '--name', 'mike'], { env })).code).toBe(0);
    expect((await s.store.users.getByName('mike'))?.email_verification).toBe(0);
  });

  it('force-logout ends the user’s sessions', async () => {
    const session = await s.login('mike', 'password123');
    const before = await s.fetch('/api/currentUser', { method: 'POST', token: session });
    expect(before.status).toBe(200);
    const r = await cli(['users', 'force-logout', '--name', 'mike'], { env });
    expect(r.code).toBe(0);
    const after = await s.fetch('/api/currentUser', { method: 'POST', token: session });
    expect(after.status).toBe(401);
  });

  it('records every change in the console audit log, attributed to the token owner', async () => {
    await cli(['users', 'disable', '--name', 'mike'], { env });
    const log = await s.store.audit.listConsole();
    expect(log[0]).toMatchObject({
      typ: 1,
      iop: 7,
      operator: 'admin',
      detail: "disabled user 'mike' (API token 'all')",
    });
  });
});

describe('global flags and configuration', () => {
  it('accepts global flags before or after the verb, and the script-style order', async () => {
    await s.seedUsers(['x1']);
    const before = await cli(['--json', '--url', s.url, 'users', 'view', '--name', 'x1'], {
      env: { RDADMIN_TOKEN: s.token },
    });
    const after = await cli(['users', 'view', '--name', 'x1', '--url', s.url, '--json'], {
      env: { RDADMIN_TOKEN: s.token },
    });
    const between = await cli(['users', '--url', s.url, 'view', '--json', '--name', 'x1'], {
      env: { RDADMIN_TOKEN: s.token },
    });
    for (const r of [before, after, between]) {
      expect(r.code).toBe(0);
      expect(names(r.stdout)).toEqual(['x1']);
    }
  });

  it('--token works but warns; --token-file reads a file or stdin', async () => {
    const flag = await cli(['users', 'view', '--url', s.url, '--token', s.token, '--json']);
    expect(flag.code).toBe(0);
    expect(flag.stderr).toContain('--token-file');
    expect(flag.stderr).not.toContain(s.token);
    const stdin = await cli(['users', 'view', '--url', s.url, '--token-file', '-', '--json'], {
      stdin: `${s.token}\n`,
    });
    expect(stdin.code).toBe(0);
    expect(stdin.stderr).toBe('');
  });

  it('missing URL or token is a usage error that names the fix', async () => {
    const noUrl = await cli(['users', 'view'], { env: { RDADMIN_TOKEN: s.token } });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('no server URL');
    expect(noUrl.stderr).toContain('rdadmin login');
    const noToken = await cli(['users', 'view', '--url', s.url]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('no token');
  });

  it('a token without user permission is refused with exit 4 and the reason', async () => {
    const t = await s.makeToken('device:rw');
    const r = await cli(['users', 'view', '--url', s.url], { env: { RDADMIN_TOKEN: t } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('lacks permission user:r');
    const ro = await s.makeToken('user:r');
    const w = await cli(['users', 'disable', '--name', 'admin', '--exact', '--url', s.url], {
      env: { RDADMIN_TOKEN: ro },
    });
    expect(w.code).toBe(4);
    expect(w.stderr).toContain('lacks permission user:rw');
  });

  it('a 401/403 in a bulk run stops it at once (exit 4) and marks the rest not attempted', async () => {
    await s.seedUsers(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
    const ro = await s.makeToken('user:r');
    const run = (extra: string[]) =>
      cli(['users', 'disable', '--name', 'b', '--yes', '--json', '--concurrency', '1', ...extra], {
        env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: ro },
      });
    const r = await run(['--no-batch']);
    expect(r.code).toBe(4);
    const results = JSON.parse(r.stdout) as { ok: boolean; attempted: boolean; error: string }[];
    expect(results).toHaveLength(6);
    expect(results.filter((x) => x.attempted)).toHaveLength(1);
    expect(r.stderr).toContain('5 not attempted');
    // In one batch all six were sent together: each refused on its own, none not attempted.
    const b = await run([]);
    expect(b.code).toBe(4);
    const batched = JSON.parse(b.stdout) as { ok: boolean; attempted: boolean; error: string }[];
    expect(batched.map((x) => [x.ok, x.attempted])).toEqual(Array(6).fill([false, true]));
    for (const x of batched) expect(x.error).toMatch(/lacks permission user:rw/);
    expect(b.stderr).toContain('Disabled 0 of 6 users; 6 failed. Stopped: permission denied');
    expect((await s.store.users.getByName('b1'))?.status).toBe(1);
  });
});

describe('help', () => {
  it('rdadmin help users prints the area help (exit 0); users without a verb is a usage error (exit 2)', async () => {
    const help = await cli(['help', 'users']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: rdadmin users');
    const missing = await cli(['users']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Usage: rdadmin users');
  });
});
