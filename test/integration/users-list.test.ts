import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, openStore, type Store } from '../../src/server/store';
import { fold } from '../../src/server/store/like';
import { listedUser } from '../../src/server/store/users';

// Users are listed by (folded name, guid), the page picked over the (name_fold, guid) index and
// joined afterwards, and counted through the users_group index when filtered by group; every page
// and total must be what the plain query gives.

let dir: string;
let store: Store;
interface U {
  guid: string;
  name: string;
  group: string;
  status: number;
}
const users: U[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-users-list-'));
  store = await openStore(join(dir, 'db.sqlite3'));
  const groups = ['Sales', 'Support', 'sales-eu'];
  for (const g of groups) await store.users.createGroup(g);
  const names = ['ann', 'Ann', 'ANN', 'bob', 'Bob', 'zoë', 'Zoë', 'émile', 'Emile', '_x', '%y', 'a\\b'];
  let i = 0;
  for (const base of names) {
    for (let k = 0; k < 12; k++, i++) {
      const name = k === 0 ? base : `${base}${k}`;
      const group = groups[i % groups.length]!;
      const status = i % 5 === 0 ? 0 : 1;
      const g = await store.users.getGroupByName(group);
      const guid = await store.users.create({ name, password_hash: null, group_guid: g!.guid, status });
      users.push({ guid, name, group, status });
    }
  }
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function like(pattern: string, text: string): boolean {
  // Enough of LIKE for these filters: %…% around a literal, case-folded.
  const lit = pattern.slice(1, -1).replace(/\\(.)/g, '$1');
  return fold(text).includes(fold(lit));
}

describe('users list paging', () => {
  it('pages (any size, any filter) are the reference order, sliced, with the right total', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.option(fc.constantFrom('%ann%', '%OB%', '%ë%', '%\\_%', '%\\%%', '%\\\\%'), { nil: undefined }),
        fc.option(fc.constantFrom('%sales%', '%SUP%', '%-eu%'), { nil: undefined }),
        fc.option(fc.constantFrom(0, 1), { nil: undefined }),
        async (pageSize, name, group, status) => {
          const want = users
            .filter((u) => (name ? like(name, u.name) : true))
            .filter((u) => (group ? like(group, u.group) : true))
            .filter((u) => (status === undefined ? true : u.status === status))
            .sort((a, b) =>
              fold(a.name) < fold(b.name)
                ? -1
                : fold(a.name) > fold(b.name)
                  ? 1
                  : a.guid < b.guid
                    ? -1
                    : a.guid > b.guid
                      ? 1
                      : 0,
            );
          const got: string[] = [];
          for (let offset = 0; ; offset += pageSize) {
            const page = await store.users.list({ name, group_name: group, status }, offset, pageSize);
            expect(page.total).toBe(want.length);
            for (const r of page.rows) expect(r.group_name).toBe(users.find((u) => u.guid === r.guid)?.group);
            got.push(...page.rows.map((r) => r.guid));
            if (page.rows.length < pageSize) break;
          }
          expect(got).toEqual(want.map((u) => u.guid));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('lists each user as the user record reads (flags, group, no secrets)', async () => {
    const [a, b] = users;
    await store.users.update([a!.guid], { tfa_enforced: 1, email_verification: 1, totp_secret: 'sealed' });
    await store.users.update([b!.guid], { password_hash: 'hash' });
    const page = await store.users.list({}, 0, 1000);
    expect(page.rows.length).toBe(page.total);
    for (const row of page.rows) expect(row).toEqual(listedUser((await store.users.getByGuid(row.guid))!));
    const flagged = page.rows.find((r) => r.guid === a!.guid)!;
    expect([flagged.tfa_enforced, flagged.email_verification, flagged.totp_enabled]).toEqual([
      true,
      true,
      true,
    ]);
    expect(JSON.stringify(page.rows)).not.toMatch(/sealed|hash/);
  });

  it('inside a transaction sees its writes; outside, waits for it to end', async () => {
    const before = (await store.users.list({ name: 'txn-%' }, 0, 10)).total;
    let outside: Promise<number> | undefined;
    await inTransaction(store, async (tx) => {
      const g = await tx.users.getGroupByName('Sales');
      await tx.users.create({ name: 'txn-user', password_hash: null, group_guid: g!.guid, status: 1 });
      expect((await tx.users.list({ name: 'txn-%' }, 0, 10)).total).toBe(before + 1);
      outside = store.users.list({ name: 'txn-%' }, 0, 10).then((p) => p.total);
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('roll back');
    }).catch((e: Error) => expect(e.message).toBe('roll back'));
    expect(await outside).toBe(before);
  });
});
