import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleOp, ConsoleType } from '../../src/server/store/audit';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// Every admin mutation of every area lands in the console log with Pro's typ/iop codes, the
// operator, the client IP and a detail. One row per mutation: an area adds its own rows here.

interface Helpers {
  s: TestServer;
  /** An administrator's session (token management and settings need one). */
  session: string;
  /** A stock client that registered through heartbeat and system info. */
  pc: SimClient;
  call(method: string, path: string, body?: unknown, token?: string): Promise<unknown>;
  userGuid(name: string): Promise<string>;
  /** A record's GUID by its listing: devices by ID, groups and strategies by name. */
  guid(
    kind: 'device' | 'user-group' | 'device-group' | 'strategy' | 'address-book',
    key: string,
  ): Promise<string>;
  /** The GUID of the (only) sharing rule of an address book. */
  ruleGuid(book: string): Promise<string>;
}

interface Mutation {
  what: string;
  act(h: Helpers): Promise<unknown>;
  typ: number;
  iop: number;
  /** The detail of the newest console record. */
  detail: string | RegExp;
  /** Checks what `act` returned. */
  check?: (out: unknown) => void;
}

/** The RustDesk ID of the client that registers before the rows run. */
const PC = '300000001';

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
    what: 'devices: disable',
    act: async (h) => h.call('POST', `/api/devices/${await h.guid('device', PC)}/disable`),
    typ: ConsoleType.device,
    iop: ConsoleOp.disableDevices,
    detail: new RegExp(`^disabled device ${PC}`),
  },
  {
    what: 'devices: enable',
    act: async (h) => h.call('POST', `/api/devices/${await h.guid('device', PC)}/enable`),
    typ: ConsoleType.device,
    iop: ConsoleOp.enableDevices,
    detail: new RegExp(`^enabled device ${PC}`),
  },
  {
    what: 'devices: assign (devices.py assign)',
    act: async (h) =>
      h.call('POST', `/api/devices/${await h.guid('device', PC)}/assign`, {
        type: 'note',
        value: 'front desk',
      }),
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: new RegExp(`^device ${PC}: note set`),
  },
  {
    what: 'devices: rustdesk --assign',
    act: (h) => h.pc.assign(h.s.token, { note: 'by the client' }),
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: /rustdesk --assign/,
  },
  {
    what: 'settings: change',
    act: (h) => h.call('PUT', '/api/settings', { require_deployment: true }, h.session),
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: /^settings: require_deployment=true$/,
  },
  {
    what: 'devices: rustdesk --deploy',
    act: async (h) => {
      const result = await new SimClient(h.s.url, { id: '300000002' }).deploy(h.s.token);
      await h.call('PUT', '/api/settings', { require_deployment: false }, h.session);
      const r = await h.s.fetch('/api/audits/console?pageSize=2', { token: h.s.token });
      // The deploy record is the one before the settings change.
      return { result, second: ((await r.json()) as { data: { detail: string }[] }).data[1]?.detail };
    },
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: /^settings: require_deployment=false$/,
    check: (out) =>
      expect(out).toEqual({ result: 'OK', second: expect.stringMatching(/deployed device 300000002/) }),
  },
  {
    what: 'user groups: create',
    act: (h) => h.call('POST', '/api/user-groups', { name: 'cl-ug' }),
    typ: ConsoleType.group,
    iop: ConsoleOp.addGroup,
    detail: /^created user group 'cl-ug'/,
  },
  {
    what: 'user groups: update',
    act: async (h) =>
      h.call('PATCH', `/api/user-groups/${await h.guid('user-group', 'cl-ug')}`, { note: 'n' }),
    typ: ConsoleType.group,
    iop: ConsoleOp.updateGroup,
    detail: /^updated user group 'cl-ug'/,
  },
  {
    what: 'user groups: add users',
    act: async (h) =>
      h.call('POST', `/api/user-groups/${await h.guid('user-group', 'cl-ug')}`, [
        await h.userGuid('cl-user'),
      ]),
    typ: ConsoleType.group,
    iop: ConsoleOp.updateGroup,
    detail: /cl-user.* to user group 'cl-ug'/,
  },
  {
    what: 'user groups: delete',
    act: async (h) => {
      await h.call('POST', '/api/user-groups', { name: 'cl-ug-gone' });
      return h.call('DELETE', `/api/user-groups/${await h.guid('user-group', 'cl-ug-gone')}`);
    },
    typ: ConsoleType.group,
    iop: ConsoleOp.deleteGroups,
    detail: /^deleted user group 'cl-ug-gone'/,
  },
  {
    what: 'device groups: create',
    act: (h) => h.call('POST', '/api/device-groups', { name: 'cl-dg' }),
    typ: ConsoleType.group,
    iop: ConsoleOp.addGroup,
    detail: /^created device group 'cl-dg'/,
  },
  {
    what: 'device groups: update',
    act: async (h) =>
      h.call('PATCH', `/api/device-groups/${await h.guid('device-group', 'cl-dg')}`, { note: 'n' }),
    typ: ConsoleType.group,
    iop: ConsoleOp.updateGroup,
    detail: /^updated device group 'cl-dg'/,
  },
  {
    what: 'device groups: add devices',
    act: async (h) => h.call('POST', `/api/device-groups/${await h.guid('device-group', 'cl-dg')}`, [PC]),
    typ: ConsoleType.group,
    iop: ConsoleOp.updateGroup,
    detail: new RegExp(`^added devices ${PC} to device group 'cl-dg'`),
  },
  {
    what: 'device groups: remove devices',
    act: async (h) =>
      h.call('DELETE', `/api/device-groups/${await h.guid('device-group', 'cl-dg')}/devices`, [PC]),
    typ: ConsoleType.group,
    iop: ConsoleOp.updateGroup,
    detail: new RegExp(`^removed devices ${PC} from device group 'cl-dg'`),
  },
  {
    what: 'device groups: delete',
    act: async (h) => h.call('DELETE', `/api/device-groups/${await h.guid('device-group', 'cl-dg')}`),
    typ: ConsoleType.group,
    iop: ConsoleOp.deleteGroups,
    detail: /^deleted device group 'cl-dg'/,
  },
  {
    what: 'strategies: create',
    act: (h) => h.call('POST', '/api/strategies', { name: 'cl-st', options: { 'enable-keyboard': 'N' } }),
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: /^created strategy 'cl-st'/,
  },
  {
    what: 'strategies: update',
    act: async (h) =>
      h.call('PATCH', `/api/strategies/${await h.guid('strategy', 'cl-st')}`, {
        options: { 'enable-audio': 'N' },
      }),
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: /^updated strategy 'cl-st'/,
  },
  {
    what: 'strategies: disable',
    act: async (h) => h.call('PUT', `/api/strategies/${await h.guid('strategy', 'cl-st')}/status`, false),
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: /^disabled strategy 'cl-st'/,
  },
  {
    what: 'strategies: assign',
    act: async (h) =>
      h.call('POST', '/api/strategies/assign', {
        strategy: await h.guid('strategy', 'cl-st'),
        peers: [await h.guid('device', PC)],
        users: [],
        groups: [],
      }),
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: /^assigned strategy 'cl-st' to 1 device/,
  },
  {
    what: 'strategies: delete',
    act: async (h) => h.call('DELETE', `/api/strategies/${await h.guid('strategy', 'cl-st')}`),
    typ: ConsoleType.device,
    iop: ConsoleOp.updateDevice,
    detail: /^deleted strategy 'cl-st'/,
  },
  {
    what: 'address books: add a shared book',
    act: (h) => h.call('POST', '/api/ab/shared/add', { name: 'cl-ab', note: null }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.addAddressBook,
    detail: /^created shared address book 'cl-ab'/,
  },
  {
    what: 'address books: rename the book',
    act: async (h) =>
      h.call('PUT', '/api/ab/shared/update/profile', {
        guid: await h.guid('address-book', 'cl-ab'),
        name: 'cl-ab2',
      }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: /^changed shared address book 'cl-ab'/,
  },
  {
    what: 'address books: add a peer',
    act: async (h) =>
      h.call('POST', `/api/ab/peer/add/${await h.guid('address-book', 'cl-ab2')}`, {
        id: PC,
        note: null,
        alias: 'pc',
      }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: new RegExp(`^added peer ${PC} to .*cl-ab2`),
  },
  {
    what: 'address books: update a peer',
    act: async (h) =>
      h.call('PUT', `/api/ab/peer/update/${await h.guid('address-book', 'cl-ab2')}`, {
        id: PC,
        alias: 'front',
      }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: new RegExp(`^updated peer ${PC} in .*cl-ab2`),
  },
  {
    what: 'address books: add a tag',
    act: async (h) =>
      h.call('POST', `/api/ab/tag/add/${await h.guid('address-book', 'cl-ab2')}`, {
        name: 'Work',
        color: 4286141768,
      }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: /^added tag 'Work' .*cl-ab2/,
  },
  {
    what: 'address books: change a tag colour',
    act: async (h) =>
      h.call('PUT', `/api/ab/tag/update/${await h.guid('address-book', 'cl-ab2')}`, {
        name: 'Work',
        color: 4278190335,
      }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: /^changed colour of tag 'Work' in .*cl-ab2/,
  },
  {
    what: 'address books: rename a tag',
    act: async (h) =>
      h.call('PUT', `/api/ab/tag/rename/${await h.guid('address-book', 'cl-ab2')}`, {
        old: 'Work',
        new: 'Job',
      }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: /^renamed tag 'Work' to 'Job' in .*cl-ab2/,
  },
  {
    what: 'address books: delete a tag',
    act: async (h) => h.call('DELETE', `/api/ab/tag/${await h.guid('address-book', 'cl-ab2')}`, ['Job']),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: /^deleted tag 'Job' from .*cl-ab2/,
  },
  {
    what: 'address books: delete a peer',
    act: async (h) => h.call('DELETE', `/api/ab/peer/${await h.guid('address-book', 'cl-ab2')}`, [PC]),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.deleteAddressBookPeers,
    detail: new RegExp(`^deleted peer ${PC} from .*cl-ab2`),
  },
  {
    what: 'address books: restore a peer from the recycle bin',
    act: async (h) =>
      h.call('POST', `/api/ab/recycle/restore/${await h.guid('address-book', 'cl-ab2')}`, [PC]),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: new RegExp(`^restored peer ${PC} to .*cl-ab2.* from its recycle bin`),
  },
  {
    what: 'address books: delete a peer from the recycle bin for good',
    act: async (h) => {
      const ab = await h.guid('address-book', 'cl-ab2');
      await h.call('DELETE', `/api/ab/peer/${ab}`, [PC]);
      return h.call('DELETE', `/api/ab/recycle/${ab}`, [PC]);
    },
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.emptyAddressBookRecycleBin,
    detail: new RegExp(`^deleted peer ${PC} for good from the recycle bin of .*cl-ab2`),
  },
  {
    what: 'address books: empty the recycle bin',
    act: async (h) => h.call('POST', `/api/ab/recycle/empty/${await h.guid('address-book', 'cl-ab2')}`),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.emptyAddressBookRecycleBin,
    detail: /^emptied the recycle bin of .*cl-ab2.* \(0 peers\)/,
  },
  {
    what: "address books: a legacy client's upload",
    act: (h) =>
      h.call('POST', '/api/ab', { data: JSON.stringify({ tags: ['t'], peers: [{ id: PC, tags: ['t'] }] }) }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.changeAddressBook,
    detail: /^replaced the personal address book of 'admin' from a legacy client: 1 peers added/,
  },
  {
    what: 'address books: share (add a rule)',
    act: async (h) =>
      h.call('POST', '/api/ab/rule', {
        guid: await h.guid('address-book', 'cl-ab2'),
        rule: 1,
        user: 'cl-user',
      }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.addAddressBookRule,
    detail: /^shared .*cl-ab2.* with user 'cl-user'/,
  },
  {
    what: 'address books: change a rule',
    act: async (h) => h.call('PATCH', '/api/ab/rule', { guid: await h.ruleGuid('cl-ab2'), rule: 2 }),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.updateAddressBookRule,
    detail: /^changed the rule for user 'cl-user' on .*cl-ab2/,
  },
  {
    what: 'address books: delete a rule',
    act: async (h) => h.call('DELETE', '/api/ab/rules', [await h.ruleGuid('cl-ab2')]),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.deleteAddressBookRule,
    detail: /^stopped sharing .*cl-ab2.* with user 'cl-user'/,
  },
  {
    what: 'address books: delete the book',
    act: async (h) => h.call('DELETE', '/api/ab/shared', [await h.guid('address-book', 'cl-ab2')]),
    typ: ConsoleType.addressBook,
    iop: ConsoleOp.deleteAddressBook,
    detail: /^deleted shared address book 'cl-ab2'/,
  },
  {
    what: 'devices: delete (after disabling)',
    act: async (h) => {
      const guid = await h.guid('device', PC);
      await h.call('POST', `/api/devices/${guid}/disable`);
      return h.call('DELETE', `/api/devices/${guid}`);
    },
    typ: ConsoleType.device,
    iop: ConsoleOp.deleteDevice,
    detail: new RegExp(`^deleted device ${PC}`),
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
  const pc = new SimClient(s.url, { id: PC, hostname: 'front-desk' });
  await pc.heartbeat();
  await pc.sysinfo();
  h = {
    s,
    session,
    pc,
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
    async guid(kind, key) {
      const path = {
        device: `/api/devices?id=${encodeURIComponent(key)}`,
        'user-group': `/api/user-groups?name=${encodeURIComponent(key)}`,
        'device-group': `/api/device-groups?name=${encodeURIComponent(key)}`,
        strategy: '/api/strategies',
        'address-book': `/api/ab/shared/profiles?name=${encodeURIComponent(key)}`,
      }[kind];
      const body = JSON.parse((await h.call('GET', path)) as string) as
        | { data: { guid: string; id?: string; name?: string }[] }
        | { guid: string; name: string }[];
      const rows = Array.isArray(body) ? body : body.data;
      const hit = rows.find((r) => ('id' in r && kind === 'device' ? r.id : r.name) === key);
      if (!hit) throw new Error(`no ${kind} ${key}`);
      return hit.guid;
    },
    async ruleGuid(book) {
      const ab = await h.guid('address-book', book);
      const body = JSON.parse((await h.call('GET', `/api/ab/rules?ab=${ab}`)) as string) as {
        data: { guid: string }[];
      };
      return body.data[0]!.guid;
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

/** Every table's rows (times of last use aside: reading with a token may touch it). */
function snapshot(): string {
  const db = s.store.database.sqlite;
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  return JSON.stringify(
    tables.map((t) => [
      t,
      (db.prepare(`SELECT * FROM "${t}"`).all() as Record<string, unknown>[]).map(
        ({ last_used_at: _, ...row }) => row,
      ),
    ]),
  );
}

describe('the console log records every admin mutation', () => {
  it.each(MUTATIONS)('$what', async (m) => {
    // First with the console log refusing writes: the change must not be made either (the change
    // and its record are one transaction), and the caller must hear that it failed.
    const db = s.store.database.sqlite;
    const state = snapshot();
    db.exec(
      "CREATE TEMP TRIGGER console_down BEFORE INSERT ON audit_console BEGIN SELECT RAISE(ABORT, 'console log down'); END",
    );
    try {
      // Refused with a 5xx: an error naming it, or (the client simulator) the answer itself.
      const refused = await m.act(h).then(
        (out) => JSON.stringify(out),
        (err: Error) => err.message,
      );
      expect(refused).toMatch(/HTTP 5\d\d|"status":5\d\d|internal server error/);
    } finally {
      db.exec('DROP TRIGGER console_down');
    }
    expect(snapshot()).toBe(state);

    const before = await newest();
    const out = await m.act(h);
    m.check?.(out);
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
    const labelled = await cli(
      ['audits', 'view-console', '--operator', 'admin', '--days-ago', '1', '--all'],
      {
        env,
      },
    );
    for (const text of [
      '\tUser Management\tDisable Users\tadmin\t127.0.0.1\tdisabled user',
      `\tDevice Management\tDisable Devices\tadmin\t127.0.0.1\tdisabled device ${PC}`,
      '\tGroup Management\tAdd Group\tadmin\t127.0.0.1\tcreated device group',
      '\tGroup Management\tDelete Groups\tadmin\t127.0.0.1\tdeleted user group',
      '\tUser Management\tUser Login\tadmin\t127.0.0.1\tlogin\n',
      "\tAddress Book Management\tAdd Address Book\tadmin\t127.0.0.1\tcreated shared address book 'cl-ab'",
      '\tAddress Book Management\tDelete Devices in the Address Book Recycle Bin\tadmin\t127.0.0.1\tdeleted peer',
    ])
      expect(labelled.stdout).toContain(text);
  });
});
