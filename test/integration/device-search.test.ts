import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/server/store';
import type { DeviceFilter } from '../../src/server/store/devices';
import { fold } from '../../src/server/store/like';

// Device filters narrow rows with the FTS5 trigram index (migration 0007) and count through it when
// it answers a filter alone; the answer must be exactly what the filters' LIKE semantics give:
// case-insensitive (folded), `%` any run, `_` one character, `\` escapes, a lone `-` "not set".

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-search-'));
  store = await openStore(join(dir, 'db.sqlite3'));
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  store.database.sqlite.exec('DELETE FROM devices');
});

type Tok = { any: true } | { one: true } | { lit: string };

/** Text as SQLite's LIKE reads it: a C string, so a NUL ends it. */
const cstr = (s: string) => (s.includes('\0') ? s.slice(0, s.indexOf('\0')) : s);

/** Reference: SQLite's LIKE with ESCAPE '\' on folded text (a dangling `\` matches nothing). */
function like(pattern: string, text: string): boolean {
  const p = [...fold(cstr(pattern))];
  const toks: Tok[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      if (i + 1 >= p.length) return false;
      toks.push({ lit: p[++i]! });
    } else if (c === '%') toks.push({ any: true });
    else if (c === '_') toks.push({ one: true });
    else toks.push({ lit: c });
  }
  const t = [...fold(cstr(text))];
  let ok = [true, ...t.map(() => false)];
  for (const tok of toks) {
    const next = ok.map(() => false);
    if ('any' in tok) {
      let reach = false;
      for (let j = 0; j <= t.length; j++) next[j] = reach ||= ok[j]!;
    } else {
      for (let j = 1; j <= t.length; j++) next[j] = ok[j - 1]! && ('one' in tok || tok.lit === t[j - 1]);
    }
    ok = next;
  }
  return ok[t.length]!;
}

function matches(value: string | undefined, text: string): boolean {
  if (value === undefined || value === '') return true;
  if (value === '-') return text === '';
  return like(value, text);
}

interface Dev {
  id: string;
  name: string;
  user: string;
}

const FIELDS = [
  ['id', 'id'],
  ['device_name', 'name'],
  ['device_username', 'user'],
] as const;

function reference(devs: Dev[], f: DeviceFilter): string[] {
  return devs
    .filter((d) => FIELDS.every(([k, field]) => matches(f[k], d[field])))
    .map((d) => d.id)
    .sort();
}

/** The `id` column of `from` where each filter holds as a plain LIKE on its column (`-`: empty or NULL), sorted. */
function idsWhere(
  id: string,
  from: string,
  filters: [column: string, value: string | undefined][],
): string[] {
  const where: string[] = [];
  const params: string[] = [];
  for (const [col, v] of filters) {
    if (v === undefined || v === '') continue;
    if (v === '-') where.push(`(${col} IS NULL OR ${col} = '')`);
    else {
      where.push(`${col} LIKE ? ESCAPE '\\'`);
      params.push(fold(v));
    }
  }
  const sql = `SELECT ${id} FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
  return (
    store.database.sqlite
      .prepare(sql)
      .pluck()
      .all(...params) as string[]
  ).sort();
}

/** The same filters as plain LIKEs on the table, without the index (what like.ts did before). */
const plainLike = (f: DeviceFilter) =>
  idsWhere(
    'id',
    'devices',
    FIELDS.map(([k]) => [`${k}_fold`, f[k]]),
  );

async function seed(devs: Dev[]): Promise<void> {
  for (const d of devs) await store.devices.create(d.id, { device_name: d.name, device_username: d.user });
}

/** Every row through list(): a page size that forces several pages, both page plans included. */
async function listAll(f: DeviceFilter, pageSize: number): Promise<{ ids: string[]; totals: number[] }> {
  const ids: string[] = [];
  const totals: number[] = [];
  for (let offset = 0; offset < 1000; offset += pageSize) {
    const page = await store.devices.list(f, offset, pageSize);
    totals.push(page.total);
    ids.push(...page.rows.map((r) => r.id));
    if (page.rows.length < pageSize) break;
  }
  return { ids, totals };
}

const ALPHABET = [
  'a',
  'b',
  'c',
  'A',
  'B',
  'é',
  'É',
  'ß',
  'ẞ',
  'İ',
  'Σ',
  'ς',
  '字',
  '😀',
  ' ',
  '-',
  '"',
  "'",
  '1',
  '2',
];
const META = ['%', '_', '\\'];
// A NUL ends SQLite's reading of a LIKE pattern (and FTS5 refuses one in a query string).
const NUL = '\0';
// Values hold the metacharacters too, so escaped ones must match literally.
const text = fc.string({ unit: fc.constantFrom(...ALPHABET, ...META), maxLength: 8 });
const pattern = fc.string({ unit: fc.constantFrom(...ALPHABET, ...META, ...META, NUL), maxLength: 8 });

/** Filters that hit: `%part%` of a seeded value (the index's exact case), or any pattern. */
function filterFor(devs: Dev[]) {
  const part = fc
    .tuple(fc.nat({ max: Math.max(0, devs.length - 1) }), fc.constantFrom(...FIELDS), fc.nat(), fc.nat())
    .map(([i, [, field], a, b]) => {
      const chars = [...(devs[i]?.[field] ?? '')];
      const from = a % (chars.length + 1);
      const to = from + (b % (chars.length - from + 1));
      return `%${chars
        .slice(from, to)
        .join('')
        .replace(/[%_\\]/g, '\\$&')}%`;
    });
  const value = fc.oneof(
    { arbitrary: part, weight: 4 },
    { arbitrary: pattern, weight: 2 },
    { arbitrary: part.map((p) => `${p}\\`), weight: 1 }, // a dangling escape: matches nothing
    { arbitrary: fc.constant('-'), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
  return fc.record({ id: value, device_name: value, device_username: value }, { requiredKeys: [] });
}

const fleet = fc.uniqueArray(
  fc.record({ id: fc.stringMatching(/^[0-9a-c]{1,6}$/), name: text, user: text }),
  { minLength: 1, maxLength: 25, selector: (d) => d.id },
);

/**
 * Random fleets and filters on them: every listing, page by page, holds to the LIKE reference
 * (rows, their order by ID with no duplicates across pages, and every page's total).
 */
async function holdsToLike(
  fleetArb: fc.Arbitrary<Dev[]>,
  filters: (devs: Dev[]) => fc.Arbitrary<DeviceFilter>,
) {
  await fc.assert(
    fc.asyncProperty(
      fleetArb.chain((devs) =>
        fc.tuple(fc.constant(devs), fc.array(filters(devs), { minLength: 1, maxLength: 6 })),
      ),
      fc.integer({ min: 1, max: 7 }),
      async ([devs, fs], pageSize) => {
        store.database.sqlite.exec('DELETE FROM devices');
        await seed(devs);
        for (const f of fs) {
          const want = reference(devs, f);
          expect(plainLike(f)).toEqual(want);
          const got = await listAll(f, pageSize);
          expect([...got.ids].sort()).toEqual(want);
          expect(got.ids).toEqual([...got.ids].sort());
          for (const t of got.totals) expect(t).toBe(want.length);
        }
      },
    ),
    { numRuns: 300 },
  );
}

describe('device filters with the trigram index', () => {
  it('return exactly the rows (and total) of the LIKE semantics, on every page', async () => {
    await holdsToLike(fleet, filterFor);
  });

  it('the same with long values and long literal runs (the index takes a few trigrams of a run, the LIKE the rest)', async () => {
    // Few characters, mostly one: long runs, values that hold a run many times, near misses.
    const LONG = ['x', 'x', 'x', 'x', 'x', 'y', 'X', 'é', '%', '_', '\\'];
    const longText = fc.string({ unit: fc.constantFrom(...LONG, NUL), maxLength: 40 });
    const longFleet = fc.uniqueArray(
      fc.record({ id: fc.stringMatching(/^[0-9a-c]{1,6}$/), name: longText, user: longText }),
      {
        minLength: 1,
        maxLength: 20,
        selector: (d) => d.id,
      },
    );
    const longFilter = (devs: Dev[]) => {
      // A long slice of a seeded value, escaped, some characters made `_`, with or without `%` / `_`
      // at either end and a `%` inside: every shape likeFilter() tells apart.
      const part = fc
        .tuple(
          fc.nat({ max: Math.max(0, devs.length - 1) }),
          fc.constantFrom(...FIELDS),
          fc.nat(),
          fc.nat(),
          fc.constantFrom('%', '', '_', '%x'),
          fc.constantFrom('%', '', '_', 'x%'),
          fc.array(fc.nat(), { maxLength: 3 }),
          fc.option(fc.nat(), { nil: undefined }),
        )
        .map(([i, [, field], a, b, pre, post, blanks, cut]) => {
          const chars = [...(devs[i]?.[field] ?? '')];
          const from = a % (chars.length + 1);
          const to = from + (b % (chars.length - from + 1));
          const out = chars.slice(from, to).map((c) => c.replace(/[%_\\]/g, '\\$&'));
          for (const k of blanks) if (out.length) out[k % out.length] = '_';
          if (cut !== undefined) out.splice(cut % (out.length + 1), 0, '%');
          return `${pre}${out.join('')}${post}`;
        });
      const run = fc.string({
        unit: fc.constantFrom('x', 'x', 'x', 'X', 'y', '%', '_', '\\'),
        minLength: 9,
        maxLength: 40,
      });
      const contains = fc
        .string({ unit: fc.constantFrom('x', 'x', 'x', 'y'), minLength: 9, maxLength: 24 })
        .map((r) => `%${r}%`);
      const value = fc.oneof(
        { arbitrary: part, weight: 5 },
        { arbitrary: run, weight: 2 },
        { arbitrary: contains, weight: 2 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      );
      return fc.record(
        { id: fc.constant(undefined), device_name: value, device_username: value },
        { requiredKeys: [] },
      );
    };
    await holdsToLike(longFleet, longFilter);
  });

  it('follows renames and deletions', async () => {
    const guid = await store.devices.create('123456789', { device_name: 'Office-PC', device_username: 'Jo' });
    await store.devices.create('987654321', { device_name: 'Lab-PC' });
    const names = async (f: DeviceFilter) => (await store.devices.list(f, 0, 10)).rows.map((r) => r.id);
    expect(await names({ device_name: '%office%' })).toEqual(['123456789']);
    await store.devices.update([guid], { device_name: 'Kiosk-7' });
    expect(await names({ device_name: '%office%' })).toEqual([]);
    expect(await names({ device_name: '%KIOSK%' })).toEqual(['123456789']);
    expect(await names({ device_name: '%-pc%' })).toEqual(['987654321']);
    await store.devices.delete(guid);
    expect(await names({ device_name: '%kiosk%' })).toEqual([]);
    expect((await store.devices.list({ id: '%456%' }, 0, 10)).total).toBe(0);
  });

  it('reads a filter with a NUL as SQLite does: the pattern ends there', async () => {
    await store.devices.create('111222333', { device_name: 'nan' });
    await store.devices.create('444555666', { device_name: 'nan/*' });
    const ids = async (f: DeviceFilter) => (await store.devices.list(f, 0, 10)).rows.map((r) => r.id);
    expect(await ids({ device_name: 'NaN\0/*' })).toEqual(['111222333']);
    expect(await ids({ device_name: '%nan%\0zzz' })).toEqual(['111222333', '444555666']);
    expect(await ids({ device_name: '%nan\0%' })).toEqual(['111222333']);
    expect((await store.devices.list({ device_name: '\0abc' }, 0, 10)).total).toBe(0);
  });

  it('reads a value with a NUL as SQLite does, also where the index alone answers: the value ends there', async () => {
    await store.devices.create('baab1', { device_name: 'a\0desk', device_username: '\0xxxyxxxXx' });
    await store.devices.create('3cc32', { device_name: 'desk', device_username: 'x_xX\\xxy%' });
    await store.devices.create('8', { device_username: 'xxy\0' });
    const page = async (f: DeviceFilter) => {
      const { rows, total } = await store.devices.list(f, 0, 10);
      return { ids: rows.map((r) => r.id), total };
    };
    for (const f of [{ device_username: '%xxy%' }, { device_username: '%xxy%', device_name: '%desk%' }])
      expect(await page(f), JSON.stringify(f)).toEqual(
        f.device_name ? { ids: ['3cc32'], total: 1 } : { ids: ['3cc32', '8'], total: 2 },
      );
    expect(await page({ device_name: '%des%' })).toEqual({ ids: ['3cc32'], total: 1 });
    expect(await page({ device_username: '_xxy%' })).toEqual({ ids: [], total: 0 });
    // what is listed stays whole
    expect((await store.devices.getById('baab1'))!.device_username).toBe('\0xxxyxxxXx');
  });

  it('answers a 3-character substring filter from the index, without scanning the devices table', async () => {
    for (let i = 0; i < 300; i++) {
      await store.devices.create(String(100_000_000 + i * 7919), { device_name: `desktop-${i}` });
    }
    for (const f of [
      { device_name: '%k7q%' },
      { device_name: '%top%' },
      { id: '%123%' },
      { device_username: '%ann%' },
    ]) {
      const plan = await store.devices.plan(f);
      expect(plan.count.join(' | ')).toContain('devices_fts');
      expect([...plan.rows, ...plan.count].some((d) => /^SCAN devices$/.test(d))).toBe(false);
    }
    // A filter a trigram index cannot serve (two characters) is still answered, by a scan.
    expect((await store.devices.list({ device_name: '%p-%' }, 0, 1000)).total).toBe(300);
  });
});

// The filters on the assigned user's name, that user's group and the device group are conditions on
// the devices' references (through their indexes); they must give exactly what a LEFT JOIN to those
// tables with the LIKE on the joined column gives, `-` (not set) included.
describe('device filters on the user, the user group and the device group', () => {
  const userGroups = ['Sales', 'sales-EU', 'Ops_1'];
  const people: { name: string; group: string; guid?: string }[] = [
    { name: 'ann', group: 'Sales' },
    { name: 'Ann2', group: 'sales-EU' },
    { name: 'bob%x', group: 'Ops_1' },
    { name: 'Émile', group: 'Sales' },
  ];
  const deviceGroups: { name: string; guid?: string }[] = [
    { name: 'Site 1' },
    { name: 'site-2' },
    { name: 'Lab\\x' },
  ];

  beforeAll(async () => {
    for (const g of userGroups) await store.users.createGroup(g);
    for (const p of people) {
      const g = await store.users.getGroupByName(p.group);
      p.guid = await store.users.create({
        name: p.name,
        password_hash: null,
        group_guid: g!.guid,
        status: 1,
      });
    }
    for (const g of deviceGroups) g.guid = await store.devices.createGroup(g.name);
  });

  interface Placed {
    id: string;
    name: string;
    user: number | null;
    dgroup: number | null;
  }
  type JoinFilter = Pick<DeviceFilter, 'user_name' | 'group_name' | 'device_group_name' | 'device_name'>;

  const fleet = fc.uniqueArray(
    fc.record({
      id: fc.stringMatching(/^[0-9a-c]{1,6}$/),
      name: fc.constantFrom('pc', 'Laptop', 'kiosk'),
      user: fc.option(fc.nat({ max: people.length - 1 }), { nil: null }),
      dgroup: fc.option(fc.nat({ max: deviceGroups.length - 1 }), { nil: null }),
    }),
    { minLength: 1, maxLength: 30, selector: (d) => d.id },
  );
  const value = (names: string[]) =>
    fc.oneof(
      {
        arbitrary: fc.constantFrom(...names).map((n) => `%${n.slice(1, 4).replace(/[%_\\]/g, '\\$&')}%`),
        weight: 3,
      },
      { arbitrary: fc.constantFrom(...names).map((n) => n.replace(/[%_\\]/g, '\\$&')), weight: 1 },
      { arbitrary: pattern, weight: 1 },
      { arbitrary: fc.constant('-'), weight: 1 },
      { arbitrary: fc.constant(undefined), weight: 2 },
    );
  const filter: fc.Arbitrary<JoinFilter> = fc.record(
    {
      user_name: value(people.map((p) => p.name)),
      group_name: value(userGroups),
      device_group_name: value(deviceGroups.map((g) => g.name)),
      device_name: fc.constantFrom(undefined, '%top%', '%k%'),
    },
    { requiredKeys: [] },
  );

  /** A filter on an unset reference: the joined column is NULL, which only `-` (or no filter) matches. */
  const on = (value: string | undefined, text: string | null) =>
    text === null ? value === undefined || value === '' || value === '-' : matches(value, text);
  const reference = (devs: Placed[], f: JoinFilter) =>
    devs
      .filter((d) => {
        const user = d.user === null ? null : people[d.user]!;
        return (
          on(f.user_name, user?.name ?? null) &&
          on(f.group_name, user?.group ?? null) &&
          on(f.device_group_name, d.dgroup === null ? null : deviceGroups[d.dgroup]!.name) &&
          matches(f.device_name, d.name)
        );
      })
      .map((d) => d.id)
      .sort();

  /** What the filters were before: LEFT JOINs, and the LIKE on the joined columns. */
  const joined = (f: JoinFilter) =>
    idsWhere(
      'd.id',
      `devices d LEFT JOIN users u ON u.guid = d.user_guid LEFT JOIN user_groups ug ON ug.guid = u.group_guid
        LEFT JOIN device_groups dg ON dg.guid = d.device_group_guid`,
      [
        ['u.name_fold', f.user_name],
        ['ug.name_fold', f.group_name],
        ['dg.name_fold', f.device_group_name],
        ['d.device_name_fold', f.device_name],
      ],
    );

  it('return exactly the rows (and total) of a join with the LIKE on the joined column, on every page', async () => {
    await fc.assert(
      fc.asyncProperty(
        fleet,
        fc.array(filter, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 7 }),
        async (devs, filters, pageSize) => {
          store.database.sqlite.exec('DELETE FROM devices');
          for (const d of devs) {
            const guid = await store.devices.create(d.id, { device_name: d.name });
            await store.devices.update([guid], {
              user_guid: d.user === null ? null : people[d.user]!.guid!,
              device_group_guid: d.dgroup === null ? null : deviceGroups[d.dgroup]!.guid!,
            });
          }
          for (const f of filters) {
            const want = reference(devs, f);
            expect(joined(f), JSON.stringify(f)).toEqual(want);
            const got = await listAll(f, pageSize);
            expect([...got.ids].sort(), JSON.stringify(f)).toEqual(want);
            expect(got.ids).toEqual([...got.ids].sort());
            for (const t of got.totals) expect(t).toBe(want.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('counts through the indexes on the devices references, without scanning the devices', async () => {
    for (const f of [
      { device_group_name: '%site%' },
      { user_name: '%ann%' },
      { group_name: 'sales' },
      { device_group_name: '-' },
    ]) {
      const plan = await store.devices.plan(f);
      expect(plan.count.join(' | '), JSON.stringify(f)).toMatch(
        /USING (COVERING )?INDEX devices_(user_id|device_group_id|access) /,
      );
      expect(
        plan.count.some((d) => /^SCAN devices/.test(d)),
        JSON.stringify(f),
      ).toBe(false);
    }
  });
});
