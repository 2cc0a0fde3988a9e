import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, newSecret } from '../../src/server/crypto';
import type { RouteSpec } from '../../src/server/routes';
import { AREAS } from '../../src/wire/scopes';
import {
  type AccessClass,
  classify,
  fillPath,
  type RawAnswer,
  registry,
  routeName,
  send,
} from '../helpers/routes';
import { startTestServer, type TestServer } from '../helpers/server';

// The authorization matrix (docs/reliability.md §1): every route of the registry × every kind of
// caller, with the expected answer derived from the route's declared access alone. A route added
// later (another area) is covered without touching this file; an access rule this file does not
// know, or a handler registered behind the registry's back, fails it.

let s: TestServer;
let routes: RouteSpec[];
let unregistered: string[];
let admin2Guid: string;
const tokens: Record<string, string> = {};
let requests = 0;

const GUID = '01a00000-0000-7000-8000-000000000000';
/** Strings only an administrator may see: a user in another group, a disabled member of the
 * caller's own group, a strategy, a device, an API token's name. */
const CANARIES = [
  'zz-canary-other',
  'zz-canary-disabled',
  'zz-canary-strategy',
  '987654321',
  'zz-canary-tok',
];

async function mintSession(userName: string): Promise<string> {
  const u = await s.store.users.getByName(userName);
  const token = newSecret('rds');
  await s.store.auth.createSession(hashToken(token), u!.guid);
  return token;
}

beforeAll(async () => {
  s = await startTestServer();
  ({ specs: routes, unregistered } = registry(s.store));
  await s.seedUsers(['plain', 'plain-mate']);
  await s.seedUsers(['zz-canary-disabled'], { status: 0 });
  await s.seedUsers(['zz-canary-other'], { group: 'Canary Group' });
  await s.seedUsers(['admin2', 'gone-user']);
  admin2Guid = (await s.store.users.getByName('admin2'))!.guid;
  await s.store.database.sqlite.prepare('UPDATE users SET is_admin = 1 WHERE guid = ?').run(admin2Guid);
  await s.store.strategies.create('zz-canary-strategy', { 'enable-keyboard': 'N' }, true);
  // The device canary belongs to a user of another group: a device with no user and no device
  // group is one every user may reach (server-model §1.5, rule 5), so it is no canary.
  await s.store.devices.create('987654321', {
    uuid: 'u',
    status: 1,
    user_guid: (await s.store.users.getByName('zz-canary-other'))!.guid,
  });
  await s.makeToken('user:r', { name: 'zz-canary-tok' });

  const all = AREAS.map((a) => `${a}:rw`).join(',');
  tokens['expired'] = await s.makeToken(all, { expiresAt: '2000-01-01T00:00:00.000Z', name: 'old' });
  tokens['revoked'] = await s.makeToken(all, { name: 'gone' });
  await s.store.auth.revokeToken((await s.store.auth.getLiveTokenByName('gone'))!.guid);
  // A token owned by a second administrator, who is then disabled.
  const orphan = newSecret('rdt');
  await s.store.auth.createToken({
    name: 'orphan',
    tokenHash: hashToken(orphan),
    ownerGuid: admin2Guid,
    permissions: JSON.stringify(Object.fromEntries(AREAS.map((a) => [a, 'rw']))),
    expiresAt: null,
  });
  tokens['orphan'] = orphan;
  tokens['goneSession'] = await mintSession('gone-user');
  await s.store.users.update([admin2Guid], { status: 0 });
  const gone = (await s.store.users.getByName('gone-user'))!;
  await s.store.users.update([gone.guid], { status: 0 });
  tokens['all'] = s.token;
  for (const area of AREAS) {
    const others = AREAS.filter((a) => a !== area).map((a) => `${a}:rw`);
    tokens[`${area}:none`] = await s.makeToken(others.join(','));
    tokens[`${area}:r`] = await s.makeToken([...others, `${area}:r`].join(','));
    tokens[`${area}:rw`] = await s.makeToken([...others, `${area}:rw`].join(','));
  }
});

afterAll(async () => {
  await s.close();
});

async function call(spec: RouteSpec, authorization?: string): Promise<RawAnswer> {
  requests++;
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers['authorization'] = authorization;
  if (spec.method !== 'GET') headers['content-type'] = 'application/json';
  return send(s.url, {
    method: spec.method,
    path: fillPath(spec.path, GUID),
    headers,
    body: spec.method === 'GET' ? undefined : '{}',
  });
}

type Expect = { status: 401 | 403; error: RegExp } | 'pass';

function check(spec: RouteSpec, who: string, r: RawAnswer, want: Expect): void {
  const where = `${routeName(spec)} as ${who}: ${r.status} ${r.text.slice(0, 200)}`;
  expect(r.status, where).toBeLessThan(500);
  if (want === 'pass') {
    expect([401, 403], where).not.toContain(r.status);
    return;
  }
  expect(r.status, where).toBe(want.status);
  const body = JSON.parse(r.text) as Record<string, unknown>;
  expect(Object.keys(body), where).toEqual(['error']);
  if (want.status === 401 && spec.unauthorized !== undefined) {
    // The route's fixed text (a client matches it exactly); the reason is in WWW-Authenticate.
    expect(body['error'], where).toBe(spec.unauthorized);
    const challenge = String(r.headers['www-authenticate']);
    expect(challenge, where).toMatch(/^Bearer error="invalid_token", error_description="[^"]*"$/);
    expect(/error_description="([^"]*)"/.exec(challenge)![1], where).toMatch(want.error);
    return;
  }
  expect(r.headers['www-authenticate'], where).toBeUndefined();
  expect(body['error'], where).toMatch(want.error);
}

const missing: Expect = { status: 401, error: /^missing bearer token/ };
const malformed: Expect = { status: 401, error: /^malformed Authorization header/ };
const apiTokenRefused: Expect = { status: 403, error: /not an API token/ };
const needsAdmin: Expect = { status: 403, error: /^administrator rights required$/ };

/** Any kind of caller: what a route with this access answers it. */
interface Caller {
  name: string;
  authorization: (a: AccessClass) => Promise<string | undefined> | string | undefined;
  expect: (a: AccessClass) => Expect;
}

const unlessPublic =
  (e: Expect) =>
  (a: AccessClass): Expect =>
    a.kind === 'public' ? 'pass' : e;

const CALLERS: Caller[] = [
  { name: 'no token', authorization: () => undefined, expect: unlessPublic(missing) },
  ...['Basic YWRtaW46dGVzdDEyMzQ=', 'Bearer', 'Bearer a b', 'Token rdt_x', 'bearer'].map(
    (h): Caller => ({
      name: `malformed header '${h}'`,
      authorization: () => h,
      expect: unlessPublic(malformed),
    }),
  ),
  {
    name: 'unknown API token',
    authorization: () => `Bearer ${newSecret('rdt')}`,
    expect: unlessPublic({ status: 401, error: /^invalid token$/ }),
  },
  {
    name: 'unknown session',
    authorization: () => `Bearer ${newSecret('rds')}`,
    expect: unlessPublic({ status: 401, error: /^session is not valid/ }),
  },
  {
    name: 'expired token',
    authorization: () => `Bearer ${tokens['expired']}`,
    expect: unlessPublic({ status: 401, error: /^token 'old' expired at 2000-01-01/ }),
  },
  {
    name: 'revoked token',
    authorization: () => `Bearer ${tokens['revoked']}`,
    expect: unlessPublic({ status: 401, error: /^token 'gone' has been revoked$/ }),
  },
  {
    name: 'token of a disabled owner',
    authorization: () => `Bearer ${tokens['orphan']}`,
    expect: unlessPublic({ status: 401, error: /no longer an enabled administrator/ }),
  },
  {
    name: 'session of a disabled user',
    authorization: () => `Bearer ${tokens['goneSession']}`,
    expect: unlessPublic({ status: 401, error: /disabled or gone/ }),
  },
  ...(['none', 'r', 'rw'] as const).map(
    (level): Caller => ({
      name: `the route's area at ${level} (others rw)`,
      authorization: (a) => `Bearer ${a.kind === 'area' ? tokens[`${a.area}:${level}`] : tokens['all']}`,
      expect: (a) => {
        if (a.kind === 'public' || a.kind === 'authenticated') return 'pass';
        if (a.kind !== 'area') return apiTokenRefused;
        if (level === 'rw' || (level === 'r' && a.level === 'r')) return 'pass';
        return {
          status: 403,
          error: new RegExp(`lacks permission ${a.area}:${a.level} \\(it has ${a.area}:${level}\\)`),
        };
      },
    }),
  ),
  {
    name: 'an admin session',
    authorization: async () => `Bearer ${await mintSession('admin')}`,
    expect: () => 'pass',
  },
  {
    name: 'a non-admin session',
    authorization: async () => `Bearer ${await mintSession('plain')}`,
    expect: (a) => {
      if (a.kind === 'admin-session') return needsAdmin;
      if (a.kind === 'area' && !a.allowUserSession) return needsAdmin;
      return 'pass';
    },
  },
];

describe('the route registry', () => {
  it('holds every route the app serves, each with an access rule the matrix can classify', () => {
    expect(unregistered).toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(38);
    const seen = new Set<string>();
    for (const spec of routes) {
      expect(() => classify(spec.access), routeName(spec)).not.toThrow();
      expect(seen.has(routeName(spec)), `${routeName(spec)} registered twice`).toBe(false);
      seen.add(routeName(spec));
    }
  });

  it('an access rule the matrix does not know fails classification', () => {
    expect(() => classify('token')).toThrow(/cannot classify/);
    expect(() => classify({ area: 'printer', level: 'rw' })).toThrow(/cannot classify/);
    expect(() => classify({ area: 'user', level: 'w' })).toThrow(/cannot classify/);
    expect(() => classify({ area: 'user', level: 'r', owner: true })).toThrow(/cannot classify/);
    expect(classify({ area: 'user', level: 'r' })).toEqual({
      kind: 'area',
      area: 'user',
      level: 'r',
      allowUserSession: false,
    });
  });
});

describe('authorization matrix: every route × every kind of caller', () => {
  it('answers 401 / 403 / passes exactly as each route declares', async () => {
    const cells: string[] = [];
    for (const spec of routes) {
      const a = classify(spec.access);
      for (const caller of CALLERS) {
        const r = await call(spec, await caller.authorization(a));
        check(spec, caller.name, r, caller.expect(a));
        cells.push(`${routeName(spec)} × ${caller.name}`);
      }
    }
    expect(cells.length).toBe(routes.length * CALLERS.length);
    expect(requests).toBeGreaterThanOrEqual(routes.length * CALLERS.length);
  });

  it('a non-admin session never sees what only an administrator may see', async () => {
    let checked = 0;
    for (const spec of routes) {
      const a = classify(spec.access);
      if (a.kind === 'admin-session' || (a.kind === 'area' && !a.allowUserSession)) continue;
      const r = await call(spec, `Bearer ${await mintSession('plain')}`);
      for (const canary of CANARIES)
        expect(r.text, `${routeName(spec)} leaks ${canary}`).not.toContain(canary);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
    // The same routes as an administrator do show every canary, so the check above can fail.
    const seen = new Set<string>();
    for (const spec of routes.filter((r) => r.method === 'GET' && !r.path.includes('{'))) {
      const r = await send(s.url, {
        method: 'GET',
        path: `${spec.path}?pageSize=1000`,
        headers: { authorization: `Bearer ${await mintSession('admin')}` },
      });
      for (const c of CANARIES) if (r.text.includes(c)) seen.add(c);
    }
    expect([...seen].sort()).toEqual([...CANARIES].sort());
  });

  it('GET /api/users as a non-admin: only the enabled members of its own group, whatever the filters', async () => {
    const session = await mintSession('plain');
    for (const qs of [
      'pageSize=1000',
      'status=0',
      'status=-1',
      'group_name=Canary',
      'name=zz-canary',
      'name=%25',
    ]) {
      const r = await s.fetch(`/api/users?${qs}`, { token: session });
      expect(r.status, qs).toBe(200);
      const body = (await r.json()) as {
        data: { name: string; group_name: string; status: number }[];
        total: number;
      };
      expect(
        body.data.every((u) => u.group_name === 'Default' && u.status === 1),
        qs,
      ).toBe(true);
      expect(
        body.data.map((u) => u.name),
        qs,
      ).not.toContain('zz-canary-other');
      expect(
        body.data.map((u) => u.name),
        qs,
      ).not.toContain('zz-canary-disabled');
      expect(body.total, qs).toBe(body.data.length);
    }
    const names = (
      (await (await s.fetch('/api/users?pageSize=1000', { token: session })).json()) as {
        data: { name: string }[];
      }
    ).data.map((u) => u.name);
    expect(names.sort()).toEqual(['admin', 'plain', 'plain-mate']);
  });

  it('an API token never acts as a session, and a user session never manages tokens', async () => {
    const adminOnly = routes.filter((r) => r.access === 'admin-session');
    expect(adminOnly.map(routeName)).toEqual(
      expect.arrayContaining(['GET /api/tokens', 'POST /api/tokens', 'DELETE /api/tokens/{guid}']),
    );
    for (const spec of adminOnly) {
      const r = await call(spec, `Bearer ${s.token}`);
      check(spec, 'an all:rw API token', r, apiTokenRefused);
    }
  });
});
