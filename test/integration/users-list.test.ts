import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/server/store';
import { fold } from '../../src/server/store/like';

// Users are listed by (folded name, guid), the page picked over the (name_fold, guid) index and
// joined afterwards, and counted without the group join unless a group filter needs it; every page
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
});
