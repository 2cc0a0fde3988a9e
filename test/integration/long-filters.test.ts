import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { likeFilter, trigramQuery } from '../../src/server/store/like';
import { SimClient } from '../../src/sim/rustdesk-client';
import { startTestServer, type TestServer } from '../helpers/server';

// Filters with long literal runs, on devices whose names are long runs of one character (planted
// through system info, as anyone can): the index query and the LIKE test must cost about the length
// of a value, not value × filter (a 499-character run on a few thousand such devices blocked the
// server for seconds). Timing itself is measured in bench/, not here: these tests pin the shape of
// the work, and the answers.

let s: TestServer;
const x = (n: number) => 'x'.repeat(n);
const PLANTED = 12;

beforeAll(async () => {
  s = await startTestServer();
  for (let i = 0; i < PLANTED; i++) {
    const c = new SimClient(s.url, {
      id: String(700_000_000 + i),
      hostname: i % 2 ? x(2000) : `${x(1999)}q`,
    });
    expect(await c.sysinfo()).toBe('SYSINFO_UPDATED');
  }
  await new SimClient(s.url, { id: '123456789', hostname: 'reception' }).sysinfo();
});
afterAll(async () => {
  await s.close();
});

async function names(filter: string): Promise<string[]> {
  const r = await s.call(
    'GET',
    `/api/devices?device_name=${encodeURIComponent(filter)}&pageSize=100`,
    s.token,
  );
  expect(r.status, r.text).toBe(200);
  return ((r.json as unknown as { data: { id: string }[] }).data ?? []).map((d) => d.id).sort();
}

const ids = (odd: boolean | undefined) =>
  Array.from({ length: PLANTED }, (_, i) => String(700_000_000 + i))
    .filter((_, i) => odd === undefined || (i % 2 === 1) === odd)
    .sort();

describe('filters with long literal runs', () => {
  it('the index gets a few trigrams of a long run, not a phrase of all of them', () => {
    const q = trigramQuery({ device_name_fold: `%${x(499)}` });
    expect(q).toEqual({ match: 'device_name_fold : "xxx"', exact: false });
    const run = 'abcdefghij'.repeat(50);
    const r = trigramQuery({ device_name_fold: `%${run}%` })!;
    const terms = r.match.split(' AND ');
    expect(terms.length).toBeLessThanOrEqual(6);
    for (const t of terms) expect(t).toMatch(/^device_name_fold : "[a-j]{3}"$/);
    expect(terms[0]).toBe('device_name_fold : "abc"');
    expect(terms.at(-1)).toBe('device_name_fold : "hij"');
    expect(r.exact).toBe(false);
    // Short runs stay whole phrases, and `%L%` with such a run is still answered by the index alone.
    expect(trigramQuery({ device_name_fold: '%desktop%' })).toEqual({
      match: 'device_name_fold : "desktop"',
      exact: true,
    });
  });

  it('a leading % before a long run is tested at the end of the value, not at every position', async () => {
    const compiled = (v: string) => {
      const e = likeFilter(sql.ref<string>('c'), v)!;
      return s.store.database.db.selectFrom('devices').select('id').where(e).compile();
    };
    const suffix = compiled(`%${x(499)}`);
    expect(suffix.sql).toContain('substr("c", length("c") - ?, ?) LIKE ?');
    expect(suffix.parameters).toContain(x(499));
    expect(suffix.parameters).not.toContain(`%${x(499)}`);
    const contains = compiled(`%${x(499)}%`);
    expect(contains.sql).toContain('instr(lower(substr("c", 1, length("c"))), ?) > 0');
    expect(contains.parameters).toEqual([x(499)]);
  });

  it('answers the planted-name attacks exactly', async () => {
    expect(await names(`%${x(499)}`)).toEqual(ids(true));
    expect(await names(`${x(499)}%`)).toEqual(ids(undefined));
    expect(await names(`%${x(498)}%`)).toEqual(ids(undefined));
    expect(await names(`%${x(498)}q`)).toEqual(ids(false));
    expect(await names(`%${'x_'.repeat(249)}q`)).toEqual(ids(false));
    expect(await names(`%${'x_'.repeat(249)}y`)).toEqual([]);
    expect(await names(`%${x(200)}q%`)).toEqual(ids(false));
    expect(await names(`%${x(200)}y%`)).toEqual([]);
    expect(await names('%recep%')).toEqual(['123456789']);
  });
});
