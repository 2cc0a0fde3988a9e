import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

describe('harness', () => {
  it('lists the bootstrap administrator', async () => {
    const r = await cli(['users', 'view', '--url', s.url, '--json'], { env: { RDADMIN_TOKEN: s.token } });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; is_admin: boolean }[];
    expect(rows.map((u) => [u.name, u.is_admin])).toEqual([['admin', true]]);
  });
});
