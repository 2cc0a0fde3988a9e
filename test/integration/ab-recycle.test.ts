import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliOptions, cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// The per-book recycle bin: a deleted peer keeps every field there until it is restored or deleted
// for good; what the RustDesk client lists never includes it.

let s: TestServer;
let ann: string;
let book: { guid: string; ref: { guid: string; label: string } };
let n = 0;

beforeAll(async () => {
  s = await startTestServer();
  await s.seedUsers(['ann']);
  ann = await s.login('ann', 'password123');
});
afterAll(async () => {
  await s.close();
});

type Json = Record<string, unknown>;
const call = (method: string, path: string, token: string, body?: unknown) =>
  s.call(method, path, token, body);

/** A fresh shared book owned by admin, with ann given `rule` and three peers. */
async function freshBook(rule = 2) {
  const name = `Bin ${++n}`;
  const adminGuid = (await s.store.users.getByName('admin'))!.guid;
  const guid = await s.store.addressBooks.createShared({ name, ownerGuid: adminGuid });
  const annGuid = (await s.store.users.getByName('ann'))!.guid;
  await s.store.addressBooks.addRule(guid, { userGuid: annGuid, groupGuid: null }, rule);
  const ref = { guid, label: name };
  await s.store.addressBooks.addPeer(ref, '100', {
    alias: 'one',
    tags: ['red'],
    note: 'n1',
    password: 'pw-1',
  });
  await s.store.addressBooks.addPeer(ref, '200', { alias: 'two' });
  await s.store.addressBooks.addPeer(ref, '300', { alias: 'three' });
  return { guid, ref };
}

const peerIds = async (token = ann) =>
  (
    (await call('POST', `/api/ab/peers?current=1&pageSize=100&ab=${book.guid}`, token)).json![
      'data'
    ] as Json[]
  ).map((p) => p['id']);
const bin = async (token = ann) => (await call('GET', `/api/ab/recycle?ab=${book.guid}`, token)).json!;

describe('the address-book recycle bin', () => {
  beforeAll(async () => {
    book = await freshBook();
  });

  it('a deleted peer leaves the book and lands in its bin, with when it was deleted', async () => {
    expect((await call('DELETE', `/api/ab/peer/${book.guid}`, ann, ['100', '200'])).status).toBe(200);
    expect(await peerIds()).toEqual(['300']);
    const b = await bin();
    expect(b['total']).toBe(2);
    expect((b['data'] as Json[]).map((p) => p['id']).sort()).toEqual(['100', '200']);
    expect((b['data'] as Json[]).find((p) => p['id'] === '100')).toMatchObject({
      alias: 'one',
      tags: ['red'],
      note: 'n1',
      deleted_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    // The bin does not show secrets.
    expect(JSON.stringify(b)).not.toContain('pw-1');
  });

  it('restore puts a peer back with every field, its password included', async () => {
    expect((await call('POST', `/api/ab/recycle/restore/${book.guid}`, ann, ['100'])).status).toBe(200);
    expect((await peerIds()).sort()).toEqual(['100', '300']);
    const peer = await s.store.addressBooks.getPeer(book.guid, '100');
    expect(peer).toMatchObject({ alias: 'one', tags: ['red'], note: 'n1', password: 'pw-1' });
    expect((await bin())['total']).toBe(1);
  });

  it('restore is all or nothing: an ID not in the bin (404), or one the book holds again (409)', async () => {
    const missing = await call('POST', `/api/ab/recycle/restore/${book.guid}`, ann, ['200', '999']);
    expect(missing.status).toBe(404);
    expect(missing.json!['error']).toBe(
      `not in the recycle bin of address book '${book.ref.label}': 999 (nothing was restored)`,
    );
    await s.store.addressBooks.addPeer(book.ref, '200', { alias: 'a new two' });
    const again = await call('POST', `/api/ab/recycle/restore/${book.guid}`, ann, ['200']);
    expect(again.status).toBe(409);
    expect(again.json!['error']).toBe(
      `address book '${book.ref.label}' holds 200 again: delete or rename those first (nothing was restored)`,
    );
    expect((await s.store.addressBooks.getPeer(book.guid, '200'))!.alias).toBe('a new two');
    expect((await bin())['total']).toBe(1);
  });

  it('deleting a peer that is already in the bin replaces the older entry', async () => {
    await call('DELETE', `/api/ab/peer/${book.guid}`, ann, ['200']);
    const b = await bin();
    expect(b['data']).toEqual([expect.objectContaining({ id: '200', alias: 'a new two' })]);
  });

  it('deleting from the bin for good, and emptying it', async () => {
    await call('DELETE', `/api/ab/peer/${book.guid}`, ann, ['300']);
    const none = await call('DELETE', `/api/ab/recycle/${book.guid}`, ann, ['300', '404']);
    expect(none.status).toBe(404);
    expect((await bin())['total']).toBe(2);
    expect((await call('DELETE', `/api/ab/recycle/${book.guid}`, ann, ['300'])).status).toBe(200);
    expect((await bin())['data']).toEqual([expect.objectContaining({ id: '200' })]);
    expect((await call('POST', `/api/ab/recycle/empty/${book.guid}`, ann)).status).toBe(200);
    expect((await bin())['total']).toBe(0);
  });

  it('is recorded in the console log (17 restore, 18 delete, 19 the bin)', async () => {
    const r = await call('GET', '/api/audits/console?pageSize=100&operator=ann', s.token);
    const rows = (r.json!['data'] as { iop: number; detail: string }[]).map((x) => [x.iop, x.detail]);
    const label = `address book '${book.ref.label}'`;
    expect(rows).toEqual(
      expect.arrayContaining([
        [18, `deleted peers 100, 200 from ${label}`],
        [17, `restored peer 100 to ${label} from its recycle bin`],
        [19, `deleted peer 300 for good from the recycle bin of ${label}`],
        [19, `emptied the recycle bin of ${label} (1 peer)`],
      ]),
    );
  });

  it('needs read/write on the book; a read-only user may neither see nor change the bin', async () => {
    const ro = await freshBook(1);
    await s.store.addressBooks.deletePeers(ro.ref, ['100']);
    const view = await call('GET', `/api/ab/recycle?ab=${ro.guid}`, ann);
    expect(view.status).toBe(403);
    expect(view.json!['error']).toBe(
      `your permission on address book '${ro.ref.label}' is read-only; viewing the recycle bin needs read/write`,
    );
    expect((await call('POST', `/api/ab/recycle/restore/${ro.guid}`, ann, ['100'])).status).toBe(403);
    expect((await call('POST', `/api/ab/recycle/empty/${ro.guid}`, ann)).status).toBe(403);
  });

  it('restoring respects max_peer_one_ab', async () => {
    const full = await freshBook();
    await s.store.addressBooks.deletePeers(full.ref, ['100', '200']);
    await s.store.settings.set('max_peer_one_ab', 2);
    try {
      const r = await call('POST', `/api/ab/recycle/restore/${full.guid}`, ann, ['100', '200']);
      expect(r.status).toBe(400);
      expect(r.json!['error']).toContain('max_peer_one_ab = 2');
      expect((await s.store.addressBooks.listRecycled(full.guid, 0, 10)).total).toBe(2);
    } finally {
      await s.store.settings.set('max_peer_one_ab', 0);
    }
  });

  it("a legacy client's upload moves the peers it lacks to the bin", async () => {
    const r = await call('POST', '/api/ab', ann, {
      data: JSON.stringify({ tags: [], peers: [{ id: '500' }, { id: '600' }] }),
    });
    expect(r.status).toBe(200);
    await call('POST', '/api/ab', ann, { data: JSON.stringify({ tags: [], peers: [{ id: '600' }] }) });
    const personal = (await call('POST', '/api/ab/personal', ann)).json!['guid'] as string;
    const b = (await call('GET', `/api/ab/recycle?ab=${personal}`, ann)).json!;
    expect((b['data'] as Json[]).map((p) => p['id'])).toEqual(['500']);
  });
});

describe('rdadmin ab view-recycle, restore-peer, empty-recycle', () => {
  let env: Record<string, string>;
  let b: Awaited<ReturnType<typeof freshBook>>;
  const ab = (args: string[], o: CliOptions = {}) => cli(['ab', ...args], { env, ...o });

  beforeAll(async () => {
    env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
    b = await freshBook();
    await s.store.addressBooks.deletePeers(b.ref, ['100', '200', '300']);
  });

  it('view-recycle lists the bin (tsv, --json without secrets)', async () => {
    const tsv = await ab(['view-recycle', '--ab-name', b.ref.label]);
    expect(tsv.code, tsv.stderr).toBe(0);
    expect(
      tsv.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0])
        .sort(),
    ).toEqual(['100', '200', '300']);
    const json = JSON.parse((await ab(['view-recycle', '--ab-guid', b.guid, '--json'])).stdout) as Json[];
    // 100 was deleted with its password (kept for a restore): the bin says so, and never shows it.
    expect(json.find((p) => p['id'] === '100')).toMatchObject({
      alias: 'one',
      has_password: true,
      deleted_at: expect.any(String),
    });
    expect(json.find((p) => p['id'] === '200')).toMatchObject({ alias: 'two', has_password: false });
    expect(JSON.stringify(json)).not.toContain('pw-1');
    expect(json.every((p) => !('password' in p) && !('hash' in p))).toBe(true);
  });

  it('restore-peer: one at once; more than one needs --yes without a terminal (exit 3)', async () => {
    const one = await ab(['restore-peer', '--ab-name', b.ref.label, '--peer-id', '100']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain('Restored 1 peer');
    const two = await ab(['restore-peer', '--ab-name', b.ref.label, '--peer-id', '200,300']);
    expect(two.code).toBe(3);
    expect((await s.store.addressBooks.listRecycled(b.guid, 0, 10)).total).toBe(2);
    const missing = await ab(['restore-peer', '--ab-name', b.ref.label, '--peer-id', '100']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`not in the recycle bin of address book '${b.ref.label}': 100`);
  });

  it('empty-recycle lists what it would delete (--dry-run), then deletes it for good with --yes', async () => {
    const dry = await ab(['empty-recycle', '--ab-name', b.ref.label, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout + dry.stderr).toContain('200');
    expect((await s.store.addressBooks.listRecycled(b.guid, 0, 10)).total).toBe(2);
    const done = await ab(['empty-recycle', '--ab-name', b.ref.label, '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect((await s.store.addressBooks.listRecycled(b.guid, 0, 10)).total).toBe(0);
    const again = await ab(['empty-recycle', '--ab-name', b.ref.label, '--yes']);
    expect(again).toMatchObject({ code: 0 });
    expect(again.stderr).toContain(`The recycle bin of address book '${b.ref.label}' is empty.`);
  });
});
