import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { startTestServer, type TestServer } from '../helpers/server';

// A request whose body arrives late (a slow link, a proxy, `Expect: 100-continue`) lets other
// requests run between its headers and its body; so does the password hashing of an invitation's
// acceptance. A handler must not write from a copy of a record read before such a wait: a record
// deleted meanwhile is a 404 (never a 5xx, never a console record of a change that did not
// happen), another administrator's change is kept, and an administrator's disable is never undone.

let s: TestServer;
let run = 0;

beforeAll(async () => {
  // The disabled users' refused logins below must not throttle the later ones.
  s = await startTestServer({ config: { loginLimits: { perMinute: 1_000_000, perHour: 1_000_000 } } });
});
afterAll(async () => {
  await s.close();
});

interface Answer {
  status: number;
  text: string;
}

/**
 * A request sent with `Expect: 100-continue`: its headers now, its body only when `send()` is
 * called. `started` resolves once the server has answered `100 Continue` (its handler runs) and a
 * moment has passed, so that whatever the handler does before reading the body is done.
 */
function held(method: string, path: string, body: unknown, token = s.token) {
  const { hostname, port } = new URL(s.url);
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const sock = connect(Number(port), hostname);
  let got = '';
  let onContinue: () => void;
  const continued = new Promise<void>((resolve) => {
    onContinue = resolve;
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      got += d;
      if (got.startsWith('HTTP/1.1 100')) onContinue();
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const final = got.replace(/^HTTP\/1\.1 100[^\r]*\r\n\r\n/, '');
      const [head = '', ...rest] = final.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), text: rest.join('\r\n\r\n') });
    });
  });
  sock.write(
    `${method} ${path} HTTP/1.1\r\nHost: x\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}` +
      `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n` +
      'Expect: 100-continue\r\nConnection: close\r\n\r\n',
  );
  return {
    started: continued.then(() => new Promise((r) => setTimeout(r, 100))),
    /** Sends the body; the answer. */
    send(): Promise<Answer> {
      sock.write(payload);
      return answer;
    },
  };
}

/** Runs `meanwhile` between the headers and the body of a request; both answers. */
async function during<T>(
  method: string,
  path: string,
  body: unknown,
  meanwhile: () => Promise<T>,
  token?: string,
): Promise<{ slow: Answer; other: T }> {
  const h = held(method, path, body, token);
  await h.started;
  const other = await meanwhile();
  return { slow: await h.send(), other };
}

const ok = async (method: string, path: string, body?: unknown) => {
  const r = await s.call(method, path, s.token, body);
  expect(r.status, `${method} ${path}: ${r.text}`).toBe(200);
  return r.json!;
};

/** The console log's records since `from` (its id), oldest first. */
function consoleSince(from: number): string[] {
  return (
    s.store.database.sqlite
      .prepare('SELECT detail FROM audit_console WHERE id > ? ORDER BY id')
      .all(from) as {
      detail: string;
    }[]
  ).map((r) => r.detail);
}
const lastConsoleId = () =>
  Number(
    (
      s.store.database.sqlite.prepare('SELECT coalesce(max(id), 0) AS n FROM audit_console').get() as {
        n: number;
      }
    ).n,
  );

function notFound(r: Answer, message: RegExp) {
  expect(r.status, r.text).toBe(404);
  expect(JSON.parse(r.text)).toEqual({ error: expect.stringMatching(message) });
}

describe('accepting an invitation while an administrator disables or deletes the user', () => {
  async function invite() {
    const name = `invitee-${++run}`;
    const r = await ok('POST', '/api/users/invite', {
      name,
      email: `${name}@example.com`,
      group_name: 'Default',
    });
    return { name, guid: r['guid'] as string, path: new URL(r['invitation_url'] as string).pathname };
  }
  const statusOf = async (guid: string) => (await s.store.users.getByGuid(guid))?.status;
  const login = (name: string, password: string) =>
    s.call('POST', '/api/login', '', { username: name, password, id: '1', uuid: 'dQ==' });

  it('a disable that lands while the acceptance is under way wins: refused, the user stays disabled', async () => {
    const u = await invite();
    const { slow, other } = await during(
      'POST',
      u.path,
      { password: 'accepted-pass-1' },
      () => s.call('POST', `/api/users/${u.guid}/disable`, s.token),
      '',
    );
    expect(other.status).toBe(200);
    notFound(slow, /^invitation is no longer valid$/);
    expect(await statusOf(u.guid)).toBe(0);
    expect((await login(u.name, 'accepted-pass-1')).status).not.toBe(200);
    // Enabled again, the invited user gets the invitation back (not an account without password).
    await ok('POST', `/api/users/${u.guid}/enable`);
    expect(await statusOf(u.guid)).toBe(-1);
    expect((await s.call('POST', u.path, '', { password: 'accepted-pass-2' })).status).toBe(200);
    expect(await statusOf(u.guid)).toBe(1);
    expect((await login(u.name, 'accepted-pass-2')).status).toBe(200);
  });

  it('a disable sent right after the acceptance (during its password hashing): never enabled after it', async () => {
    for (let i = 0; i < 6; i++) {
      const u = await invite();
      const accepting = s.call('POST', u.path, '', { password: 'accepted-pass-1' });
      await new Promise((r) => setTimeout(r, 5 + 5 * i));
      const disable = await s.call('POST', `/api/users/${u.guid}/disable`, s.token);
      const accept = await accepting;
      expect(disable.status, disable.text).toBe(200);
      expect([200, 404], accept.text).toContain(accept.status);
      expect(await statusOf(u.guid), `round ${i}: accept ${accept.status}`).toBe(0);
      expect((await login(u.name, 'accepted-pass-1')).status).not.toBe(200);
    }
  });

  it('accepted before the disable: the disable still wins', async () => {
    const u = await invite();
    await ok('POST', u.path, { password: 'accepted-pass-1' });
    await ok('POST', `/api/users/${u.guid}/disable`);
    expect(await statusOf(u.guid)).toBe(0);
    expect((await login(u.name, 'accepted-pass-1')).status).not.toBe(200);
  });

  it('the user deleted meanwhile: 404, nothing created', async () => {
    const u = await invite();
    const { slow, other } = await during(
      'POST',
      u.path,
      { password: 'accepted-pass-1' },
      () => s.call('DELETE', `/api/users/${u.guid}`, s.token),
      '',
    );
    expect(other.status, other.text).toBe(200);
    notFound(slow, /^invitation not found or already used$/);
    expect(await s.store.users.getByGuid(u.guid)).toBeUndefined();
    expect(await s.store.users.getByName(u.name)).toBeUndefined();
  });

  it('two acceptances of one invitation at once: one 200, one 404, the first password holds', async () => {
    const u = await invite();
    const { slow, other } = await during(
      'POST',
      u.path,
      { password: 'slow-password-1' },
      () => s.call('POST', u.path, '', { password: 'fast-password-1' }),
      '',
    );
    expect(other.status).toBe(200);
    notFound(slow, /^invitation not found or already used$/);
    expect((await login(u.name, 'fast-password-1')).status).toBe(200);
  });
});

describe('a body that arrives late: the record is read after it, and again in the write transaction', () => {
  it('PATCH of a user group or device group deleted meanwhile: 404, no console record', async () => {
    for (const kind of ['user-groups', 'device-groups']) {
      const g = await ok('POST', `/api/${kind}`, { name: `stale-${kind}-${++run}` });
      const from = lastConsoleId();
      const { slow, other } = await during('PATCH', `/api/${kind}/${g['guid']}`, { note: 'changed' }, () =>
        s.call('DELETE', `/api/${kind}/${g['guid']}`, s.token),
      );
      expect(other.status).toBe(200);
      notFound(slow, new RegExp(`^${kind.replace('-groups', ' group')} not found: ${g['guid']}$`));
      expect(consoleSince(from)).toEqual([
        expect.stringMatching(new RegExp(`^deleted ${kind.replace('-groups', ' group')} 'stale-`)),
      ]);
    }
  });

  it('members added to (or taken out of) a group deleted meanwhile: 404, no console record', async () => {
    await s.seedUsers([`member-${++run}`]);
    const user = (await s.store.users.getByName(`member-${run}`))!;
    await new SimClient(s.url, { id: `9100${run}`, hostname: 'h' }).heartbeat();
    const cases: [string, string, string, unknown][] = [
      ['user-groups', 'POST', '', [user.guid]],
      ['device-groups', 'POST', '', [`9100${run}`]],
      ['device-groups', 'DELETE', '/devices', [`9100${run}`]],
    ];
    for (const [kind, method, tail, body] of cases) {
      const g = await ok('POST', `/api/${kind}`, { name: `gone-${++run}` });
      if (tail) await ok('POST', `/api/${kind}/${g['guid']}`, body);
      const from = lastConsoleId();
      const { slow, other } = await during(method, `/api/${kind}/${g['guid']}${tail}`, body, () =>
        s.call('DELETE', `/api/${kind}/${g['guid']}`, s.token),
      );
      expect(other.status, other.text).toBe(200);
      notFound(slow, / group not found: /);
      expect(consoleSince(from), `${method} ${kind}${tail}`).toEqual([expect.stringMatching(/^deleted /)]);
    }
    expect((await s.store.users.getByGuid(user.guid))!.group_name).toBe('Default');
  });

  it('strategy PATCH and status PUT of a strategy deleted meanwhile: 404, the last record is the delete', async () => {
    for (const [method, tail, body] of [
      ['PATCH', '', { options: { 'enable-audio': 'N' } }],
      ['PUT', '/status', false],
    ] as const) {
      const st = await ok('POST', '/api/strategies', { name: `doomed-${++run}`, options: {} });
      const from = lastConsoleId();
      const { slow, other } = await during(method, `/api/strategies/${st['guid']}${tail}`, body, () =>
        s.call('DELETE', `/api/strategies/${st['guid']}`, s.token),
      );
      expect(other.status).toBe(200);
      notFound(slow, new RegExp(`^strategy not found: ${st['guid']}$`));
      expect(consoleSince(from)).toEqual([expect.stringMatching(`^deleted strategy 'doomed-${run}'`)]);
    }
  });

  it('two administrators merge options into one strategy: neither loses the other’s keys', async () => {
    const st = await ok('POST', '/api/strategies', { name: `merged-${++run}`, options: { keep: 'Y' } });
    const path = `/api/strategies/${st['guid']}`;
    const { slow, other } = await during('PATCH', path, { options: { 'enable-audio': 'N' } }, () =>
      s.call('PATCH', path, s.token, { options: { 'enable-file-transfer': 'N', keep: null } }),
    );
    expect(other.status).toBe(200);
    expect(slow.status, slow.text).toBe(200);
    const want = { 'enable-audio': 'N', 'enable-file-transfer': 'N' };
    expect(JSON.parse(slow.text).options).toEqual(want);
    expect((await ok('GET', path))['options']).toEqual(want);
  });

  it('a strategy renamed meanwhile: the status change is recorded under its name now', async () => {
    const st = await ok('POST', '/api/strategies', { name: `old-name-${++run}`, options: {} });
    const from = lastConsoleId();
    const { slow } = await during('PUT', `/api/strategies/${st['guid']}/status`, false, () =>
      ok('PATCH', `/api/strategies/${st['guid']}`, { name: `new-name-${run}` }),
    );
    expect(slow.status).toBe(200);
    expect(consoleSince(from)[1]).toMatch(new RegExp(`^disabled strategy 'new-name-${run}'`));
  });

  it('device assign, or disconnect, of a device deleted meanwhile: 404, nothing recorded', async () => {
    for (const [tail, body] of [
      ['/assign', { type: 'note', value: 'rack 7' }],
      ['/disconnect', { conns: [4] }],
    ] as const) {
      const id = `9200${++run}`;
      const client = new SimClient(s.url, { id, hostname: 'h' });
      await client.heartbeat();
      client.conns = [4];
      await client.heartbeat();
      const guid = (await s.store.devices.getById(id))!.guid;
      await ok('POST', `/api/devices/${guid}/disable`, {});
      const from = lastConsoleId();
      const { slow, other } = await during('POST', `/api/devices/${guid}${tail}`, body, () =>
        s.call('DELETE', `/api/devices/${guid}`, s.token),
      );
      expect(other.status).toBe(200);
      notFound(slow, new RegExp(`^device not found: ${guid}$`));
      expect(consoleSince(from), tail).toEqual([`deleted device ${id} (API token 'all')`]);
    }
  });

  it('rustdesk --assign of a device deleted between its lookup and the change: refused, nothing recorded', async () => {
    const id = `9300${++run}`;
    await new SimClient(s.url, { id, hostname: 'h' }).heartbeat();
    // Another request deletes the device right after this one looked it up.
    const repo = s.store.devices;
    const getById = repo.getById.bind(repo);
    repo.getById = async (asked) => {
      const d = await getById(asked);
      if (asked === id) s.store.database.sqlite.prepare('DELETE FROM devices WHERE id = ?').run(id);
      return d;
    };
    const from = lastConsoleId();
    try {
      const r = await s.fetch('/api/devices/cli', {
        method: 'POST',
        token: s.token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, note: 'rack 9' }),
      });
      expect(r.status).toBe(400);
      expect(await r.text()).toBe(`device ${id} not found (deleted meanwhile)`);
    } finally {
      repo.getById = getById;
    }
    expect(consoleSince(from)).toEqual([]);
  });
});
