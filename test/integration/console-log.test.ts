import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleOp, ConsoleType } from '../../src/server/store/audit';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// Every admin mutation of every area lands in the console log with Pro's typ/iop codes, the
// operator, the client IP and a detail. One row per mutation: an area adds its own rows here.

interface Helpers {
  s: TestServer;
  /** An administrator's session (token management needs one). */
  session: string;
  call(method: string, path: string, body?: unknown, token?: string): Promise<unknown>;
  userGuid(name: string): Promise<string>;
}

interface Mutation {
  what: string;
  act(h: Helpers): Promise<unknown>;
  typ: number;
  iop: number;
  /** The detail of the newest console record. */
  detail: string | RegExp;
}

const VIA_TOKEN = " (API token 'all')";

const MUTATIONS: Mutation[] = [
  {
    what: 'users: create',
    act: (h) =>
      h.call('POST', '/api/users', { name: 'cl-user', password: 'password123', group_name: 'Default' }),
    typ: ConsoleType.user,
    iop: ConsoleOp.addUser,
    detail: `created user 'cl-user'${VIA_TOKEN}`,
  },
  {
    what: 'users: invite',
    act: (h) =>
      h.call('POST', '/api/users/invite', { email: 'i@example.com', name: 'cl-inv', group_name: 'Default' }),
    typ: ConsoleType.user,
    iop: ConsoleOp.addUser,
    detail: /^invited user 'cl-inv' <i@example\.com>; no email sent/,
  },
  {
    what: 'users: disable',
    act: async (h) => h.call('POST', `/api/users/${await h.userGuid('cl-user')}/disable`),
    typ: ConsoleType.user,
    iop: ConsoleOp.disableUsers,
    detail: `disabled user 'cl-user'${VIA_TOKEN}`,
  },
  {
    what: 'users: enable',
    act: async (h) => h.call('POST', `/api/users/${await h.userGuid('cl-user')}/enable`),
    typ: ConsoleType.user,
    iop: ConsoleOp.enableUsers,
    detail: `enabled user 'cl-user'${VIA_TOKEN}`,
  },
  {
    what: 'users: enforce 2FA',
    act: async (h) =>
      h.call('PUT', '/api/users/tfa/totp/enforce', {
        user_guids: [await h.userGuid('cl-user')],
        enforce: true,
        url: 'https://console.example.com',
      }),
    typ: ConsoleType.user,
    iop: ConsoleOp.updateUser,
    detail: `enforced 2FA for cl-user${VIA_TOKEN}`,
  },
  {
    what: 'users: stop enforcing 2FA',
    act: async (h) =>
      h.call('PUT', '/api/users/tfa/totp/enforce', {
        user_guids: [await h.userGuid('cl-user')],
        enforce: false,
      }),
    typ: ConsoleType.user,
    iop: ConsoleOp.updateUser,
    detail: `stopped enforcing 2FA for cl-user${VIA_TOKEN}`,
  },
  {
    what: 'users: disable email verification',
    act: async (h) =>
      h.call('PUT', '/api/users/disable_login_verification', {
        user_guids: [await h.userGuid('cl-user')],
        type: 'email',
      }),
    typ: ConsoleType.user,
    iop: ConsoleOp.updateUser,
    detail: `disabled email login verification for cl-user${VIA_TOKEN}`,
  },
  {
    what: 'users: reset 2FA',
    act: async (h) =>
      h.call('PUT', '/api/users/disable_login_verification', {
        user_guids: [await h.userGuid('cl-user')],
        type: '2fa',
      }),
    typ: ConsoleType.user,
    iop: ConsoleOp.updateUser,
    detail: `reset 2FA for cl-user${VIA_TOKEN}`,
  },
  {
    what: 'users: force logout',
    act: async (h) =>
      h.call('POST', '/api/users/force-logout', { user_guids: [await h.userGuid('cl-user')] }),
    typ: ConsoleType.user,
    iop: ConsoleOp.updateUser,
    detail: `forced logout of cl-user (0 sessions)${VIA_TOKEN}`,
  },
  {
    what: 'users: delete (after disabling)',
    act: async (h) => {
      const guid = await h.userGuid('cl-inv');
      await h.call('POST', `/api/users/${guid}/disable`);
      return h.call('DELETE', `/api/users/${guid}`);
    },
    typ: ConsoleType.user,
    iop: ConsoleOp.deleteUser,
    detail: `deleted user 'cl-inv'${VIA_TOKEN}`,
  },
  {
    what: 'tokens: create',
    act: (h) => h.call('POST', '/api/tokens', { name: 'cl-token', permissions: { user: 'r' } }, h.session),
    typ: ConsoleType.user,
    iop: ConsoleOp.updateUser,
    detail: "created API token 'cl-token' (user:r)",
  },
  {
    what: 'tokens: revoke',
    act: async (h) => {
      const t = await h.s.store.auth.getLiveTokenByName('cl-token');
      return h.call('DELETE', `/api/tokens/${t!.guid}`, undefined, h.session);
    },
    typ: ConsoleType.user,
    iop: ConsoleOp.updateUser,
    detail: "revoked API token 'cl-token'",
  },
  {
    what: 'login',
    act: (h) => h.s.login('admin', 'test1234'),
    typ: ConsoleType.user,
    iop: ConsoleOp.userLogin,
    detail: 'login',
  },
];

let s: TestServer;
let h: Helpers;

beforeAll(async () => {
  s = await startTestServer();
  const session = await s.login('admin', 'test1234');
  h = {
    s,
    session,
    async call(method, path, body, token = s.token) {
      const r = await s.fetch(path, {
        method,
        token,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`${method} ${path}: HTTP ${r.status} ${text}`);
      return text;
    },
    async userGuid(name) {
      return (await s.store.users.getByName(name))!.guid;
    },
  };
});
afterAll(async () => {
  await s.close();
});

interface ConsoleRow {
  typ: number;
  iop: number;
  operator: string;
  ip: string;
  detail: string;
  created_at: number;
}

async function newest(): Promise<ConsoleRow> {
  const r = await s.fetch('/api/audits/console?pageSize=1', { token: s.token });
  return ((await r.json()) as { data: ConsoleRow[] }).data[0]!;
}

describe('the console log records every admin mutation', () => {
  it.each(MUTATIONS)('$what', async (m) => {
    const before = await newest();
    await m.act(h);
    const row = await newest();
    expect(row).not.toEqual(before);
    expect(row).toMatchObject({ typ: m.typ, iop: m.iop, operator: 'admin', ip: '127.0.0.1' });
    if (typeof m.detail === 'string') expect(row.detail).toBe(m.detail);
    else expect(row.detail).toMatch(m.detail);
    expect(Math.abs(row.created_at * 1000 - Date.now())).toBeLessThan(60_000);
  });

  it('`rdadmin audits view-console --operator admin --days-ago 1` lists every change made', async () => {
    const env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
    const r = await cli(
      ['audits', 'view-console', '--operator', 'admin', '--days-ago', '1', '--all', '--json'],
      {
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as ConsoleRow[];
    const details = rows.map((x) => x.detail);
    for (const m of MUTATIONS) {
      if (typeof m.detail === 'string') expect(details, m.what).toContain(m.detail);
      else
        expect(
          details.some((d) => (m.detail as RegExp).test(d)),
          m.what,
        ).toBe(true);
    }
    const labelled = await cli(['audits', 'view-console', '--operator', 'admin', '--days-ago', '1'], { env });
    expect(labelled.stdout).toContain('\tUser Management\tDisable Users\tadmin\t127.0.0.1\tdisabled user');
    expect(labelled.stdout).toContain('\tUser Management\tUser Login\tadmin\t127.0.0.1\tlogin\n');
  });
});
