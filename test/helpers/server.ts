import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerConfig } from '../../src/server/context';
import { hashToken, newSecret } from '../../src/server/crypto';
import { type RunningServer, startServer } from '../../src/server/serve';
import { AREAS, type Permissions, parsePermissions } from '../../src/wire/scopes';

export interface TestServer extends RunningServer {
  dataDir: string;
  logs: string[];
  /** An `all:rw` API token owned by admin. */
  token: string;
  /** Creates an API token with the given permissions (`user:r,device:rw`), owned by admin. */
  makeToken(
    perms: string | Permissions,
    opts?: { expiresAt?: string | null; name?: string },
  ): Promise<string>;
  /** Logs in and returns a session token. */
  login(username: string, password: string): Promise<string>;
  /** fetch against the server with an optional bearer token. */
  fetch(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  /**
   * A JSON request with `token` (a string body is sent as it is, anything else as JSON); its
   * status, text and parsed JSON (an object or an array).
   */
  call(method: string, path: string, token: string, body?: unknown): Promise<JsonAnswer>;
  /** A JSON request with the `all:rw` token that must answer 200 (setup, not the thing under test). */
  adminOk(method: string, path: string, body: unknown): Promise<void>;
  /** Seeds users straight into the store (fast: one shared password hash). */
  seedUsers(names: string[], opts?: { group?: string; status?: number; note?: string }): Promise<void>;
}

type Json = Record<string, unknown>;
export interface JsonAnswer {
  status: number;
  text: string;
  json: (Json & Json[]) | undefined;
}

let counter = 0;

/**
 * A real server on 127.0.0.1 with a fresh SQLite file in a temporary folder; or, with `dataDir`,
 * on the data another test server left there (a restart: close() then leaves the folder alone).
 */
export async function startTestServer(
  opts: { clock?: () => Date; config?: Partial<ServerConfig>; dataDir?: string; keepData?: boolean } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'rdadmin-test-')));
  const keepData = opts.keepData ?? opts.dataDir !== undefined;
  const logs: string[] = [];
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    log: (l) => logs.push(l),
    clock: opts.clock,
    config: opts.config,
  });
  const admin = (await server.store.users.getByName('admin'))!;
  const makeToken: TestServer['makeToken'] = async (perms, o = {}) => {
    const permissions = typeof perms === 'string' ? parsePermissions(perms) : perms;
    const token = newSecret('rdt');
    await server.store.auth.createToken({
      name: o.name ?? `t${++counter}`,
      tokenHash: hashToken(token),
      ownerGuid: admin.guid,
      permissions: JSON.stringify(permissions),
      expiresAt: o.expiresAt ?? null,
    });
    return token;
  };
  const token = await makeToken(Object.fromEntries(AREAS.map((a) => [a, 'rw'])) as Permissions, {
    name: opts.dataDir ? `all-${++counter}` : 'all',
  });
  const fetchIt: TestServer['fetch'] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    return fetch(`${server.url}${path}`, { ...init, headers });
  };
  let sharedHash: string | undefined;
  return {
    ...server,
    dataDir,
    logs,
    token,
    makeToken,
    fetch: fetchIt,
    async call(method, path, callToken, body) {
      const r = await fetchIt(path, {
        method,
        token: callToken,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await r.text();
      return { status: r.status, text, json: text ? (JSON.parse(text) as Json & Json[]) : undefined };
    },
    async adminOk(method, path, body) {
      const r = await fetchIt(path, {
        method,
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (r.status !== 200) throw new Error(`${method} ${path}: HTTP ${r.status} ${await r.text()}`);
    },
    async login(username, password) {
      const r = await fetchIt('/api/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      const body = (await r.json()) as { access_token?: string; error?: string };
      if (!body.access_token) throw new Error(`login failed: ${body.error}`);
      return body.access_token;
    },
    async seedUsers(names, o = {}) {
      const { hashPassword } = await import('../../src/server/crypto');
      sharedHash ??= await hashPassword('password123');
      let group = await server.store.users.getGroupByName(o.group ?? 'Default');
      if (!group) {
        await server.store.users.createGroup(o.group!);
        group = await server.store.users.getGroupByName(o.group!);
      }
      for (const name of names) {
        await server.store.users.create({
          name,
          password_hash: sharedHash,
          group_guid: group!.guid,
          status: o.status ?? 1,
          note: o.note ?? '',
          email: '',
        });
      }
    },
    async close(o) {
      await server.close(o);
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The test-only self-signed certificate for 127.0.0.1 (test/fixtures/tls/README.md). */
export const TLS_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tls');

/**
 * HTTPS in front of `target` (a test server's http:// URL), as a TLS-terminating proxy would be, with
 * the fixture certificate (self-signed: rdadmin needs --ca TLS_FIXTURES/cert.pem or --insecure).
 */
export async function startTlsFront(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const [{ readFile }, https, http] = await Promise.all([
    import('node:fs/promises'),
    import('node:https'),
    import('node:http'),
  ]);
  const [key, cert] = await Promise.all([
    readFile(join(TLS_FIXTURES, 'key.pem')),
    readFile(join(TLS_FIXTURES, 'cert.pem')),
  ]);
  const server = https.createServer({ key, cert }, (req, res) => {
    const forward = http.request(
      `${target}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
