import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttps, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startForwardProxy } from '../helpers/proxies';
import { startTestServer, type TestServer } from '../helpers/server';
import { assertBuilt, childEnv, type Env, ROOT, rdadmin } from '../helpers/spawn';

// The built CLI (dist/, with its slimmed undici) through a real forward proxy, as HTTP_PROXY /
// HTTPS_PROXY / ALL_PROXY name it: plain requests for an http:// server, a CONNECT tunnel for an
// https:// one. The tests of the sources use undici whole, so only these would see a part of undici
// missing from the bundle (every command through a proxy once failed with "this[kClient].connect is
// not a function"). Run `npm run build` first.

const TLS_DIR = join(ROOT, 'test', 'fixtures', 'tls');
const CA = join(TLS_DIR, 'cert.pem');
const NO_PROXY_VARS = Object.fromEntries(
  [
    'http_proxy',
    'HTTP_PROXY',
    'https_proxy',
    'HTTPS_PROXY',
    'all_proxy',
    'ALL_PROXY',
    'no_proxy',
    'NO_PROXY',
  ].map((k) => [k, undefined]),
);

let s: TestServer;
let tls: Server;
let tlsUrl: string;
let open: RunningProxy;
let auth: RunningProxy;
let refusing: RunningProxy;
let configDir: string;

beforeAll(async () => {
  assertBuilt();
  s = await startTestServer();
  await s.seedUsers(['px-1', 'px-2', 'px-3']);
  // An https:// server with the test certificate (self-signed, for 127.0.0.1), answering a listing.
  tls = createHttps({ key: readFileSync(join(TLS_DIR, 'key.pem')), cert: readFileSync(CA) }, (_q, r) => {
    r.writeHead(200, { 'content-type': 'application/json' });
    r.end(
      JSON.stringify({
        data: [{ guid: 'g1', name: 'tls-user', status: 1, group_name: 'Default' }],
        total: 1,
      }),
    );
  });
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
  open = await startForwardProxy();
  auth = await startForwardProxy({ credentials: 'pxuser:pxs3cret' });
  refusing = await startForwardProxy({ refuse: 403 });
  configDir = await mkdtemp(join(tmpdir(), 'rdadmin-proxy-cfg-'));
});

afterAll(async () => {
  await Promise.all([open?.close(), auth?.close(), refusing?.close()]);
  await new Promise((r) => tls?.close(r));
  await s?.close();
  await rm(configDir, { recursive: true, force: true });
});

function env(url: string, extra: Env): NodeJS.ProcessEnv {
  return childEnv({
    ...NO_PROXY_VARS,
    RDADMIN_CONFIG_DIR: configDir,
    RDADMIN_URL: url,
    RDADMIN_TOKEN: s.token,
    ...extra,
  });
}

const names = (stdout: string) => (JSON.parse(stdout) as { name: string }[]).map((u) => u.name);

describe('the built CLI through a forward proxy', () => {
  it('an http:// server through HTTP_PROXY: plain proxy requests, and a change goes through too', async () => {
    open.log.length = 0;
    const r = await rdadmin(
      ['users', 'view', '--name', 'px-', '--json'],
      env(s.url, { HTTP_PROXY: open.url }),
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(names(r.stdout)).toEqual(['px-1', 'px-2', 'px-3']);
    expect(open.log.length).toBeGreaterThan(0);
    expect(open.log.every((l) => l.startsWith(`GET ${s.url}/api/`))).toBe(true);
    const d = await rdadmin(['users', 'disable', '--name', 'px-1'], env(s.url, { http_proxy: open.url }));
    expect([d.code, d.stdout]).toEqual([0, 'Disabled px-1\n']);
    expect((await s.store.users.getByName('px-1'))?.status).toBe(0);
  });

  it('an https:// server through HTTPS_PROXY (a CONNECT tunnel): --ca and --insecure apply to the server', async () => {
    open.log.length = 0;
    const viaProxy = env(tlsUrl, { HTTPS_PROXY: open.url });
    const withCa = await rdadmin(['users', 'view', '--json', '--ca', CA], viaProxy);
    expect([withCa.code, withCa.stderr, names(withCa.stdout)]).toEqual([0, '', ['tls-user']]);
    expect(open.log[0]).toBe(`CONNECT ${tlsUrl.slice('https://'.length)}`);
    // The certificate is still checked inside the tunnel.
    const without = await rdadmin(['users', 'view', '--json'], viaProxy);
    expect([without.code, without.stderr]).toEqual([
      5,
      `error: TLS failure talking to ${tlsUrl}: self-signed certificate\nhint: for a self-signed or private CA, pass --ca FILE (PEM); --insecure skips verification (not recommended)\n`,
    ]);
    const insecure = await rdadmin(['users', 'view', '--json', '--insecure'], viaProxy);
    expect([insecure.code, names(insecure.stdout)]).toEqual([0, ['tls-user']]);
  });

  it('ALL_PROXY is used when the scheme has no variable of its own; NO_PROXY still wins', async () => {
    open.log.length = 0;
    const r = await rdadmin(['users', 'view', '--json', '--ca', CA], env(tlsUrl, { ALL_PROXY: open.url }));
    expect([r.code, names(r.stdout)]).toEqual([0, ['tls-user']]);
    expect(open.log).toEqual([`CONNECT ${tlsUrl.slice('https://'.length)}`]);
    open.log.length = 0;
    const direct = await rdadmin(
      ['users', 'view', '--json', '--ca', CA],
      env(tlsUrl, { all_proxy: open.url, NO_PROXY: 'localhost,127.0.0.1' }),
    );
    expect([direct.code, names(direct.stdout), open.log]).toEqual([0, ['tls-user'], []]);
  });

  it('a SOCKS proxy in ALL_PROXY is refused up front (exit 2), naming the variable', async () => {
    const r = await rdadmin(['users', 'view'], env(s.url, { ALL_PROXY: 'socks5://127.0.0.1:1080' }));
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe(
      "error: ALL_PROXY names a socks5 proxy (socks5://127.0.0.1:1080); rdadmin uses http:// and https:// proxies only\nhint: for rdadmin, set HTTP_PROXY to an HTTP proxy, or add the server's host to NO_PROXY\n",
    );
  });

  it('a proxy that asks for credentials (407): named without them, with a proxy hint; with them it works', async () => {
    const host = auth.url.slice('http://'.length);
    const check = 'check HTTP(S)_PROXY / ALL_PROXY, and NO_PROXY for a server that is to be reached directly';
    const tunnel = await rdadmin(['users', 'view', '--ca', CA], env(tlsUrl, { HTTPS_PROXY: auth.url }));
    expect([tunnel.code, tunnel.stdout, tunnel.stderr]).toEqual([
      5,
      '',
      `error: the proxy ${auth.url} (from HTTPS_PROXY) refused to pass the request on to ${tlsUrl}: HTTP 407, it asks for a user name and password\nhint: give the proxy's user name and password in HTTPS_PROXY (http://USER:PASSWORD@HOST:PORT); ${check}\n`,
    ]);
    // Wrong credentials: refused again, and neither the user name nor the password is shown.
    const wrong = await rdadmin(
      ['users', 'view'],
      env(s.url, { HTTP_PROXY: `http://pxuser:wr0ngpass@${host}` }),
    );
    expect([wrong.code, wrong.stdout]).toEqual([5, '']);
    expect(wrong.stderr).toBe(
      `error: the proxy ${auth.url} (from HTTP_PROXY) refused to pass the request on to ${s.url}: HTTP 407, it did not accept the user name and password in HTTP_PROXY\nhint: give the proxy's user name and password in HTTP_PROXY (http://USER:PASSWORD@HOST:PORT); ${check}\n`,
    );
    expect(wrong.stderr).not.toMatch(/pxuser|wr0ngpass/);
    const right = await rdadmin(
      ['users', 'view', '--json', '--ca', CA],
      env(tlsUrl, { HTTPS_PROXY: `http://pxuser:pxs3cret@${host}` }),
    );
    expect([right.code, names(right.stdout)]).toEqual([0, ['tls-user']]);
  });

  it('a proxy that refuses the tunnel (403), and one that is not running: the proxy is named (exit 5)', async () => {
    const check = 'check HTTP(S)_PROXY / ALL_PROXY, and NO_PROXY for a server that is to be reached directly';
    const refused = await rdadmin(['users', 'view', '--ca', CA], env(tlsUrl, { HTTPS_PROXY: refusing.url }));
    expect([refused.code, refused.stderr]).toEqual([
      5,
      `error: the proxy ${refusing.url} (from HTTPS_PROXY) refused to pass the request on to ${tlsUrl}: HTTP 403, it does not allow this connection\nhint: ask the proxy's administrator to allow ${tlsUrl.slice('https://'.length)}; ${check}\n`,
    ]);
    const gone = await startForwardProxy();
    await gone.close();
    const down = await rdadmin(
      ['users', 'view'],
      env(s.url, { HTTP_PROXY: `http://u:p@${gone.url.slice(7)}` }),
    );
    expect([down.code, down.stderr]).toEqual([
      5,
      `error: cannot reach the proxy ${gone.url} (from HTTP_PROXY): connection refused (for ${s.url})\nhint: ${check}; and that the proxy is running\n`,
    ]);
  });
});
