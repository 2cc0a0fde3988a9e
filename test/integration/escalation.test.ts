import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// Ways a caller could gain more than it was given. An API token is an administrator's delegate
// within its areas (server-model.md §1.1: delegates never edit administrator accounts).

let s: TestServer;
let now: number;

beforeEach(async () => {
  now = Date.parse('2026-11-26T12:00:00.000Z');
  s = await startTestServer({ clock: () => new Date(now) });
});
afterEach(async () => {
  await s.close();
});

const guidOf = async (name: string) => (await s.store.users.getByName(name))!.guid;

/** A second administrator, 'ops-admin', made by admin's session (which it answers). */
async function makeOpsAdmin(): Promise<string> {
  const session = await s.login('admin', 'test1234');
  const body = { name: 'ops-admin', password: 'opsadmin123', group_name: 'Default', is_admin: true };
  expect((await s.call('POST', '/api/users', session, body)).status).toBe(200);
  return session;
}

describe('an API token never makes or changes an administrator', () => {
  it('user:rw cannot create an administrator; an administrator session can', async () => {
    const userRw = await s.makeToken('user:rw');
    const body = { name: 'evil', password: 'evilpass123', group_name: 'Default', is_admin: true };
    const r = await s.call('POST', '/api/users', userRw, body);
    expect(r.status).toBe(403);
    expect(r.json?.['error']).toBe(
      "an API token cannot create an administrator: that takes an administrator's session (rdadmin login)",
    );
    expect(await s.store.users.getByName('evil')).toBeUndefined();
    // not even the all:rw token
    expect((await s.call('POST', '/api/users', s.token, body)).status).toBe(403);
    // a plain user is fine
    const plain = await s.call('POST', '/api/users', userRw, { ...body, is_admin: false });
    expect(plain.status).toBe(200);
    expect(plain.json?.['is_admin']).toBe(false);
    const session = await s.login('admin', 'test1234');
    const made = await s.call('POST', '/api/users', session, { ...body, name: 'second-admin' });
    expect(made.status).toBe(200);
    expect(made.json?.['is_admin']).toBe(true);
  });

  it('disable, enable, delete, 2FA, login verification and force-logout of an administrator are refused to tokens', async () => {
    const session = await makeOpsAdmin();
    await s.seedUsers(['alice']);
    const ops = await guidOf('ops-admin');
    const alice = await guidOf('alice');
    const token = s.token;
    const attempts: [string, string, unknown][] = [
      ['POST', `/api/users/${ops}/disable`, undefined],
      ['POST', `/api/users/${ops}/enable`, undefined],
      ['DELETE', `/api/users/${ops}`, undefined],
      ['PUT', '/api/users/tfa/totp/enforce', { user_guids: [alice, ops], enforce: true, url: 'https://c' }],
      ['PUT', '/api/users/disable_login_verification', { user_guids: [ops], type: '2fa' }],
      ['POST', '/api/users/force-logout', { user_guids: [alice, ops] }],
    ];
    const opsSession = await s.login('ops-admin', 'opsadmin123');
    for (const [method, path, body] of attempts) {
      const r = await s.call(method, path, token, body);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(String(r.json?.['error']), path).toMatch(
        /^an API token cannot .+ an administrator account \('ops-admin'\): that takes an administrator's session/,
      );
    }
    const after = await s.store.users.getByName('ops-admin');
    expect(after).toMatchObject({ status: 1, tfa_enforced: 0 });
    // ops-admin's session was not ended, and alice (in the same request) was left alone too
    expect((await s.call('POST', '/api/currentUser', opsSession, {})).status).toBe(200);
    expect((await s.store.users.getByName('alice'))!.tfa_enforced).toBe(0);

    // the same changes on a plain user still work with a token; on the administrator, with a session
    expect((await s.call('POST', `/api/users/${alice}/disable`, token)).status).toBe(200);
    expect((await s.call('POST', `/api/users/${ops}/disable`, session)).status).toBe(200);
  });

  it('a bulk run says which accounts were refused, changes the others, and exits 1', async () => {
    await makeOpsAdmin();
    await s.seedUsers(['ops-user']);
    const r = await cli(['users', 'disable', '--name', 'ops', '--yes'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Disabled ops-user\n');
    expect(r.stderr).toContain(
      "FAILED to disable ops-admin: an API token cannot disable an administrator account ('ops-admin'): that takes an administrator's session (rdadmin login) (HTTP 400)",
    );
    expect((await s.store.users.getByName('ops-admin'))!.status).toBe(1);

    // verbs that send many users per request send an administrator alone, so it fails alone
    await s.seedUsers(['ops-user2']);
    const fl = await cli(['users', 'force-logout', '--name', 'ops', '--yes', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token },
    });
    expect(fl.code).toBe(1);
    const results = (JSON.parse(fl.stdout) as { name: string; ok: boolean }[])
      .map((x) => [x.name, x.ok])
      .sort();
    expect(results).toEqual([
      ['ops-admin', false],
      ['ops-user', true],
      ['ops-user2', true],
    ]);
  });
});

describe('sessions do not last for ever', () => {
  it('a session unused for more than 30 days has expired (401, gone); one in use stays', async () => {
    const idle = await s.login('admin', 'test1234');
    const busy = await s.login('admin', 'test1234');
    const me = (token: string) => s.call('POST', '/api/currentUser', token, {});
    for (let day = 0; day < 40; day += 10) {
      now += 10 * 86_400_000;
      expect((await me(busy)).status, `day ${day + 10}`).toBe(200);
    }
    // /api/currentUser says 'Invalid token' (the legacy client's cue); the reason is in the header
    const r = await s.fetch('/api/currentUser', { method: 'POST', token: idle });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: 'Invalid token' });
    expect(r.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="session expired: unused for more than 30 days; log in again"',
    );
    const rows = s.store.database.sqlite.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number };
    expect(rows.n).toBe(1);
  });
});
