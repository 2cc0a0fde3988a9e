import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoAddressBooks, seedDemoAddressBooks } from '../../src/server/demo';
import { AddressBookError } from '../../src/server/store/address-books';
import { startTestServer, type TestServer } from '../helpers/server';

// The address-book server: what a user session may do under a book's rules, the RustDesk
// client's request forms, tag rename, passwords, device assignment, audit records.

let s: TestServer;
let adminGuid: string;
const session: Record<string, string> = {};
let n = 0;

beforeAll(async () => {
  s = await startTestServer();
  adminGuid = (await s.store.users.getByName('admin'))!.guid;
  await s.seedUsers(['ann', 'ben'], { group: 'Sales' });
  await s.seedUsers(['cid', 'dora']);
  for (const u of ['ann', 'ben', 'cid', 'dora']) session[u] = await s.login(u, 'password123');
});
afterAll(async () => {
  await s.close();
});

type Json = Record<string, unknown>;

const call = (method: string, path: string, token: string, body?: unknown) =>
  s.call(method, path, token, body);

async function book(opts: { owner?: string; password?: string } = {}) {
  const name = `Shared ${++n}`;
  const ownerGuid = opts.owner ? (await s.store.users.getByName(opts.owner))!.guid : adminGuid;
  const guid = await s.store.addressBooks.createShared({ name, ownerGuid, password: opts.password });
  return { name, guid, ref: { guid, label: name } };
}

async function rule(ab: string, target: { user?: string; group?: string }, r: number) {
  const userGuid = target.user ? (await s.store.users.getByName(target.user))!.guid : null;
  const groupGuid = target.group ? (await s.store.users.getGroupByName(target.group))!.guid : null;
  return s.store.addressBooks.addRule(ab, { userGuid, groupGuid }, r);
}

describe('user sessions: the most specific rule decides (user > group > everyone)', () => {
  it('ann has a user rule (read) below her group (read/write) and everyone (full): read only', async () => {
    const b = await book();
    await rule(b.guid, {}, 3);
    await rule(b.guid, { group: 'Sales' }, 2);
    await rule(b.guid, { user: 'ann' }, 1);
    await s.store.addressBooks.addPeer(b.ref, '100', { alias: 'pc' });

    const mine = async (who: string) => {
      const r = await call('POST', `/api/ab/shared/profiles?current=1&pageSize=100`, session[who]!);
      return (r.json!['data'] as Json[]).find((x) => x['guid'] === b.guid)?.['rule'];
    };
    expect([await mine('ann'), await mine('ben'), await mine('cid')]).toEqual([1, 2, 3]);

    // ann: read only
    const annPeers = await call('POST', `/api/ab/peers?current=1&pageSize=100&ab=${b.guid}`, session['ann']!);
    expect(annPeers.status).toBe(200);
    expect((annPeers.json!['data'] as Json[]).map((p) => p['id'])).toEqual(['100']);
    const annAdd = await call('POST', `/api/ab/peer/add/${b.guid}`, session['ann']!, { id: '200' });
    expect(annAdd.status).toBe(403);
    expect(annAdd.json!['error']).toBe(
      `your permission on address book '${b.name}' is read-only; adding peers needs read/write`,
    );
    // ben (group): read/write, but not full control
    expect((await call('POST', `/api/ab/peer/add/${b.guid}`, session['ben']!, { id: '200' })).status).toBe(
      200,
    );
    const benShare = await call('POST', '/api/ab/rule', session['ben']!, {
      guid: b.guid,
      rule: 1,
      user: 'dora',
    });
    expect(benShare.status).toBe(403);
    expect(benShare.json!['error']).toContain('sharing the book needs full control');
    // cid (everyone): full control
    const cidShare = await call('POST', '/api/ab/rule', session['cid']!, {
      guid: b.guid,
      rule: 2,
      user: 'dora',
    });
    expect(cidShare.status).toBe(200);
    expect(await mine('dora')).toBe(2);
  });

  it('a book shared with nobody matching is invisible: not listed, 404 on use', async () => {
    const b = await book();
    await rule(b.guid, { group: 'Sales' }, 3);
    const list = await call('GET', '/api/ab/shared/profiles?pageSize=100', session['cid']!);
    expect((list.json!['data'] as Json[]).map((x) => x['guid'])).not.toContain(b.guid);
    const peers = await call('GET', `/api/ab/peers?ab=${b.guid}`, session['cid']!);
    expect(peers.status).toBe(404);
    expect(peers.json!['error']).toContain('not shared with you');
  });

  it("a user creates a shared book, owns it (full control), and may hand it over; others' personal books are closed", async () => {
    const created = await call('POST', '/api/ab/shared/add', session['dora']!, {
      name: 'Dora book',
      note: null,
    });
    expect(created.status).toBe(200);
    const guid = created.json!['guid'] as string;
    expect((await call('POST', '/api/ab/tag/add/' + guid, session['dora']!, { name: 't' })).status).toBe(200);
    expect(
      (await call('POST', '/api/ab/rule', session['dora']!, { guid, rule: 3, user: 'cid' })).status,
    ).toBe(200);
    // cid has full control but is not the owner: cannot hand the book over
    const steal = await call('PUT', '/api/ab/shared/update/profile', session['cid']!, { guid, owner: 'cid' });
    expect(steal.status).toBe(403);
    const give = await call('PUT', '/api/ab/shared/update/profile', session['dora']!, { guid, owner: 'cid' });
    expect(give.status).toBe(200);
    expect((await s.store.addressBooks.getByGuid(guid))!.owner_name).toBe('cid');

    const annPersonal = (await call('POST', '/api/ab/personal', session['ann']!)).json!['guid'] as string;
    const peek = await call('GET', `/api/ab/peers?ab=${annPersonal}`, session['ben']!);
    expect(peek.status).toBe(403);
    expect(peek.json!['error']).toContain("another user's personal address book");
    expect((await call('GET', `/api/ab/peers?ab=${annPersonal}`, s.token)).status).toBe(403);
  });
});

describe('sharing with other groups ("Allow non-admin to share address books to other groups")', () => {
  it('a user shares with users and their own group; other groups and everyone need the setting or an administrator', async () => {
    const b = await book({ owner: 'ben' }); // ben is in Sales
    const share = (token: string, target: Json) =>
      call('POST', '/api/ab/rule', token, { guid: b.guid, rule: 1, ...target });
    expect((await share(session['ben']!, { user: 'cid' })).status).toBe(200);
    expect((await share(session['ben']!, { group: 'Sales' })).status).toBe(200);
    const other = await share(session['ben']!, { group: 'Default' });
    expect(other.status).toBe(403);
    expect(other.json!['error']).toBe(
      "sharing a book with another user group ('Default') takes an administrator's session, unless the setting non_admin_share_other_groups is on; users share with users and their own user group",
    );
    expect((await share(session['ben']!, {})).json!['error']).toContain('sharing a book with everyone takes');
    // an administrator's session and an API token may; so may users once the setting is on
    expect((await share(await s.login('admin', 'test1234'), { group: 'Default' })).status).toBe(200);
    await s.store.settings.set('non_admin_share_other_groups', true);
    try {
      expect((await share(session['ben']!, {})).status).toBe(200);
    } finally {
      await s.store.settings.set('non_admin_share_other_groups', false);
    }
  });
});

describe("the RustDesk client's requests", () => {
  it('POST forms of the reads, and empty bodies for every change', async () => {
    const t = session['ann']!;
    const settings = await call('POST', '/api/ab/settings', t);
    expect(settings).toMatchObject({ status: 200, json: { max_peer_one_ab: 0 } });
    const personal = await call('POST', '/api/ab/personal', t);
    const guid = personal.json!['guid'] as string;
    expect((await call('POST', '/api/ab/personal', t)).json!['guid']).toBe(guid);

    const changes: [string, string, unknown][] = [
      ['POST', `/api/ab/tag/add/${guid}`, { name: 'home', color: 4278255360 }],
      ['POST', `/api/ab/peer/add/${guid}`, { id: '300', alias: 'laptop', tags: ['home'], hash: 'h1' }],
      [
        'PUT',
        `/api/ab/peer/update/${guid}`,
        { id: '300', username: 'ann', hostname: 'LAPTOP', platform: 'Windows' },
      ],
      ['PUT', `/api/ab/tag/update/${guid}`, { name: 'home', color: -16711936 }],
      ['PUT', `/api/ab/tag/rename/${guid}`, { old: 'home', new: 'house' }],
    ];
    for (const [method, path, body] of changes) {
      const r = await call(method, path, t, body);
      expect([r.status, r.text], `${method} ${path}`).toEqual([200, '']);
    }
    const peers = await call('POST', `/api/ab/peers?current=1&pageSize=100&ab=${guid}`, t);
    expect(peers.json).toMatchObject({
      total: 1,
      data: [
        {
          id: '300',
          alias: 'laptop',
          tags: ['house'],
          hash: 'h1',
          username: 'ann',
          hostname: 'LAPTOP',
          platform: 'Windows',
        },
      ],
    });
    expect((peers.json!['data'] as Json[])[0]).not.toHaveProperty('password');
    const tags = await call('POST', `/api/ab/tags/${guid}`, t);
    expect(tags.json).toEqual([{ name: 'house', color: 0xff00ff00 }]);
    for (const [method, path, body] of [
      ['DELETE', `/api/ab/peer/${guid}`, ['300']],
      ['DELETE', `/api/ab/tag/${guid}`, ['house']],
    ] as const) {
      const r = await call(method, path, t, body);
      expect([r.status, r.text]).toEqual([200, '']);
    }
  });

  it('tag rename updates every peer; a taken or unknown name is refused and changes nothing', async () => {
    const b = await book();
    await s.store.addressBooks.addPeer(b.ref, '1', { tags: ['a', 'b'] });
    await s.store.addressBooks.addPeer(b.ref, '2', { tags: ['a'] });
    await s.store.addressBooks.addPeer(b.ref, '3', { tags: ['c'] });
    const path = `/api/ab/tag/rename/${b.guid}`;
    expect((await call('PUT', path, s.token, { old: 'a', new: 'b' })).status).toBe(409);
    expect((await call('PUT', path, s.token, { old: 'zz', new: 'y' })).status).toBe(404);
    expect((await call('PUT', path, s.token, { old: 'a', new: 'A 2' })).status).toBe(200);
    const rows = (await s.store.addressBooks.listPeers(b.guid, {}, 0, 10)).rows;
    expect(rows.map((p) => p.tags)).toEqual([['A 2', 'b'], ['A 2'], ['c']]);
    expect((await s.store.addressBooks.listTags(b.guid)).map((t) => t.name)).toEqual(['A 2', 'b', 'c']);
  });

  it("a null colour (ab.py update-tag without --tag-color) keeps the tag's colour", async () => {
    const b = await book();
    await s.store.addressBooks.addTag(b.ref, 'Work', 0xff3f51b5);
    const r = await call('PUT', `/api/ab/tag/update/${b.guid}`, s.token, { name: 'Work', color: null });
    expect([r.status, r.text]).toEqual([200, '']);
    expect(await s.store.addressBooks.listTags(b.guid)).toEqual([{ name: 'Work', color: 0xff3f51b5 }]);
    const auto = await call('POST', `/api/ab/tag/add/${b.guid}`, s.token, { name: 'indigo' });
    expect(auto.status).toBe(200);
    // 'indigo' names the colour Work already has: the server picks an unused one
    expect((await s.store.addressBooks.getTag(b.guid, 'indigo'))!.color).toBe(0xffff0000);
  });

  it('max_peer_one_ab caps a book', async () => {
    const b = await book();
    await s.store.settings.set('max_peer_one_ab', 1);
    try {
      expect((await call('POST', '/api/ab/settings', session['ann']!)).json).toEqual({ max_peer_one_ab: 1 });
      expect((await call('POST', `/api/ab/peer/add/${b.guid}`, s.token, { id: '1' })).status).toBe(200);
      const full = await call('POST', `/api/ab/peer/add/${b.guid}`, s.token, { id: '2' });
      expect(full.status).toBe(400);
      expect(full.json!['error']).toContain('max_peer_one_ab = 1');
    } finally {
      await s.store.settings.set('max_peer_one_ab', 0);
    }
  });
});

describe('passwords: the book-level password and each peer password', () => {
  it('are separate: the book password is in info.password, a peer password only on its peer', async () => {
    const b = await book({ password: 'book-pw' });
    await call('POST', `/api/ab/peer/add/${b.guid}`, s.token, { id: 'own', password: 'peer-pw' });
    await call('POST', `/api/ab/peer/add/${b.guid}`, s.token, { id: 'none', note: null });
    await rule(b.guid, { user: 'ann' }, 1);
    const profiles = await call('POST', '/api/ab/shared/profiles?pageSize=100', session['ann']!);
    expect((profiles.json!['data'] as Json[]).find((x) => x['guid'] === b.guid)).toMatchObject({
      info: { password: 'book-pw' },
      rule: 1,
    });
    const peers = await call('POST', `/api/ab/peers?ab=${b.guid}&pageSize=100`, session['ann']!);
    expect((peers.json!['data'] as Json[]).map((p) => [p['id'], p['password']])).toEqual([
      ['none', ''],
      ['own', 'peer-pw'],
    ]);
    // changing the book password leaves the peer's own alone, and "" removes it
    await call('PUT', '/api/ab/shared/update/profile', s.token, { guid: b.guid, info: { password: '' } });
    expect(s.store.addressBooks.bookPassword((await s.store.addressBooks.getByGuid(b.guid))!)).toBe('');
    expect((await s.store.addressBooks.getPeer(b.guid, 'own'))!.password).toBe('peer-pw');
  });

  it('a personal book keeps hashes and refuses passwords; a shared book refuses hashes', async () => {
    const personal = (await call('POST', '/api/ab/personal', session['ben']!)).json!['guid'] as string;
    const pw = await call('POST', `/api/ab/peer/add/${personal}`, session['ben']!, {
      id: '1',
      password: 'x',
    });
    expect(pw.status).toBe(400);
    expect(pw.json!['error']).toContain('personal address book keeps no peer passwords');
    const b = await book();
    const hash = await call('POST', `/api/ab/peer/add/${b.guid}`, s.token, { id: '1', hash: 'x' });
    expect(hash.status).toBe(400);
    const rule = await call('POST', '/api/ab/rule', session['ben']!, {
      guid: personal,
      rule: 1,
      user: 'ann',
    });
    expect(rule.status).toBe(400);
    expect(rule.json!['error']).toBe('a personal address book cannot be shared');
  });

  it('are stored sealed, never in clear', async () => {
    const b = await book({ password: 'clear-book-secret' });
    await s.store.addressBooks.addPeer(b.ref, 'p', { password: 'clear-peer-secret' });
    const dump = JSON.stringify([
      s.store.database.sqlite.prepare('SELECT * FROM address_books').all(),
      s.store.database.sqlite.prepare('SELECT * FROM ab_peers').all(),
      s.store.database.sqlite.prepare('SELECT * FROM audit_console').all(),
    ]);
    expect(dump).not.toContain('clear-book-secret');
    expect(dump).not.toContain('clear-peer-secret');
    expect(s.logs.join('\n')).not.toContain('clear-');
  });
});

describe('validation, scopes and the console log', () => {
  it('answers bad input with 4xx naming the field', async () => {
    const b = await book();
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/api/ab/shared/add', { name: '' }, 400, "field 'name' must not be empty"],
      ['POST', `/api/ab/tag/add/${b.guid}`, { name: 't', color: 2 ** 32 }, 400, "field 'color'"],
      ['POST', '/api/ab/rule', { guid: b.guid, rule: 4 }, 400, "field 'rule'"],
      ['POST', '/api/ab/rule', { guid: b.guid, rule: 1, user: 'ann', group: 'Sales' }, 400, 'not both'],
      ['DELETE', `/api/ab/peer/${b.guid}`, [], 400, 'at least one peer ID'],
      ['PUT', `/api/ab/peer/update/${b.guid}`, { id: 'x' }, 400, 'nothing to change'],
      ['PUT', '/api/ab/shared/update/profile', { guid: b.guid }, 400, 'nothing to change'],
      ['PATCH', '/api/ab/rule', { guid: 'nope', rule: 1 }, 404, 'rule not found'],
      ['DELETE', '/api/ab/shared', [b.guid, 'nope'], 404, 'address book not found: nope'],
    ];
    for (const [method, path, body, status, message] of cases) {
      const r = await call(method, path, s.token, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(r.json!['error'], `${method} ${path}`).toContain(message);
    }
    expect(await s.store.addressBooks.getByGuid(b.guid)).toBeDefined();
    const rules = await call('GET', '/api/ab/rules', s.token);
    expect(rules.status).toBe(400);
    expect(rules.json!['error']).toContain("field 'ab' is required");
  });

  it('address_book:r reads, address_book:rw changes; other scopes are refused', async () => {
    const b = await book();
    const r = await s.makeToken('address_book:r');
    expect((await call('GET', `/api/ab/tags/${b.guid}`, r)).status).toBe(200);
    expect((await call('POST', `/api/ab/tag/add/${b.guid}`, r, { name: 'x' })).status).toBe(403);
    const profiles = await call('GET', '/api/ab/shared/profiles?pageSize=1000', r);
    expect((profiles.json!['data'] as Json[]).find((x) => x['guid'] === b.guid)!['rule']).toBe(1);
    // Reading includes the sharing rules and the recycle bin (as the README's table says).
    expect((await call('GET', `/api/ab/rules?ab=${b.guid}`, r)).status).toBe(200);
    expect((await call('GET', `/api/ab/recycle?ab=${b.guid}`, r)).status).toBe(200);
    expect((await call('POST', '/api/ab/rule', r, { guid: b.guid, rule: 1, group: 'Sales' })).status).toBe(
      403,
    );
    const other = await s.makeToken('device:rw,user:rw');
    expect((await call('GET', '/api/ab/shared/profiles', other)).status).toBe(403);
    const rw = await s.makeToken('address_book:rw');
    expect((await call('POST', `/api/ab/tag/add/${b.guid}`, rw, { name: 'x' })).status).toBe(200);
  });

  it('writes a console record for every change, with the address-book codes 15-22', async () => {
    const start = (await s.store.audit.listConsole(1))[0]?.id ?? 0;
    const add = await call('POST', '/api/ab/shared/add', s.token, {
      name: 'Audited',
      info: { password: 'pw' },
    });
    const guid = add.json!['guid'] as string;
    await call('PUT', '/api/ab/shared/update/profile', s.token, { guid, name: 'Audited 2' });
    await call('POST', `/api/ab/peer/add/${guid}`, s.token, { id: '1', tags: ['t'] });
    await call('PUT', `/api/ab/peer/update/${guid}`, s.token, { id: '1', password: 'secret-x' });
    await call('PUT', `/api/ab/tag/rename/${guid}`, s.token, { old: 't', new: 'u' });
    await call('PUT', `/api/ab/tag/update/${guid}`, s.token, { name: 'u', color: 1 });
    await call('DELETE', `/api/ab/tag/${guid}`, s.token, ['u']);
    await call('DELETE', `/api/ab/peer/${guid}`, s.token, ['1']);
    const ruleGuid = (await call('POST', '/api/ab/rule', s.token, { guid, rule: 1, group: 'Sales' })).json![
      'guid'
    ];
    await call('PATCH', '/api/ab/rule', s.token, { guid: ruleGuid, rule: 3 });
    await call('DELETE', '/api/ab/rules', s.token, [ruleGuid]);
    await call('DELETE', '/api/ab/shared', s.token, [guid]);
    const rows = (await s.store.audit.listConsole(100)).filter((r) => r.id > start).reverse();
    expect(rows.every((r) => r.typ === 3)).toBe(true);
    expect(rows.map((r) => [r.iop, r.detail.replace(/ \(API token 'all'\)$/, '')])).toEqual([
      [15, "created shared address book 'Audited' with a shared password"],
      [17, "changed shared address book 'Audited': name 'Audited' → 'Audited 2'"],
      [17, "added peer 1 to address book 'Audited 2'; created tags 't'"],
      [17, "updated peer 1 in address book 'Audited 2' (password set)"],
      [17, "renamed tag 't' to 'u' in address book 'Audited 2' (1 peer)"],
      [17, "changed colour of tag 'u' in address book 'Audited 2': 0xFF009688 → 0x00000001"],
      [17, "deleted tag 'u' from address book 'Audited 2' (taken off 1 peer)"],
      [18, "deleted peer 1 from address book 'Audited 2'"],
      [20, "shared address book 'Audited 2' with group 'Sales': read-only"],
      [22, "changed the rule for group 'Sales' on address book 'Audited 2': read-only → full control"],
      [21, "stopped sharing address book 'Audited 2' with group 'Sales' (was full control)"],
      [16, "deleted shared address book 'Audited 2'"],
    ]);
    expect(rows.every((r) => r.operator === 'admin')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('secret-x');
  });

  it('deleting a user removes their personal book and their rules; their shared books lose the owner', async () => {
    await s.seedUsers(['leaver']);
    const leaver = (await s.store.users.getByName('leaver'))!;
    const personal = await s.store.addressBooks.personalGuid(leaver.guid);
    const owned = await book({ owner: 'leaver' });
    const other = await book();
    await rule(other.guid, { user: 'leaver' }, 2);
    await s.store.users.delete(leaver.guid);
    expect(await s.store.addressBooks.getByGuid(personal)).toBeUndefined();
    expect(await s.store.addressBooks.getByGuid(owned.guid)).toMatchObject({ owner_guid: null });
    expect((await s.store.addressBooks.listRules(other.guid, 0, 10)).total).toBe(0);
  });
});

describe('device assignment into a shared book (assignDeviceToSharedBook)', () => {
  it('creates the peer with tag, alias, password and note, creating the tag; a second call updates it', async () => {
    const b = await book();
    await s.store.addressBooks.addTag(b.ref, 'taken', 0xff008000);
    const ab = s.store.addressBooks;
    await ab.assignDeviceToSharedBook({
      bookName: b.name,
      deviceId: '555000111',
      tag: 'Kiosk',
      alias: 'Lobby',
      password: 'dev-pw',
      note: 'by --assign',
      operatorGuid: adminGuid,
    });
    expect(await ab.getPeer(b.guid, '555000111')).toMatchObject({
      alias: 'Lobby',
      tags: ['Kiosk'],
      password: 'dev-pw',
      note: 'by --assign',
    });
    const tags = await ab.listTags(b.guid);
    expect(tags.map((t) => t.name)).toEqual(['taken', 'Kiosk']);
    expect(tags[1]!.color).not.toBe(tags[0]!.color);
    // again, from a preset without operator: the tag is added, empty values change nothing
    await ab.assignDeviceToSharedBook({ bookName: b.name, deviceId: '555000111', tag: 'taken', alias: '' });
    expect(await ab.getPeer(b.guid, '555000111')).toMatchObject({
      alias: 'Lobby',
      tags: ['Kiosk', 'taken'],
      password: 'dev-pw',
    });
    const log = (await s.store.audit.listConsole(2)).reverse();
    expect(log.map((r) => [r.typ, r.iop, r.operator, r.detail])).toEqual([
      [
        3,
        17,
        'admin',
        `added device 555000111 in address book '${b.name}' by assignment with tag 'Kiosk' (new), alias 'Lobby', a password, a note; created tag 'Kiosk' (${formatHex(tags[1]!.color)})`,
      ],
      [3, 17, '', `updated device 555000111 in address book '${b.name}' by assignment with tag 'taken'`],
    ]);
    expect(JSON.stringify(log)).not.toContain('dev-pw');
    // the peer is visible through the API like any other
    const peers = await call('GET', `/api/ab/peers?ab=${b.guid}`, s.token);
    expect((peers.json!['data'] as Json[])[0]).toMatchObject({ id: '555000111', alias: 'Lobby' });
  });

  it('throws an Error naming the problem for an unknown book (names are exact) or a full one', async () => {
    const b = await book();
    const ab = s.store.addressBooks;
    await expect(ab.assignDeviceToSharedBook({ bookName: 'No Such Book', deviceId: '1' })).rejects.toThrow(
      "shared address book 'No Such Book' does not exist",
    );
    await expect(
      ab.assignDeviceToSharedBook({ bookName: b.name.toUpperCase(), deviceId: '1' }),
    ).rejects.toThrow(AddressBookError);
    await s.store.settings.set('max_peer_one_ab', 1);
    try {
      await ab.assignDeviceToSharedBook({ bookName: b.name, deviceId: '1', tag: 'new-tag' });
      await expect(
        ab.assignDeviceToSharedBook({ bookName: b.name, deviceId: '2', tag: 'other' }),
      ).rejects.toThrow('is full');
      expect((await ab.listTags(b.guid)).map((t) => t.name)).toEqual(['new-tag']);
      // an entry already there is still updated
      await ab.assignDeviceToSharedBook({ bookName: b.name, deviceId: '1', alias: 'still fine' });
      expect((await ab.getPeer(b.guid, '1'))!.alias).toBe('still fine');
    } finally {
      await s.store.settings.set('max_peer_one_ab', 0);
    }
  });
});

describe('demo fleet', () => {
  it('seeds shared books with peers, tags and rules over seeded devices, once', async () => {
    const fresh = await startTestServer();
    try {
      const data = await loadDemoAddressBooks();
      for (const u of new Set([
        ...data.books.flatMap((b) => [b.owner, ...b.rules.flatMap((r) => (r.user ? [r.user] : []))]),
        ...data.devices.flatMap((d) => (d.user ? [d.user] : [])),
        ...data.personal.map((p) => p.user),
      ])) {
        await fresh.seedUsers([u]);
      }
      for (const g of ['Support', 'Engineering', 'Zürich Büro', 'Sales'])
        if (!(await fresh.store.users.getGroupByName(g))) await fresh.store.users.createGroup(g);
      await seedDemoAddressBooks(fresh.store, data);
      await seedDemoAddressBooks(fresh.store, data);
      const { rows } = await fresh.store.addressBooks.listShared({}, null, 0, 100);
      expect(rows.map((b) => b.name).sort()).toEqual(data.books.map((b) => b.name).sort());
      for (const b of rows) {
        expect((await fresh.store.addressBooks.listPeers(b.guid, {}, 0, 100)).total).toBeGreaterThan(0);
        expect((await fresh.store.addressBooks.listTags(b.guid)).length).toBeGreaterThan(0);
        expect((await fresh.store.addressBooks.listRules(b.guid, 0, 100)).total).toBeGreaterThan(0);
      }
      const helpdesk = rows.find((b) => b.name === 'Helpdesk')!;
      const peer = await fresh.store.addressBooks.getPeer(helpdesk.guid, '410100001');
      expect(peer).toMatchObject({ hostname: 'FRONTDESK-01', platform: 'Windows', tags: ['Windows'] });
      expect(await fresh.store.devices.getById('410100001')).toMatchObject({ user_name: 'support_lead' });
      expect(await fresh.store.devices.count()).toBe(data.devices.length);
    } finally {
      await fresh.close();
    }
  });
});

function formatHex(c: number): string {
  return `0x${c.toString(16).toUpperCase().padStart(8, '0')}`;
}
