import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttps, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { type ReverseProxyOptions, type RunningProxy, startReverseProxy } from '../helpers/proxies';
import { startTestServer, type TestServer } from '../helpers/server';
import { ROOT } from '../helpers/spawn';

// rdadmin serve behind a reverse proxy that gets in the way (nginx, a CDN, a firewall): what the
// CLI makes of answers the server did not give, end to end against a real server.

const TLS_DIR = join(ROOT, 'test', 'fixtures', 'tls');
const HTML = (title: string) => `<html><head><title>${title}</title></head><body>proxy</body></html>`;
const BATCH = '/api/rdadmin/batch';

let s: TestServer;
let proxy: RunningProxy | undefined;
let seq = 0;

beforeAll(async () => {
  s = await startTestServer();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await s.close();
});

/** `n` fresh users named `<prefix>-1` …, and a proxy in front of the server. */
async function setup(n: number, o: ReverseProxyOptions): Promise<{ prefix: string; names: string[] }> {
  const prefix = `p${++seq}x`;
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(3, '0')}`);
  await s.seedUsers(names);
  proxy = await startReverseProxy(s.url, o);
  return { prefix, names };
}

const run = (args: string[], env: Record<string, string> = {}) =>
  cli([...args, '--url', proxy!.url], { env: { RDADMIN_TOKEN: s.token, ...env } });

async function disabled(names: string[]): Promise<number> {
  let n = 0;
  for (const name of names) if ((await s.store.users.getByName(name))?.status === 0) n++;
  return n;
}

type Result = { name: string; ok: boolean; outcome?: string; error?: string; status?: number };

describe("a gateway answering in the server's place after the change reached it: NOT CONFIRMED", () => {
  it('a batch of disables answered 524 (Cloudflare) once the server has done them: all unknown', async () => {
    const { prefix, names } = await setup(6, {
      after: (q) =>
        q.url === BATCH && q.method === 'POST'
          ? { status: 524, body: HTML('524 A timeout occurred') }
          : undefined,
    });
    const r = await run(['users', 'disable', '--name', `${prefix}-`, '--yes', '--json']);
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as Result[];
    expect(new Set(results.map((x) => [x.outcome, x.error].join(' | ')))).toEqual(
      new Set([
        'unknown | not confirmed (outcome unknown): a gateway answered for the server (an HTML page: "524 A timeout occurred" (HTTP 524))',
      ]),
    );
    expect(r.stderr).toContain(
      'error: Disabled 0 of 6 users; 0 failed, 6 not confirmed (outcome unknown).\n',
    );
    expect(await disabled(names)).toBe(6);
  });

  it("a lone disable answered with a 503 page that is not the server's: NOT CONFIRMED; the server's own JSON 500 stays FAILED", async () => {
    let own = false;
    const { prefix, names } = await setup(1, {
      before: (q) =>
        own && q.method === 'POST'
          ? {
              status: 500,
              headers: { 'content-type': 'application/json' },
              body: '{"error":"database is locked"}',
            }
          : undefined,
      after: (q) =>
        !own && q.method === 'POST' ? { status: 503, body: HTML('503 Service Unavailable') } : undefined,
    });
    const r = await run(['users', 'disable', '--name', names[0]!]);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr.split('\n')[0]).toBe(
      `NOT CONFIRMED: disable ${names[0]}: outcome unknown, a gateway answered for the server (an HTML page: "503 Service Unavailable" (HTTP 503))`,
    );
    expect(await disabled(names)).toBe(1);
    await s.adminOk('POST', `/api/users/${(await s.store.users.getByName(names[0]!))!.guid}/enable`, {});
    own = true;
    const failed = await run(['users', 'disable', '--name', `${prefix}-`, '--yes']);
    expect([failed.code, failed.stderr]).toEqual([
      1,
      `FAILED to disable ${names[0]}: database is locked (HTTP 500)\nerror: Disabled 0 of 1 users; 1 failed.\n`,
    ]);
  });
});

describe('a proxy that blocks the batch endpoint: batches stop, every request goes alone', () => {
  for (const status of [403, 405]) {
    it(`a ${status} page for ${BATCH}: a listing of several pages, and a bulk disable, work`, async () => {
      const { prefix, names } = await setup(23, {
        before: (q) => (q.url === BATCH ? { status, body: HTML(`${status} Forbidden`) } : undefined),
      });
      const env = { RDADMIN_PAGE_SIZE: '5' };
      const view = await run(['users', 'view', '--name', `${prefix}-`, '--json'], env);
      expect([view.code, view.stderr]).toEqual([0, '']);
      expect((JSON.parse(view.stdout) as Result[]).map((u) => u.name)).toEqual(names);
      const off = await run(['users', 'disable', '--name', `${prefix}-`, '--yes', '--json'], env);
      expect([off.code, off.stderr]).toEqual([0, `Disabled 23 users.\n`]);
      expect(await disabled(names)).toBe(23);
      // Each run tried one batch at most before going alone.
      expect(proxy!.log.filter((l) => l === `POST ${BATCH}`).length).toBeLessThanOrEqual(2);
    });
  }

  it('a proxy that limits request bodies (413) on a batch: the requests go alone, none fails', async () => {
    const { prefix, names } = await setup(30, {
      before: (q, body) =>
        q.url === BATCH && body.length > 2000
          ? { status: 413, body: HTML('413 Request Entity Too Large') }
          : undefined,
    });
    const r = await run(['users', 'disable', '--name', `${prefix}-`, '--yes']);
    expect([r.code, r.stderr]).toEqual([0, 'Disabled 30 users.\n']);
    expect(proxy!.log).toContain(`POST ${BATCH}`);
    expect(await disabled(names)).toBe(30);
  });
});

describe('a slow link', () => {
  it('pages read ahead in a batch that runs out of time are read again alone; a lone answer cut off "did not complete"', async () => {
    // A 10-row page (~2.5 kB) takes about 0.5 s; a batch of the five pages after the first, 2.5 s.
    const { prefix, names } = await setup(60, { slow: { chunk: 512, delayMs: 100 } });
    const env = { RDADMIN_PAGE_SIZE: '10' };
    const view = await run(['users', 'view', '--name', `${prefix}-`, '--json', '--timeout', '1.5'], env);
    expect([view.code, view.stderr]).toEqual([0, '']);
    expect((JSON.parse(view.stdout) as Result[]).map((u) => u.name)).toEqual(names);
    // A batch was tried, then its pages went alone.
    expect(proxy!.log.some((l) => l === `POST ${BATCH}`)).toBe(true);
    expect(proxy!.log.filter((l) => l.startsWith('GET /api/users?') && l.includes('current=6'))).toHaveLength(
      1,
    );
    // One 60-row page (~15 kB, about 3 s): its answer was arriving, and did not complete in time.
    const whole = await run(['users', 'view', '--name', `${prefix}-`, '--timeout', '1'], {
      RDADMIN_PAGE_SIZE: '100',
    });
    expect([whole.code, whole.stderr]).toEqual([
      5,
      `error: the answer from ${proxy!.url} did not complete within 1s\nhint: raise --timeout SECONDS: the answer was still arriving (a slow link, or a large answer)\n`,
    ]);
  });

  it('a batch of changes that runs out of time is NOT CONFIRMED, and no change is sent again', async () => {
    const { prefix } = await setup(8, {
      slow: { chunk: 16, delayMs: 150, only: (q) => q.method === 'POST' },
    });
    const r = await run(['users', 'disable', '--name', `${prefix}-`, '--yes', '--json', '--timeout', '1']);
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as Result[];
    expect(results.some((x) => x.outcome === 'unknown')).toBe(true);
    expect(results.every((x) => x.ok || x.outcome === 'unknown')).toBe(true);
    expect(proxy!.log.filter((l) => l.startsWith('POST'))).toEqual([`POST ${BATCH}`]);
  });
});

describe('redirects, compressed answers', () => {
  it('a redirect (http → https) is not followed: its Location is named, without credentials, and suggested as --url', async () => {
    await setup(0, {
      before: (q) => ({
        status: 301,
        headers: { location: `https://admin:hunter2@rd.example.com/rd${q.url}` },
        body: HTML('301 Moved Permanently'),
      }),
    });
    const r = await run(['users', 'view']);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      '',
      'error: the server redirects to https://rd.example.com/rd/api/users?current=1&pageSize=100; rdadmin does not follow redirects (HTTP 301)\nhint: if that is the console, use --url https://rd.example.com/rd (or set it in RDADMIN_URL / the profile)\n',
    ]);
  });

  it('a gzip-compressed answer that rdadmin did not ask for is named as such, not printed as bytes', async () => {
    await setup(0, {
      after: (q) =>
        q.method === 'GET'
          ? {
              status: 200,
              headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
              body: gzipSync('{"data":[],"total":0}'),
            }
          : undefined,
    });
    const r = await run(['users', 'view']);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      '',
      "error: the server's answer (HTTP 200) cannot be read: an answer compressed with gzip, which rdadmin did not ask for (by something between rdadmin and the server)\nhint: a proxy in front of the server compresses answers that were not asked to be: configure it not to (rdadmin sends no Accept-Encoding), or point --url at the server itself\n",
    ]);
  });
});

describe('TLS failures say what is wrong with the certificate', () => {
  let tls: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (tls ? tls.close(r) : r(undefined)));
    tls = undefined;
  });
  async function tlsServer(cert: string, key: string, host = '127.0.0.1'): Promise<string> {
    tls = createHttps(
      { key: readFileSync(join(TLS_DIR, key)), cert: readFileSync(join(TLS_DIR, cert)) },
      (_q, r) => {
        r.writeHead(200, { 'content-type': 'application/json' });
        r.end('{"data":[],"total":0}');
      },
    );
    await new Promise<void>((r) => tls!.listen(0, host, r));
    return `https://${host}:${(tls.address() as AddressInfo).port}`;
  }
  const view = (url: string, extra: string[]) =>
    cli(['users', 'view', '--url', url, '--timeout', '2', ...extra], { env: { RDADMIN_TOKEN: s.token } });

  it('an expired certificate: it says so, and to renew it', async () => {
    const url = await tlsServer('expired.pem', 'expired-key.pem');
    const r = await view(url, ['--ca', join(TLS_DIR, 'expired.pem')]);
    expect([r.code, r.stderr]).toEqual([
      5,
      `error: TLS failure talking to ${url}: the server's certificate has expired\nhint: the certificate must be renewed on the server (or the proxy in front of it); --insecure skips verification (not recommended)\n`,
    ]);
  });

  it('a certificate for other names: it names them, and suggests one for --url', async () => {
    const url = await tlsServer('cert.pem', 'key.pem', '127.0.0.2');
    const r = await view(url, ['--ca', join(TLS_DIR, 'cert.pem')]);
    const port = new URL(url).port;
    expect([r.code, r.stderr]).toEqual([
      5,
      `error: TLS failure talking to ${url}: the certificate's names do not match 127.0.0.2 (it is for IP Address:127.0.0.1, DNS:localhost)\nhint: use a name the certificate is for in --url (such as https://localhost:${port}), or get a certificate for 127.0.0.2; --insecure skips verification (not recommended)\n`,
    ]);
  });

  it('--ca with a CA that did not sign the certificate: the hint is about that CA, not "pass --ca"', async () => {
    const url = await tlsServer('cert.pem', 'key.pem');
    const r = await view(url, ['--ca', join(TLS_DIR, 'other-ca.pem')]);
    expect([r.code, r.stderr]).toEqual([
      5,
      `error: TLS failure talking to ${url}: self-signed certificate\nhint: the CA certificate from --ca (or RDADMIN_CA / the profile's ca) did not verify the server's certificate: check that it is the CA that signed it (PEM); --insecure skips verification (not recommended)\n`,
    ]);
  });

  it('a --ca file that holds no certificate (a key, a text file) is refused up front, naming it (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rdadmin-ca-'));
    try {
      const text = join(dir, 'hostname');
      await writeFile(text, 'myhost\n');
      for (const [file, args, env] of [
        [text, ['--ca', text], {}],
        [join(TLS_DIR, 'key.pem'), [], { RDADMIN_CA: join(TLS_DIR, 'key.pem') }],
      ] as const) {
        const r = await cli(['users', 'view', '--url', 'https://127.0.0.1:9', ...args], {
          env: { RDADMIN_TOKEN: s.token, ...env },
        });
        const from = args.length ? '--ca' : 'RDADMIN_CA';
        expect([r.code, r.stdout, r.stderr]).toEqual([
          2,
          '',
          `error: the CA file ${file} (${from}) holds no certificate\nhint: the CA file (${from}) must hold the PEM certificate ("-----BEGIN CERTIFICATE-----") of the CA that signed the server's certificate, or the server's self-signed certificate itself; not a key, not DER\n`,
        ]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
