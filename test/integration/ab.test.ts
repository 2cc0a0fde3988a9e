import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliOptions, cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// rdadmin ab: every verb and flag of ab.py, and the fixed defects D-11, D-15 … D-20.

let s: TestServer;
let env: Record<string, string>;
let adminGuid: string;
let n = 0;

beforeAll(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
  adminGuid = (await s.store.users.getByName('admin'))!.guid;
  await s.seedUsers(['mike', 'ann']);
  await s.seedUsers(['sam'], { group: 'Support' });
});
afterAll(async () => {
  await s.close();
});

const ab = (args: string[], o: CliOptions = {}) => cli(['ab', ...args], { env, ...o });

/** A fresh shared book (through the store: setup, not the thing under test). */
async function book(opts: { password?: string } = {}): Promise<{ name: string; guid: string }> {
  const name = `Book ${++n}`;
  const guid = await s.store.addressBooks.createShared({ name, ownerGuid: adminGuid, ...opts });
  return { name, guid };
}

const ref = (b: { name: string; guid: string }) => ({ guid: b.guid, label: b.name });
const peers = (guid: string) => s.store.addressBooks.listPeers(guid, {}, 0, 1000).then((r) => r.rows);
const tags = (guid: string) => s.store.addressBooks.listTags(guid);
const requests = (prefix: string) => s.logs.filter((l) => l.startsWith(prefix)).length;

describe('books: view-ab, add-ab, update-ab, delete-ab, get-personal-ab', () => {
  it('add-ab creates a book (note, password from stdin) and prints its GUID; view-ab shows it', async () => {
    const r = await ab(['add-ab', '--ab-name', 'Helpdesk', '--note', 'first line', '--password-stdin'], {
      stdin: 'book-secret\n',
    });
    expect(r.code).toBe(0);
    const guid = r.stdout.trim();
    expect(r.stderr).toContain("Created shared address book 'Helpdesk'.");
    const b = (await s.store.addressBooks.getByGuid(guid))!;
    expect(b).toMatchObject({ name: 'Helpdesk', note: 'first line', owner_guid: adminGuid });
    expect(s.store.addressBooks.bookPassword(b)).toBe('book-secret');

    const tsv = await ab(['view-ab', '--ab-name', 'Helpdesk']);
    expect(tsv.stdout).toBe(`Helpdesk\t${guid}\tadmin\tfull\tset\tfirst line\n`);
    const json = await ab(['view-ab', '--ab_name', 'helpdesk', '--json']);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ guid, rule: 3, rule_label: 'full', info: { has_password: true } });
    expect(json.stdout).not.toContain('book-secret');
    const table = await ab(['view-ab', '--ab-name', 'Helpdesk', '--no-color'], { tty: true });
    expect(table.stdout).toContain('│ PERMISSION');
    expect(table.stdout).toContain('│ full');
  });

  it('add-ab without --ab-name, and a duplicate name, fail with non-zero exits (D-11)', async () => {
    const missing = await ab(['add-ab', '--note', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('add-ab needs --ab-name');
    const b = await book();
    const dup = await ab(['add-ab', '--ab-name', b.name]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain(`a shared address book named '${b.name}' already exists`);
  });

  it('update-ab changes name, note, owner and password; an empty value clears (D-19)', async () => {
    const b = await book({ password: 'old' });
    const r = await ab([
      'update-ab',
      '--ab-guid',
      b.guid,
      '--ab-update-name',
      `${b.name} EU`,
      '--note',
      'EU desk',
      '--owner',
      'mike',
    ]);
    expect(r.code, r.stderr).toBe(0);
    let row = (await s.store.addressBooks.getByGuid(b.guid))!;
    expect(row).toMatchObject({ name: `${b.name} EU`, note: 'EU desk', owner_name: 'mike' });
    expect(s.store.addressBooks.bookPassword(row)).toBe('old');
    const clear = await ab(['update-ab', '--ab_name', `${b.name} EU`, '--note', '', '--password', '']);
    expect(clear.code, clear.stderr).toBe(0);
    row = (await s.store.addressBooks.getByGuid(b.guid))!;
    expect(row.note).toBe('');
    expect(s.store.addressBooks.bookPassword(row)).toBe('');
  });

  it('update-ab with nothing to change, or on the personal book, is a usage error before any request', async () => {
    const b = await book();
    const before = requests('PUT /api/ab/shared/update/profile');
    const nothing = await ab(['update-ab', '--ab-guid', b.guid]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain(
      'update-ab needs at least one of --ab-update-name, --note, --owner, --password',
    );
    const personal = await ab(['update-ab', '--personal', '--note', 'x']);
    expect(personal.code).toBe(2);
    expect(requests('PUT /api/ab/shared/update/profile')).toBe(before);
  });

  it('delete-ab takes comma lists of names (D-16), shows them, needs --yes without a terminal', async () => {
    const a = await book();
    const b = await book();
    const names = `${a.name},${b.name}`;
    const refused = await ab(['delete-ab', '--ab-name', names]);
    expect(refused.code).toBe(3);
    const dry = await ab(['delete-ab', '--ab-name', names, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(`${a.name}\n${b.name}\n`);
    expect(await s.store.addressBooks.getByGuid(a.guid)).toBeDefined();
    const asked = await ab(['delete-ab', '--ab-name', names], { tty: true, answer: true });
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.asked).toEqual(['Delete 2 address books?']);
    expect(await s.store.addressBooks.getByGuid(a.guid)).toBeUndefined();
    expect(await s.store.addressBooks.getByGuid(b.guid)).toBeUndefined();
  });

  it('delete-ab by GUID: one exact target needs no question; an unknown name deletes nothing', async () => {
    const a = await book();
    const b = await book();
    const unknown = await ab(['delete-ab', '--ab-name', `${a.name},No such book`, '--yes']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("address book 'No such book' not found");
    expect(await s.store.addressBooks.getByGuid(a.guid)).toBeDefined();
    const one = await ab(['delete-ab', '--ab-guid', b.guid, '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual([
      { guid: b.guid, name: b.guid, action: 'delete', ok: true, attempted: true, outcome: 'done' },
    ]);
    expect(await s.store.addressBooks.getByGuid(b.guid)).toBeUndefined();
  });

  it('get-personal-ab prints the GUID; --personal selects that book (D-20)', async () => {
    const r = await ab(['get-personal-ab']);
    expect(r.code).toBe(0);
    const guid = r.stdout.trim();
    expect(guid).toBe(await s.store.addressBooks.personalGuid(adminGuid));
    expect(JSON.parse((await ab(['get-personal-ab', '--json'])).stdout)).toEqual({ guid });
    const add = await ab(['add-peer', '--personal', '--peer-id', '777000111', '--alias', 'home']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toContain('your personal address book');
    const view = await ab(['view-peer', '--personal', '--json']);
    expect(JSON.parse(view.stdout)).toMatchObject([{ id: '777000111', alias: 'home', has_password: false }]);
  });
});

describe('book selection and exit codes (D-11)', () => {
  it('no book, two selectors, an empty or unknown name: non-zero exits with the fix', async () => {
    const none = await ab(['view-peer']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('view-peer needs the address book: --ab-name, --ab-guid or --personal');
    const both = await ab(['view-tag', '--ab-name', 'x', '--ab-guid', 'y']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give only one of');
    const unknown = await ab(['view-tag', '--ab-name', 'Nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("address book 'Nope' not found");
    const guid = await ab(['view-tag', '--ab-guid', '01a00000-0000-7000-8000-000000000000']);
    expect(guid.code).toBe(1);
    expect(guid.stderr).toContain('address book not found');
  });

  it('a name is matched exactly (case and LIKE characters), through the shared-book list', async () => {
    const guid = await s.store.addressBooks.createShared({ name: 'Ops_50%', ownerGuid: adminGuid });
    await s.store.addressBooks.createShared({ name: 'OpsX50%', ownerGuid: adminGuid });
    const r = await ab(['view-tag', '--ab-name', 'Ops_50%', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const wrongCase = await ab(['view-tag', '--ab-name', 'ops_50%']);
    expect(wrongCase.code).toBe(1);
    expect(wrongCase.stderr).toContain('similar names: Ops_50%');
    await s.store.addressBooks.deleteBooks([guid]);
  });

  it('a token with address_book:r reads but cannot change (exit 4)', async () => {
    const b = await book();
    const ro = { ...env, RDADMIN_TOKEN: await s.makeToken('address_book:r') };
    expect((await ab(['view-peer', '--ab-guid', b.guid], { env: ro })).code).toBe(0);
    const w = await ab(['add-peer', '--ab-guid', b.guid, '--peer-id', '1'], { env: ro });
    expect(w.code).toBe(4);
    expect(w.stderr).toContain('lacks permission address_book:rw');
    const none = await ab(['view-ab'], { env: { ...env, RDADMIN_TOKEN: await s.makeToken('user:rw') } });
    expect(none.code).toBe(4);
  });
});

describe('peers: view-peer, add-peer, update-peer, delete-peer', () => {
  it('add-peer sends every given field; tags the book lacks are created; passwords are never printed', async () => {
    const b = await book();
    const r = await ab([
      'add-peer',
      '--ab-name',
      b.name,
      '--peer-id',
      '123456789',
      '--alias',
      'Front desk',
      '--note',
      'Ground floor',
      '--tags',
      '[office, printer]',
      '--password',
      'peer-secret',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('--password-stdin');
    expect(await peers(b.guid)).toMatchObject([
      {
        id: '123456789',
        alias: 'Front desk',
        note: 'Ground floor',
        tags: ['office', 'printer'],
        password: 'peer-secret',
      },
    ]);
    expect((await tags(b.guid)).map((t) => t.name)).toEqual(['office', 'printer']);
    const tsv = await ab(['view-peer', '--ab-guid', b.guid]);
    expect(tsv.stdout).toBe('123456789\tFront desk\toffice,printer\tGround floor\tset\t\t\t\n');
    const json = await ab(['view-peer', '--ab-guid', b.guid, '--json']);
    expect(json.stdout).not.toContain('peer-secret');
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ id: '123456789', has_password: true });
  });

  it('add-peer: --peer-id is required (exit 2); a peer already there is an error (exit 1)', async () => {
    const b = await book();
    const missing = await ab(['add-peer', '--ab-guid', b.guid]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('add-peer needs --peer-id');
    await s.store.addressBooks.addPeer(ref(b), '5', {});
    const dup = await ab(['add-peer', '--ab-guid', b.guid, '--peer-id', '5']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('peer 5 is already in');
  });

  it('add and update treat empty values alike: given empty sets empty, not given leaves it (D-19)', async () => {
    const b = await book();
    const add = await ab(['add-peer', '--ab-guid', b.guid, '--peer-id', '9', '--tags', '[]', '--alias', '']);
    expect(add.code, add.stderr).toBe(0);
    expect(await peers(b.guid)).toMatchObject([{ id: '9', alias: '', tags: [] }]);
    await ab([
      'update-peer',
      '--ab-guid',
      b.guid,
      '--peer-id',
      '9',
      '--alias',
      'x',
      '--tags',
      'a',
      '--note',
      'n',
    ]);
    expect(await peers(b.guid)).toMatchObject([{ alias: 'x', tags: ['a'], note: 'n' }]);
    const clear = await ab([
      'update-peer',
      '--ab-guid',
      b.guid,
      '--peer-id',
      '9',
      '--tags',
      '[]',
      '--note',
      '',
    ]);
    expect(clear.code, clear.stderr).toBe(0);
    expect(await peers(b.guid)).toMatchObject([{ alias: 'x', tags: [], note: '' }]);
    const pw = await ab(['update-peer', '--ab-guid', b.guid, '--peer-id', '9', '--password-stdin'], {
      stdin: 'from-stdin\n',
    });
    expect(pw.code, pw.stderr).toBe(0);
    expect(pw.stderr).not.toContain('warning');
    expect((await peers(b.guid))[0]!.password).toBe('from-stdin');
  });

  it('--dry-run changes nothing', async () => {
    const b = await book();
    const r = await ab(['add-peer', '--ab-guid', b.guid, '--peer-id', '1', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true });
    expect(r.stderr).toContain(`Dry run: would add peer 1 to address book ${b.guid}`);
    expect(await peers(b.guid)).toEqual([]);
  });

  it('update-peer needs something to change (exit 2) and an existing peer (exit 1)', async () => {
    const b = await book();
    const nothing = await ab(['update-peer', '--ab-guid', b.guid, '--peer-id', '9']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('update-peer needs at least one of --alias, --note, --tags, --password');
    const unknown = await ab(['update-peer', '--ab-guid', b.guid, '--peer-id', '9', '--alias', 'a']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`peer 9 is not in address book '${b.name}'`);
  });

  it('view-peer filters --peer-id and --alias as substrings (and % patterns)', async () => {
    const b = await book();
    for (const [id, alias] of [
      ['111222', 'Office PC'],
      ['333444', 'Home'],
      ['111999', 'office printer'],
    ]) {
      await s.store.addressBooks.addPeer(ref(b), id!, { alias });
    }
    const ids = async (args: string[]) =>
      (
        JSON.parse((await ab(['view-peer', '--ab-guid', b.guid, ...args, '--json'])).stdout) as {
          id: string;
        }[]
      ).map((p) => p.id);
    expect(await ids(['--peer-id', '111'])).toEqual(['111222', '111999']);
    expect(await ids(['--alias', 'OFFICE'])).toEqual(['111222', '111999']);
    expect(await ids(['--peer_id', '%4'])).toEqual(['333444']);
    expect(await ids(['--alias', 'home', '--peer-id', '333'])).toEqual(['333444']);
  });

  it('delete-peer takes a comma list (D-16): one result per peer, exit 1 if one is unknown', async () => {
    const b = await book();
    for (const id of ['12', '13', '14']) await s.store.addressBooks.addPeer(ref(b), id, {});
    const needsYes = await ab(['delete-peer', '--ab-guid', b.guid, '--peer-id', '12,13']);
    expect(needsYes.code).toBe(3);
    const r = await ab(['delete-peer', '--ab-guid', b.guid, '--peer-id', '12, 13,99', '--yes', '--json']);
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as { peer: string; ok: boolean; error?: string }[];
    // The unknown one is found missing before anything is sent, and fails first (no request).
    expect(results.map((x) => [x.peer, x.ok])).toEqual([
      ['99', false],
      ['12', true],
      ['13', true],
    ]);
    expect(results[0]!.error).toContain('not in');
    expect(r.stderr).toContain(`warning: not in address book ${b.guid}: 99 (nothing is sent for it)`);
    // A dry run lists only what is there, and exits 1 like the real run would.
    for (const id of ['20', '21']) await s.store.addressBooks.addPeer(ref(b), id, {});
    const before = s.logs.filter((l) => /DELETE \/api\/ab\/peer/.test(l)).length;
    const dry = await ab(['delete-peer', '--ab-guid', b.guid, '--peer-id', '20,98,21', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toBe(`peer 20 from address book ${b.guid}\npeer 21 from address book ${b.guid}\n`);
    expect(dry.stderr).toContain('Dry run: would delete 2 peers');
    expect(s.logs.filter((l) => /DELETE \/api\/ab\/peer/.test(l)).length).toBe(before);
    await ab(['delete-peer', '--ab-guid', b.guid, '--peer-id', '20,21', '--yes']);
    expect((await peers(b.guid)).map((p) => p.id)).toEqual(['14']);
    const one = await ab(['delete-peer', '--ab-guid', b.guid, '--peer-id', '14']);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(`Deleted peer 14 from address book ${b.guid}\n`);
  });
});

describe('tags: view-tag, add-tag, update-tag, rename-tag, delete-tag', () => {
  it('view-tag shows 0xAARRGGBB; --json keeps the number and adds the hex', async () => {
    const b = await book();
    await s.store.addressBooks.addTag(ref(b), 'green', 0xff008000);
    const r = await ab(['view-tag', '--ab-guid', b.guid]);
    expect(r.stdout).toBe('green\t0xFF008000\n');
    expect(JSON.parse((await ab(['view-tag', '--ab-guid', b.guid, '--json'])).stdout)).toEqual([
      { name: 'green', color: 4278222848, color_hex: '0xFF008000' },
    ]);
  });

  it('add-tag takes --tag-color as hex, decimal, #RRGGBB or a name; a bad colour is exit 2', async () => {
    const b = await book();
    for (const [name, color] of [
      ['hex', '0xFF00FF00'],
      ['dec', '4294901760'],
      ['css', '#0000ff'],
      ['named', 'teal'],
    ]) {
      const r = await ab(['add-tag', '--ab-guid', b.guid, '--tag-name', name!, '--tag_color', color!]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await tags(b.guid)).map((t) => formatHex(t.color))).toEqual([
      '0xFF00FF00',
      '0xFFFF0000',
      '0xFF0000FF',
      '0xFF009688',
    ]);
    const bad = await ab(['add-tag', '--ab-guid', b.guid, '--tag-name', 'x', '--tag-color', 'blurple']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("invalid colour 'blurple'");
    const missing = await ab(['add-tag', '--ab-guid', b.guid]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('add-tag needs --tag-name');
  });

  it('the automatic colour avoids colours already used in the book (D-17)', async () => {
    const b = await book();
    // 'Work' is brown for ab.py; with brown and red taken it must be the next free palette colour
    await s.store.addressBooks.addTag(ref(b), 'x', 0xff795548);
    await s.store.addressBooks.addTag(ref(b), 'y', 0xffff0000);
    const r = await ab(['add-tag', '--ab-guid', b.guid, '--tag-name', 'Work', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'Work', color: 0xff008000, color_hex: '0xFF008000' });
    const fresh = await book();
    const w = await ab(['add-tag', '--ab-guid', fresh.guid, '--tag-name', 'Work']);
    expect(w.stderr).toContain("Added tag 'Work' (0xFF795548)");
  });

  it('update-tag without --tag-color keeps the colour (D-18); with it, changes it', async () => {
    const b = await book();
    await s.store.addressBooks.addTag(ref(b), 'T', 0xff0000ff);
    const before = requests('PUT /api/ab/tag/update/');
    const nothing = await ab(['update-tag', '--ab-guid', b.guid, '--tag-name', 'T']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('update-tag needs --tag-color and/or --new-name');
    expect(requests('PUT /api/ab/tag/update/')).toBe(before);
    const rename = await ab(['update-tag', '--ab-guid', b.guid, '--tag-name', 'T', '--new-name', 'U']);
    expect(rename.code, rename.stderr).toBe(0);
    expect(await tags(b.guid)).toEqual([{ name: 'U', color: 0xff0000ff }]);
    const color = await ab([
      'update-tag',
      '--ab-guid',
      b.guid,
      '--tag-name',
      'U',
      '--tag-color',
      '0xFFFF0000',
    ]);
    expect(color.code, color.stderr).toBe(0);
    expect(await tags(b.guid)).toEqual([{ name: 'U', color: 0xffff0000 }]);
    const unknown = await ab(['update-tag', '--ab-guid', b.guid, '--tag-name', 'nope', '--tag-color', 'red']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("tag 'nope' is not in");
  });

  it('rename-tag renames the tag on every peer and keeps its colour', async () => {
    const b = await book();
    await s.store.addressBooks.addTag(ref(b), 'old', 0xff9c27b0);
    await s.store.addressBooks.addPeer(ref(b), '1', { tags: ['old', 'keep'] });
    await s.store.addressBooks.addPeer(ref(b), '2', { tags: ['keep'] });
    const r = await ab(['rename-tag', '--ab-name', b.name, '--tag-name', 'old', '--new-name', 'new']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Renamed tag 'old' to 'new' in address book '${b.name}'.`);
    expect((await peers(b.guid)).map((p) => p.tags)).toEqual([['new', 'keep'], ['keep']]);
    expect((await tags(b.guid)).find((t) => t.name === 'new')?.color).toBe(0xff9c27b0);
    const missing = await ab(['rename-tag', '--ab-name', b.name, '--tag-name', 'new']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('rename-tag needs --new-name');
    const taken = await ab(['rename-tag', '--ab-name', b.name, '--tag-name', 'new', '--new-name', 'keep']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("tag 'keep' already exists");
  });

  it('delete-tag takes a comma list and takes the tags off every peer', async () => {
    const b = await book();
    await s.store.addressBooks.addPeer(ref(b), '1', { tags: ['a', 'b', 'c'] });
    const r = await ab(['delete-tag', '--ab-guid', b.guid, '--tag-name', 'a,c', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Deleted 2 tags.');
    expect((await tags(b.guid)).map((t) => t.name)).toEqual(['b']);
    expect((await peers(b.guid))[0]!.tags).toEqual(['b']);
    // A tag the book does not have: named before anything is sent, left out of the count, exit 1.
    const dry = await ab(['delete-tag', '--ab-guid', b.guid, '--tag-name', 'b,nosuch', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain(`warning: not in address book ${b.guid}: nosuch`);
    expect(dry.stderr).toContain('Dry run: would delete 1 tag;');
    expect((await tags(b.guid)).map((t) => t.name)).toEqual(['b']);
  });

  it('a tag with a comma in its name (as a client may make one) is named with \\,', async () => {
    const b = await book();
    await s.store.addressBooks.addPeer(ref(b), '1', { tags: ['p,q', 'p', 'q'] });
    const r = await ab(['delete-tag', '--ab-guid', b.guid, '--tag-name', 'p\\,q', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Deleted 1 tag.');
    expect((await tags(b.guid)).map((t) => t.name)).toEqual(['p', 'q']);
  });
});

describe('rules: view-rule, add-rule, update-rule, delete-rule', () => {
  it('add-rule for a user, a group and everyone; view-rule shows ro/rw/full, --json keeps numbers', async () => {
    const b = await book();
    const user = await ab([
      'add-rule',
      '--ab-guid',
      b.guid,
      '--rule-user',
      'mike',
      '--rule-permission',
      'RO',
    ]);
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    expect(user.stderr).toContain(`Shared address book ${b.guid} with user 'mike': read-only (ro).`);
    const group = await ab([
      'add-rule',
      '--ab-name',
      b.name,
      '--rule-type',
      'group',
      '--rule-group',
      'Support',
      '--rule-permission',
      '2',
    ]);
    expect(group.code, group.stderr).toBe(0);
    const all = await ab([
      'add-rule',
      '--ab-name',
      b.name,
      '--rule-type',
      'everyone',
      '--rule_permission',
      'full',
    ]);
    expect(all.code, all.stderr).toBe(0);
    const view = await ab(['view-rule', '--ab-name', b.name]);
    const lines = view.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t').slice(1));
    expect(lines).toEqual([
      ['everyone', '', 'full'],
      ['group', 'Support', 'rw'],
      ['user', 'mike', 'ro'],
    ]);
    const json = JSON.parse((await ab(['view-rule', '--ab-name', b.name, '--json'])).stdout) as Record<
      string,
      unknown
    >[];
    expect(json.map((r) => [r['type'], r['rule'], r['rule_label']])).toEqual([
      ['everyone', 3, 'full'],
      ['group', 2, 'rw'],
      ['user', 1, 'ro'],
    ]);
  });

  it("checks the rule flags like ab.py, before any request, with exit 2 instead of ab.py's 0", async () => {
    const b = await book();
    const before = requests('POST /api/ab/rule ');
    const cases: [string[], string][] = [
      [[], '--rule-permission'],
      [
        ['--rule-permission', 'write'],
        'Invalid permission value: write. Must be one of: ro, rw, full, 1, 2, 3',
      ],
      [['--rule-permission', 'ro'], 'Must specify --rule-type=everyone, --rule-user, or --rule-group'],
      [
        ['--rule-permission', 'ro', '--rule-user', 'a', '--rule-group', 'b'],
        'Cannot specify both --rule-user and --rule-group',
      ],
      [['--rule-permission', 'ro', '--rule-type', 'user'], '--rule-user is required when rule-type=user'],
      [['--rule-permission', 'ro', '--rule-type', 'group'], '--rule-group is required when rule-type=group'],
      [
        ['--rule-permission', 'ro', '--rule-type', 'user', '--rule-user', 'a', '--rule-group', 'b'],
        'Cannot specify --rule-group when rule-type=user',
      ],
      [
        ['--rule-permission', 'ro', '--rule-type', 'group', '--rule-group', 'b', '--rule-user', 'a'],
        'Cannot specify --rule-user when rule-type=group',
      ],
      [
        ['--rule-permission', 'ro', '--rule-type', 'everyone', '--rule-user', 'a'],
        'Cannot specify --rule-user or --rule-group when rule-type=everyone',
      ],
      [['--rule-permission', 'ro', '--rule-type', 'nobody'], '--rule-type must be user, group or everyone'],
    ];
    for (const [args, message] of cases) {
      const r = await ab(['add-rule', '--ab-guid', b.guid, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
    expect(requests('POST /api/ab/rule ')).toBe(before);
  });

  it('add-rule refuses unknown users and groups and a second rule for the same target (exit 1)', async () => {
    const b = await book();
    const u = await ab(['add-rule', '--ab-guid', b.guid, '--rule-user', 'ghost', '--rule-permission', 'ro']);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain("user 'ghost' does not exist");
    const g = await ab([
      'add-rule',
      '--ab-guid',
      b.guid,
      '--rule-group',
      'Ghosts',
      '--rule-permission',
      'ro',
    ]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain("user group 'Ghosts' does not exist");
    await ab(['add-rule', '--ab-guid', b.guid, '--rule-user', 'ann', '--rule-permission', 'ro']);
    const again = await ab([
      'add-rule',
      '--ab-guid',
      b.guid,
      '--rule-user',
      'ann',
      '--rule-permission',
      'rw',
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('a rule for this target already exists');
  });

  it('update-rule and delete-rule need only --rule-guid (D-15); delete takes comma lists (D-16)', async () => {
    const b = await book();
    const r1 = await s.store.addressBooks.addRule(b.guid, { userGuid: null, groupGuid: null }, 1);
    const mike = (await s.store.users.getByName('mike'))!.guid;
    const r2 = await s.store.addressBooks.addRule(b.guid, { userGuid: mike, groupGuid: null }, 1);
    const up = await ab(['update-rule', '--rule-guid', r1, '--rule-permission', 'rw']);
    expect(up.code, up.stderr).toBe(0);
    expect((await s.store.addressBooks.getRule(r1))!.rule).toBe(2);
    // an ab.py command line (with the book it needed) still works
    const legacy = await ab([
      'update-rule',
      '--ab-guid',
      b.guid,
      '--rule-guid',
      r1,
      '--rule-permission',
      'full',
    ]);
    expect(legacy.code, legacy.stderr).toBe(0);
    expect((await s.store.addressBooks.getRule(r1))!.rule).toBe(3);
    const noPerm = await ab(['update-rule', '--rule-guid', r1]);
    expect(noPerm.code).toBe(2);
    const unknown = await ab(['update-rule', '--rule-guid', 'nope', '--rule-permission', 'ro']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('rule not found: nope');
    const del = await ab(['delete-rule', '--rule-guid', `${r1},${r2}`, '--yes']);
    expect(del.code, del.stderr).toBe(0);
    expect(await s.store.addressBooks.getRules([r1, r2])).toEqual([]);
    const missing = await ab(['delete-rule']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('delete-rule needs --rule-guid');
  });
});

function formatHex(n: number): string {
  return `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;
}

describe('max_peer_one_ab, set with rdadmin settings', () => {
  it('an administrator sets it; add-peer is then refused past it; 0 lifts it', async () => {
    const admin = { RDADMIN_URL: s.url, RDADMIN_TOKEN: await s.login('admin', 'test1234') };
    try {
      const set = await cli(['settings', 'set', 'max_peer_one_ab', '1'], { env: admin });
      expect(set.code, set.stderr).toBe(0);
      const view = await cli(['settings', 'view', '--json'], { env: admin });
      expect(JSON.parse(view.stdout)).toMatchObject({ max_peer_one_ab: 1 });
      const b = await book();
      expect((await ab(['add-peer', '--ab-guid', b.guid, '--peer-id', '1001'])).code).toBe(0);
      const over = await ab(['add-peer', '--ab-guid', b.guid, '--peer-id', '1002']);
      expect(over.code).toBe(1);
      expect(over.stderr).toContain('max_peer_one_ab');
      expect((await cli(['settings', 'set', 'max_peer_one_ab', '1.5'], { env: admin })).code).toBe(2);
    } finally {
      await cli(['settings', 'set', 'max_peer_one_ab', '0'], { env: admin });
    }
    expect(await s.store.settings.get('max_peer_one_ab')).toBe(0);
  });
});
