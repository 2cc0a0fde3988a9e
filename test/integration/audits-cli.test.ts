import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDemoAudits, loadDemoFleet, seedDemoAudits, seedDemoDevices } from '../../src/server/demo';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';
import { assertBuilt, childEnv, rdadmin } from '../helpers/spawn';

// `rdadmin audits`: audits.py's verbs, flags and labels, D-24 (times) and D-25 (--all, --until,
// filters, --format csv). The server clock is fixed so times are exact; TZ is passed per run.

const T0 = Date.parse('2026-03-01T10:00:00Z'); // Berlin: 11:00 (+01:00)
let now = T0;
let s: TestServer;
let env: Record<string, string>;

beforeEach(async () => {
  now = T0;
  s = await startTestServer({ clock: () => new Date(now) });
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: await s.makeToken('audit_log:r'), TZ: 'Europe/Berlin' };
});
afterEach(async () => {
  await s.close();
});

const office = { id: '123456789', uuid: 'b2ZmaWNl' };
const kiosk = { id: '555000111', uuid: 'a2lvc2s=' };

/** A demo session: two connections to the office PC, one to the kiosk that never logged in. */
async function demoSession() {
  const o = new SimClient(s.url, office);
  const k = new SimClient(s.url, kiosk);
  await o.connectionOpened(1, 18446744073709551615n, '203.0.113.9');
  now += 4_000;
  await o.connectionAuthorised(1, 18446744073709551615n, ['987654321', 'alice'], 0, {
    primary_auth: 3,
    two_factor: 1,
  });
  now += 3_723_000;
  await o.connectionClosed(1, 18446744073709551615n);
  now += 60_000;
  await k.connectionOpened(7, 5n, '198.51.100.4');
  now += 1_000;
  await k.connectionClosed(7, 5n);
  now += 60_000;
  await o.connectionOpened(2, 6n, '203.0.113.9');
  await o.connectionAuthorised(2, 6n, ['987654321', 'alice'], 1, { primary_auth: 2 });
}

const run = (args: string[], extra: Record<string, string> = {}, tty = false) =>
  cli(['audits', ...args], { env: { ...env, ...extra }, tty });
const lines = (out: string) => out.split('\n').filter(Boolean);

describe('view-conn', () => {
  it('--remote shows the simulated connections of that device, labelled, in the viewer’s zone', async () => {
    await demoSession();
    const r = await run(['view-conn', '--remote', '123456789']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([
      '2026-03-01T12:04:08+01:00\t\topen\tFile Transfer\t123456789 (host-123456789)\t987654321 (alice)\t203.0.113.9\tone-time password\t\t6\t2',
      '2026-03-01T11:00:00+01:00\t2026-03-01T12:02:07+01:00\t1h 02m 07s\tRemote Desktop\t123456789 (host-123456789)\t987654321 (alice)\t203.0.113.9\tpermanent password + TOTP code\t\t18446744073709551615\t1',
    ]);
    const all = await run(['view-conn', '--utc']);
    expect(lines(all.stdout).map((l) => l.split('\t').slice(0, 4))).toEqual([
      ['2026-03-01T11:04:08Z', '', 'open', 'File Transfer'],
      ['2026-03-01T11:03:07Z', '2026-03-01T11:03:08Z', '1s', 'Not Logged In'],
      ['2026-03-01T10:00:00Z', '2026-03-01T11:02:07Z', '1h 02m 07s', 'Remote Desktop'],
    ]);
  });

  it('a table on a terminal, with the page and zone on stderr', async () => {
    await demoSession();
    const r = await run(['view-conn', '--page-size', '2', '--no-color'], {}, true);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('│ START');
    expect(r.stdout).toContain('│ 2026-03-01 12:04:08 │');
    expect(r.stdout).toContain('Not Logged In');
    expect(r.stderr).toContain(
      'Page 1 of 2: 2 of 3 connection records; times in Europe/Berlin; next: --current 2, everything: --all.',
    );
  });

  it('--json prints the raw records (Unix seconds, codes, every digit of session_id) and the page', async () => {
    await demoSession();
    const r = await run(['view-conn', '--remote', '123456789', '--conn-type', '0', '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"session_id": 18446744073709551615,');
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ total: 1, current: 1, pageSize: 10 });
    expect(doc.data[0]).toMatchObject({
      conn_type: 0,
      primary_auth: 3,
      created_at: T0 / 1000,
      end_time: (T0 + 3_727_000) / 1000,
    });
    const byName = await run(['view-conn', '--conn-type', 'file transfer', '--json']);
    expect(JSON.parse(byName.stdout).data.map((x: { conn_id: number }) => x.conn_id)).toEqual([2]);
  });
});

describe('time filters (D-24) around a DST change, TZ fixed per run', () => {
  async function recordsAt(...isoTimes: string[]) {
    const c = new SimClient(s.url, office);
    for (const [i, t] of isoTimes.entries()) {
      now = Date.parse(t);
      await c.connectionOpened(i + 1, BigInt(i + 1), '10.0.0.1');
    }
  }
  const ids = (out: string) => (JSON.parse(out).data as { conn_id: number }[]).map((x) => x.conn_id).sort();

  it('--created-at uses the offset in force on that date (summer +02:00, winter +01:00)', async () => {
    await recordsAt(
      '2025-07-01T09:59:59Z',
      '2025-07-01T10:00:00Z',
      '2025-12-01T10:59:59Z',
      '2025-12-01T11:00:00Z',
    );
    const summer = await run([
      'view-conn',
      '--created-at',
      '2025-07-01 12:00:00',
      '--until',
      '2025-07-02',
      '--json',
    ]);
    expect(summer.code, summer.stderr).toBe(0);
    expect(ids(summer.stdout)).toEqual([2]);
    const winter = await run(['view-conn', '--created-at', '2025-12-01 12:00:00', '--json']);
    expect(ids(winter.stdout)).toEqual([4]);
    const ny = await run(['view-conn', '--created-at', '2025-07-01 05:59:59.5', '--json'], {
      TZ: 'America/New_York',
    });
    expect(ids(ny.stdout)).toEqual([2, 3, 4]);
    const explicit = await run([
      'view-conn',
      '--created-at',
      '2025-07-01T10:00:00Z',
      '--until',
      '2025-12-01T11:00:00Z',
      '--json',
    ]);
    expect(ids(explicit.stdout)).toEqual([2, 3]);
  });

  it('across the night the clocks go back: --until the repeated hour, shown in Berlin time', async () => {
    // 2025-10-26: 02:30 CEST (00:30Z), then 02:30 CET again (01:30Z).
    await recordsAt('2025-10-26T00:30:00Z', '2025-10-26T01:30:00Z', '2025-10-26T02:30:00Z');
    const r = await run(['view-conn', '--created-at', '2025-10-26 02:00', '--until', '2025-10-26 03:00']);
    expect(lines(r.stdout).map((l) => l.split('\t')[0])).toEqual([
      '2025-10-26T02:30:00+01:00',
      '2025-10-26T02:30:00+02:00',
    ]);
  });

  it('TZ set but empty is UTC (POSIX), for the filters and the times shown', async () => {
    await recordsAt('2025-10-26T00:30:00Z', '2025-10-26T01:30:00Z', '2025-10-26T02:30:00Z');
    // A process of its own: with TZ='' Node's own zone is Etc/Unknown, which Intl cannot format in.
    assertBuilt();
    const r = await rdadmin(
      ['audits', 'view-conn', '--created-at', '2025-10-26 01:00', '--until', '2025-10-26 02:00'],
      childEnv({ ...env, TZ: '' }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout).map((l) => l.split('\t')[0])).toEqual(['2025-10-26T01:30:00Z']);
  });

  it('--days-ago reaching before 1970 is every record, not a server error', async () => {
    await recordsAt('2025-10-26T00:30:00Z');
    const r = await run(['view-conn', '--days-ago', '30000', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).data.length).toBeGreaterThan(0);
  });

  it('refuses bad or contradictory time input before any request (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--days-ago', '7', '--created-at', '2025-07-01 12:00:00'], /give only one of them/],
      [['--created-at', '01/07/2025'], /invalid --created-at '01\/07\/2025'/],
      [['--created-at', '2025-02-30'], /invalid --created-at/],
      [['--created-at', '1969-12-31 23:59:59'], /invalid --created-at '1969-12-31 23:59:59': before 1970/],
      [['--until', 'tomorrow'], /invalid --until/],
      [
        ['--created-at', '2025-07-02', '--until', '2025-07-01'],
        /--until .* must be later than the lower bound/,
      ],
      [['--days-ago', '-1'], /--days-ago must be a whole number/],
      [['--page-size', '0'], /--page-size must be a whole number from 1 to 1000/],
      [['--page-size', '1001'], /--page-size must be a whole number from 1 to 1000/],
      [['--current', '0'], /--current must be/],
      [['--all', '--current', '2'], /cannot be combined with --current/],
      [['--conn-type', 'teleport'], /invalid --conn-type 'teleport'/],
      [['--format', 'xml'], /invalid --format 'xml'/],
      [['--json', '--format', 'csv'], /contradict each other/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(['view-conn', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
    expect(s.logs.filter((l) => l.startsWith('GET /api/audits'))).toEqual([]);
  });
});

describe('--all, --format csv, other verbs (D-25)', () => {
  it('--all pages through every record, streaming, with RDADMIN_PAGE_SIZE per request', async () => {
    const c = new SimClient(s.url, office);
    for (let i = 1; i <= 25; i++) {
      now += 1_000;
      await c.alarm(i % 3, { ip: `10.0.0.${i}` });
    }
    const tsv = await run(['view-alarm', '--all'], { RDADMIN_PAGE_SIZE: '10' });
    expect(tsv.code).toBe(0);
    expect(lines(tsv.stdout)).toHaveLength(25);
    // Page 1 alone, pages 2 and 3 read ahead in one batch.
    expect(s.logs.filter((l) => l.startsWith('GET /api/audits/alarm '))).toHaveLength(1);
    expect(s.logs.filter((l) => l.startsWith('(batch) GET /api/audits/alarm '))).toHaveLength(2);
    const json = await run(['view-alarm', '--all', '--page-size', '7', '--json']);
    const rows = JSON.parse(json.stdout) as { ip: string }[];
    expect(rows.map((r) => r.ip)).toEqual(Array.from({ length: 25 }, (_, i) => `10.0.0.${25 - i}`));
    const one = await run(['view-alarm', '--page-size', '10', '--current', '3', '--json']);
    expect(JSON.parse(one.stdout)).toMatchObject({ total: 25, current: 3, pageSize: 10 });
    expect(JSON.parse(one.stdout).data).toHaveLength(5);
    const beyond = await run(['view-alarm', '--current', '9']);
    expect(beyond).toMatchObject({ code: 0, stdout: '' });
    expect(beyond.stderr).toContain('Page 9 of 3: 0 of 25 alarm records; times in Europe/Berlin.');
  });

  it('view-alarm labels types and filters by --type (number or name) and --device', async () => {
    const c = new SimClient(s.url, office);
    await c.alarm(0, { ip: '1.1.1.1' });
    await c.alarm(2, { ip: '2.2.2.2' });
    await new SimClient(s.url, kiosk).alarm(10, { ip: '3.3.3.3' });
    const r = await run(['view-alarm', '--utc']);
    expect(lines(r.stdout).map((l) => l.split('\t').slice(1, 4))).toEqual([
      ['Access attempt outside the ID whitelist', '555000111 (host-555000111)', '3.3.3.3'],
      ['Multiple access attempts within one minute', '123456789 (host-123456789)', '2.2.2.2'],
      ['Access attempt outside the IP whitelist', '123456789 (host-123456789)', '1.1.1.1'],
    ]);
    const byName = await run([
      'view-alarm',
      '--type',
      'multiple access attempts within one minute',
      '--json',
    ]);
    expect(JSON.parse(byName.stdout).data.map((x: { typ: number }) => x.typ)).toEqual([2]);
    const byDevice = await run(['view-alarm', '--device', '5550', '--json']);
    expect(JSON.parse(byDevice.stdout).data.map((x: { typ: number }) => x.typ)).toEqual([10]);
  });

  it('--format csv exports with a header, quoting, and no formulas from client-supplied text', async () => {
    const c = new SimClient(s.url, office);
    const f = {
      peer_id: '987654321',
      conn_id: 1,
      type: 0 as const,
      files: [['', 1000]] as [string, number][],
    };
    await c.fileTransfer({ ...f, path: 'C:\\Reports, 2026\\"Q1".xlsx', ip: '10.0.0.1', peer_name: 'alice' });
    now += 1_000;
    await c.fileTransfer({ ...f, path: '=HYPERLINK("http://x","y")', ip: '10.0.0.1', peer_name: '-2+3' });
    const r = await run(['view-file', '--format', 'csv', '--utc']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'TIME,DEVICE,PEER,DIRECTION,PATH,FILES,IP\r\n' +
        `2026-03-01T10:00:01Z,123456789 (host-123456789),987654321 (-2+3),device → peer,"'=HYPERLINK(""http://x"",""y"")",1,10.0.0.1\r\n` +
        `2026-03-01T10:00:00Z,123456789 (host-123456789),987654321 (alice),device → peer,"C:\\Reports, 2026\\""Q1"".xlsx",1,10.0.0.1\r\n`,
    );
  });

  it('view-console filters by --operation and --type names; view-file by --remote', async () => {
    await s.seedUsers(['carol']);
    await s.login('carol', 'password123');
    await s.fetch(`/api/users/${(await s.store.users.getByName('carol'))!.guid}/disable`, {
      method: 'POST',
      token: s.token,
    });
    const ops = await run([
      'view-console',
      '--operation',
      'disable users',
      '--type',
      'User Management',
      '--json',
    ]);
    expect(JSON.parse(ops.stdout).data.map((x: { detail: string }) => x.detail)).toEqual([
      "disabled user 'carol' (API token 'all')",
    ]);
    const byOperator = await run(['view-console', '--operator', 'CAR']);
    expect(lines(byOperator.stdout)).toEqual([
      '2026-03-01T11:00:00+01:00\tUser Management\tUser Login\tcarol\t127.0.0.1\tlogin',
    ]);
    const none = await run(['view-file', '--remote', '42']);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toContain('No file transfer records match.');
  });

  it('needs Audit Log read permission (exit 4 without it)', async () => {
    const r = await run(['view-conn'], { RDADMIN_TOKEN: await s.makeToken('user:rw') });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('lacks permission audit_log:r');
  });
});

describe('against a server without the extra filters (e.g. a Pro server)', () => {
  it('leaves out rows outside --until / --type and says so; reads text times as UTC', async () => {
    const seen: string[] = [];
    const pro = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          data: [
            { typ: 4, device_id: '1', created_at: '2025-07-01 10:30:00' },
            { typ: 1, device_id: '2', created_at: 1751362200 },
            { typ: 4, device_id: '3', created_at: 1751361000 },
          ],
          total: 3,
        }),
      );
    });
    await new Promise<void>((r) => pro.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(pro.address() as AddressInfo).port}`;
      const r = await run(['view-alarm', '--type', '4', '--until', '2025-07-01 12:20', '--utc'], {
        RDADMIN_URL: url,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual([
        '2025-07-01T09:10:00Z\tMultiple login attempts within one minute\t3\t\t',
      ]);
      expect(r.stderr).toContain('the server returned 2 record(s) outside --until/--type/--operation');
      expect(decodeURIComponent(seen[0]!)).toContain('typ=4&created_before=2025-07-01+10:20:00.000');
    } finally {
      await new Promise((r) => pro.close(r));
    }
  });
});

describe('through a proxy that passes on only the query parameters of the Pro wire contract', () => {
  /** What Pro's audit listings take (pro-admin-api.md §9 rows 47–50), besides current and pageSize. */
  const PRO_FILTERS: Record<string, string[]> = {
    '/api/audits/conn': ['remote', 'conn_type', 'created_at'],
    '/api/audits/file': ['remote', 'created_at'],
    '/api/audits/alarm': ['device', 'created_at'],
    '/api/audits/console': ['operator', 'created_at'],
  };

  async function proLike(): Promise<{ url: string; seen: string[]; close: () => Promise<unknown> }> {
    const seen: string[] = [];
    const proxy = createServer(async (req, res) => {
      const u = new URL(req.url!, 'http://x');
      const keep = [...(PRO_FILTERS[u.pathname] ?? []), 'current', 'pageSize'];
      for (const k of [...u.searchParams.keys()]) if (!keep.includes(k)) u.searchParams.delete(k);
      seen.push(`${u.pathname}${u.search}`);
      const up = await fetch(`${s.url}${u.pathname}${u.search}`, {
        headers: { authorization: req.headers.authorization ?? '' },
      });
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
      res.end(await up.text());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    return {
      url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      seen,
      close: () => new Promise((r) => proxy.close(r)),
    };
  }

  /** 25 console records, newest first: one Enable Users (4th newest) among Disable Users. */
  async function consoleLog() {
    for (let i = 0; i < 25; i++) {
      await s.store.audit.console({
        typ: 1,
        iop: i === 21 ? 6 : 7,
        operatorGuid: null,
        operator: 'admin',
        ip: '127.0.0.1',
        detail: `record ${i}`,
      });
    }
  }

  it('view-console --operation: the page header and --json say how many of the page match, never the unfiltered count as matches', async () => {
    await consoleLog();
    const pro = await proLike();
    try {
      const args = ['view-console', '--operation', 'Enable Users'];
      const r = await run(args, { RDADMIN_URL: pro.url });
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout).map((l) => l.split('\t').at(-1))).toEqual(['record 21']);
      expect(r.stderr).toBe(
        [
          'warning: the server returned 9 record(s) outside --until/--type/--operation (it may not support them); they were left out',
          '1 matching of the 10 records on page 1 of 3 (the server counts 25 console records: it does not filter by --operation); times in Europe/Berlin; next: --current 2, everything: --all.',
          '',
        ].join('\n'),
      );
      // The filter was indeed hidden from the server.
      expect(pro.seen).toEqual(['/api/audits/console?current=1&pageSize=10']);

      const json = await run([...args, '--json'], { RDADMIN_URL: pro.url });
      expect(json.code, json.stderr).toBe(0);
      const doc = JSON.parse(json.stdout);
      expect(doc.data.map((x: { detail: string }) => x.detail)).toEqual(['record 21']);
      expect({ ...doc, data: undefined }).toEqual({
        data: undefined,
        total: 25,
        current: 1,
        pageSize: 10,
        client_side_filter: { not_applied_by_server: ['operation'], page_records: 10, matching: 1 },
      });

      // A page with no match says so, with the pages still to read.
      const none = await run([...args, '--current', '2'], { RDADMIN_URL: pro.url });
      expect(none.stderr).toContain(
        '0 matching of the 10 records on page 2 of 3 (the server counts 25 console records: it does not filter by --operation); times in Europe/Berlin; next: --current 3, everything: --all.',
      );

      // --all reads every page and keeps only the matches: one record, counted as one.
      const all = await run([...args, '--all', '--json'], { RDADMIN_URL: pro.url });
      expect(all.code, all.stderr).toBe(0);
      expect(JSON.parse(all.stdout).map((x: { detail: string }) => x.detail)).toEqual(['record 21']);
      expect(all.stderr).toContain('the server returned 24 record(s) outside');
      const table = await run([...args, '--all', '--no-color'], { RDADMIN_URL: pro.url }, true);
      expect(table.stderr).toContain('1 console records; times in Europe/Berlin.');
    } finally {
      await pro.close();
    }
  });

  it('a server that filters (rdadmin serve) keeps the plain header and envelope', async () => {
    await consoleLog();
    const r = await run(['view-console', '--operation', 'Enable Users', '--no-color'], {}, true);
    expect(r.stderr).toContain('Page 1 of 1: 1 of 1 console records; times in Europe/Berlin.');
    const json = await run(['view-console', '--operation', 'Enable Users', '--json']);
    const doc = JSON.parse(json.stdout);
    expect(Object.keys(doc)).toEqual(['data', 'total', 'current', 'pageSize']);
    expect(doc.total).toBe(1);
  });
});

describe('demo fleet', () => {
  it('seeds connections, file transfers and alarms between demo devices, once; view-conn --remote shows them', async () => {
    const fleet = await loadDemoFleet(new URL('../../fixtures/demo.json', import.meta.url));
    await seedDemoDevices(s.store, fleet, new Date(T0), 12);
    const demo = await loadDemoAudits();
    await seedDemoAudits(s.store, demo, new Date(T0));
    await seedDemoAudits(s.store, demo, new Date(T0));
    const devices = (await s.store.devices.list({}, 0, 5)).rows;
    const conn = await run(['view-conn', '--remote', devices[0]!.id, '--utc', '--json']);
    const rows = JSON.parse(conn.stdout).data as Record<string, unknown>[];
    expect(
      rows.map((r) => [r['device_name'], r['peer_id'], r['conn_type'], r['peer_name'], r['note']]),
    ).toEqual([
      [devices[0]!.device_name, devices[1]!.id, 1, 'alice', ''],
      [devices[0]!.device_name, devices[1]!.id, 0, 'alice', 'Printer driver update'],
    ]);
    expect(conn.stdout).toContain('"session_id": 18446744073709551615,');
    const counts = await Promise.all(
      ['view-conn', 'view-file', 'view-alarm'].map(
        async (v) => JSON.parse((await run([v, '--json'])).stdout).total,
      ),
    );
    expect(counts).toEqual([5, 2, 3]);
    const open = await run(['view-conn', '--remote', devices[3]!.id, '--utc']);
    expect(lines(open.stdout)[0]).toContain(
      `2026-03-01T09:48:00Z\t\topen\tRemote Desktop\t${devices[3]!.id} (${devices[3]!.device_name})\t${devices[4]!.id} (bob)`,
    );
  });
});
