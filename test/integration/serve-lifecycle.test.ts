import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/serve';
import { secretBoxWithKey } from '../../src/server/store/secret-box';
import { asBefore0013, folderPrint, migrationState } from '../helpers/older-db';
import { assertBuilt, BIN, childEnv, ROOT } from '../helpers/spawn';

// The life of `rdadmin serve` as a process: a shutdown with requests in flight, and the data
// folder checks made before it says it is listening (a database it cannot write, a secret.key that
// does not belong with the database), and the migration of an older data folder at start-up (what
// it logs, a kill or a signal in the middle of it, a start the lock refuses, a folder a newer
// rdadmin migrated). The built binary, spawned, on real SQLite files; run `npm run build` first.

let root: string;
beforeAll(async () => {
  assertBuilt();
  root = await mkdtemp(join(tmpdir(), 'rdadmin-lifecycle-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Serving {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  exited: Promise<Exit>;
}

function spawnServe(dataDir: string, args: string[] = []): ChildProcess {
  return spawn(
    process.execPath,
    [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...args],
    {
      cwd: ROOT,
      env: childEnv({ RDADMIN_CONFIG_DIR: join(root, 'config') }),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
}

/** Starts `rdadmin serve` on a free port and waits for its "listening on" line. */
async function serve(dataDir: string, args: string[] = []): Promise<Serving> {
  const child = spawnServe(dataDir, args);
  let stderr = '';
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(() => reject(new Error(`serve exited early:\n${stderr}`)));
  });
  return { child, port, url: `http://127.0.0.1:${port}`, stderr: () => stderr, exited };
}

/**
 * `rdadmin serve` expected to refuse to start: its exit and stderr. Should it start after all
 * (`started`), it is stopped again, so the test fails on its assertions rather than hanging.
 */
async function refusedStart(
  dataDir: string,
  args: string[] = [],
): Promise<Exit & { stderr: string; started: boolean }> {
  const child = spawnServe(dataDir, args);
  let stderr = '';
  let started = false;
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    if (!started && /listening on/.test(stderr)) {
      started = true;
      child.kill('SIGTERM');
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const exit = await exited;
  clearTimeout(timer);
  return { ...exit, stderr, started };
}

/** Resolves once `p` settles, or rejects after `ms` (the child is killed: nothing is left running). */
async function within<T>(p: Promise<T>, ms: number, what: string, child?: ChildProcess): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child?.kill('SIGKILL');
          reject(new Error(`${what}: not within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function adminSession(url: string): Promise<string> {
  const r = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'test1234' }),
  });
  const body = (await r.json()) as { access_token: string };
  return body.access_token;
}

/** A raw connection: what it has received, and a promise of its end. */
interface Raw {
  sock: Socket;
  received(): string;
  closed: Promise<void>;
}

function rawConnection(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    let text = '';
    const sock = connect(port, '127.0.0.1');
    const closed = new Promise<void>((done) => sock.on('close', () => done()));
    sock.setEncoding('utf8').on('data', (c: string) => {
      text += c;
    });
    sock.on('error', () => undefined); // a reset ends it like a close; the assertions say what was expected
    sock.once('connect', () => resolve({ sock, received: () => text, closed }));
    sock.once('error', reject);
  });
}

/**
 * Starts POST /api/users: sends its head with `Expect: 100-continue` and waits for the server's
 * `100 Continue`, which Node sends as it hands the request to the server: from then on the request
 * is being handled (it waits for its body). Returns the body, to be sent later.
 */
async function startCreateUser(raw: Raw, token: string, name: string): Promise<string> {
  const body = JSON.stringify({ name, password: 'Passw0rd-long-1', group_name: 'Default' });
  raw.sock.write(
    `POST /api/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await within(
    new Promise<void>((resolve) => {
      const check = () => (raw.received().startsWith(CONTINUE) ? resolve() : setTimeout(check, 5));
      check();
    }),
    5_000,
    `100 Continue for ${name}`,
  );
  return body;
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** A request on a connection of its own answered (the server has accepted the ones opened before). */
async function roundTrip(url: string): Promise<void> {
  const r = await fetch(`${url}/api/login-options`);
  expect(r.status).toBe(200);
  await r.text();
}

/** Resolves once `s` has written `text` to stderr. */
async function untilLogged(s: Serving, text: string): Promise<void> {
  while (!s.stderr().includes(text)) await new Promise((r) => setTimeout(r, 5));
}

/** Resolves once a new connection to the port is refused: the server no longer listens. */
async function untilRefused(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve(false);
      });
      sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const STACK_FRAME = /^\s+at /m;

/** The password of the shared book 'Ops' in the data folder `dir`, as a server started on it reads it. */
async function bookPassword(dir: string): Promise<string> {
  const s = await startServer({ host: '127.0.0.1', port: 0, dataDir: dir, log: () => undefined });
  try {
    return s.store.addressBooks.bookPassword((await s.store.addressBooks.getSharedByName('Ops'))!);
  } finally {
    await s.close();
  }
}

describe('shutdown with requests in flight', () => {
  it('SIGTERM: no new connections, idle ones closed, every request in flight answered, then exit 0', async () => {
    const data = join(root, 'drain');
    const s = await serve(data);
    try {
      const token = await adminSession(s.url);
      // An idle keep-alive connection: one request answered, then nothing.
      const idle = await rawConnection(s.port);
      idle.sock.write('GET /api/login-options HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await within(
        new Promise<void>((resolve) => {
          const check = () => (/\r\n\r\n\[\]/.test(idle.received()) ? resolve() : setTimeout(check, 10));
          check();
        }),
        5_000,
        'the idle connection’s answer',
      );
      // A connection the server has accepted, whose request has not come yet.
      const early = await rawConnection(s.port);
      // 40 requests the server is handling, each waiting for its body. (Accepted after the one
      // above: the server has accepted that one too by the time they are under way.)
      const names = Array.from({ length: 40 }, (_, i) => `drain-${i}`);
      const inFlight = await Promise.all(names.map(() => rawConnection(s.port)));
      const bodies = await Promise.all(inFlight.map((raw, i) => startCreateUser(raw, token, names[i]!)));

      s.child.kill('SIGTERM');
      await within(untilRefused(s.port), 5_000, 'refusing new connections', s.child);
      // The request of the connection accepted before the signal is answered (within a moment).
      early.sock.write('GET /api/login-options HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await within(idle.closed, 5_000, 'closing the idle connection', s.child);
      // Still waiting for the bodies of the requests in flight: none was cut off or answered yet.
      for (const raw of inFlight) expect(raw.received()).toBe(CONTINUE);

      inFlight.forEach((raw, i) => {
        raw.sock.write(bodies[i]!);
      });
      await within(Promise.all(inFlight.map((raw) => raw.closed)), 10_000, 'the answers', s.child);
      await within(early.closed, 5_000, 'the early connection’s answer', s.child);
      expect(early.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(early.received().toLowerCase()).toContain('\r\nconnection: close\r\n');
      inFlight.forEach((raw, i) => {
        const answer = raw.received().slice(CONTINUE.length);
        expect(answer, names[i]).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(answer.toLowerCase(), names[i]).toContain('\r\nconnection: close\r\n');
        expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), names[i]).toMatchObject({
          name: names[i],
        });
      });
      expect(await within(s.exited, 10_000, 'the exit', s.child)).toEqual({ code: 0, signal: null });
      const log = s.stderr();
      expect(log).toContain('SIGTERM received, shutting down');
      expect(log.match(/ POST \/api\/users 200 /g)).toHaveLength(40);
      expect(log).not.toContain('internal error');
      expect(log).not.toContain('destroyed');
      expect(log).not.toMatch(STACK_FRAME);
      // Every user was written (the database was closed after the last of them).
      const db = new SQLite(join(data, 'db.sqlite3'), { readonly: true });
      try {
        expect(db.prepare("SELECT count(*) FROM users WHERE name LIKE 'drain-%'").pluck().get()).toBe(40);
      } finally {
        db.close();
      }
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('a connection accepted just before the signal, its request not there yet: still answered', async () => {
    const s = await serve(join(root, 'early'));
    try {
      const early = await rawConnection(s.port);
      await roundTrip(s.url);
      s.child.kill('SIGTERM');
      await within(untilLogged(s, 'SIGTERM received, shutting down'), 5_000, 'the signal', s.child);
      early.sock.write('GET /api/login-options HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await within(early.closed, 5_000, 'the answer', s.child);
      expect(early.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(early.received().toLowerCase()).toContain('\r\nconnection: close\r\n');
      expect(await within(s.exited, 5_000, 'the exit', s.child)).toEqual({ code: 0, signal: null });
      expect(s.stderr()).toContain('GET /api/login-options 200');
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('a request still running after --shutdown-timeout is cut off, and the log says which', async () => {
    const s = await serve(join(root, 'grace'), ['--shutdown-timeout', '0.5']);
    try {
      const token = await adminSession(s.url);
      const stuck = await rawConnection(s.port);
      await startCreateUser(stuck, token, 'never-finished'); // its body never comes
      s.child.kill('SIGTERM');
      expect(await within(s.exited, 8_000, 'the exit', s.child)).toEqual({ code: 0, signal: null });
      await within(stuck.closed, 2_000, 'closing the stuck connection');
      expect(stuck.received()).toBe(CONTINUE);
      const log = s.stderr();
      expect(log).toContain('shutdown: waiting up to 0.5 s for 1 request still running');
      expect(log).toContain('shutdown: cut off 1 request still running after 0.5 s: POST /api/users');
      expect(log).not.toContain('internal error');
      expect(log).not.toMatch(STACK_FRAME);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('a second signal cuts off what is still running at once (well before the 10 s grace)', async () => {
    const s = await serve(join(root, 'twice'));
    try {
      const token = await adminSession(s.url);
      const stuck = await rawConnection(s.port);
      await startCreateUser(stuck, token, 'never-finished');
      s.child.kill('SIGTERM');
      await within(untilRefused(s.port), 5_000, 'refusing new connections', s.child);
      expect(s.stderr()).toContain('shutdown: waiting up to 10 s for 1 request still running');
      s.child.kill('SIGINT');
      expect(await within(s.exited, 5_000, 'the exit after the second signal', s.child)).toEqual({
        code: 0,
        signal: null,
      });
      const log = s.stderr();
      expect(log).toContain('SIGINT received again: cutting off the requests still running');
      expect(log).toContain('shutdown: cut off 1 request still running');
      expect(log).not.toMatch(STACK_FRAME);
    } finally {
      s.child.kill('SIGKILL');
    }
  });
});

/** A data folder with a database made by the server (closed cleanly: no -wal or -shm left). */
async function madeDataDir(
  name: string,
  seed?: (s: Awaited<ReturnType<typeof startServer>>) => Promise<void>,
) {
  const dir = join(root, name);
  const s = await startServer({ host: '127.0.0.1', port: 0, dataDir: dir, log: () => undefined });
  try {
    await seed?.(s);
  } finally {
    await s.close();
  }
  return dir;
}

const isRoot = process.getuid?.() === 0;

/**
 * Makes a file or folder read-only for this user. root ignores mode bits: it gets the immutable
 * attribute instead (chattr +i), which binds root too. Returns the undo, or undefined where root
 * cannot set it (no chattr, no CAP_LINUX_IMMUTABLE, a file system without attributes).
 */
async function makeReadOnly(path: string, mode: number): Promise<(() => Promise<void>) | undefined> {
  if (!isRoot) {
    await chmod(path, mode);
    return async () => chmod(path, mode | 0o200);
  }
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return async () => {
    execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
  };
}

describe('a database the server cannot write', () => {
  it('a read-only db.sqlite3 (its folder writable) ends the start with exit 2, naming the file and the fix', async (ctx) => {
    const dir = await madeDataDir('ro-file');
    const file = join(dir, 'db.sqlite3');
    const undo = await makeReadOnly(file, 0o444);
    // Only root without chattr gets here: mode bits do not bind root, and nothing else makes a
    // file read-only for it without mounting a file system.
    if (!undo) return ctx.skip('running as root where chattr +i is not available');
    try {
      const r = await refusedStart(dir);
      expect(r.started).toBe(false);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: the database ${file} is read-only: the server cannot write to it`);
      expect(r.stderr).toMatch(/^hint: make it writable by the user running the server \(.+\)/m);
      expect(r.stderr).not.toContain('unexpected failure');
      expect(r.stderr).not.toMatch(STACK_FRAME);
    } finally {
      await undo();
    }
  });

  it('a read-only data folder (with or without the file read-only too) is exit 2 naming the folder', async (ctx) => {
    for (const fileToo of [false, true]) {
      const dir = await madeDataDir(`ro-folder-${fileToo}`);
      expect(existsSync(join(dir, 'db.sqlite3-wal'))).toBe(false);
      const undoFile = fileToo ? await makeReadOnly(join(dir, 'db.sqlite3'), 0o444) : async () => undefined;
      const undoDir = await makeReadOnly(dir, 0o555);
      if (!undoFile || !undoDir) return ctx.skip('running as root where chattr +i is not available');
      try {
        const r = await refusedStart(dir);
        expect(r.started, `file read-only too: ${fileToo}`).toBe(false);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`error: cannot write in the data folder ${dir}:`);
        expect(r.stderr).toMatch(/^hint: make the folder writable by the user running the server \(.+\)/m);
        expect(r.stderr).not.toContain('unexpected failure');
        expect(r.stderr).not.toMatch(STACK_FRAME);
      } finally {
        await undoDir();
        await undoFile();
      }
    }
  });
});

describe('secret.key must belong with the database', () => {
  const RESTORE = 'hint: restore the secret.key that belongs with this database';
  const otherKey = `${Buffer.alloc(32, 7).toString('base64')}\n`;

  /** A data folder holding a shared address book whose password is sealed with its secret.key. */
  const withSealedPassword = (name: string) =>
    madeDataDir(name, async (s) => {
      const admin = (await s.store.users.getByName('admin'))!;
      await s.store.addressBooks.createShared({ name: 'Ops', ownerGuid: admin.guid, password: 'book-pw' });
    });

  it('a missing, another or a malformed key: exit 2 naming secret.key, and no new key is made', async () => {
    const dir = await withSealedPassword('key');
    const keyFile = join(dir, 'secret.key');
    const original = await readFile(keyFile, 'utf8');

    await rename(keyFile, `${keyFile}.kept`);
    const missing = await refusedStart(dir);
    expect(missing.started).toBe(false);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `error: ${keyFile} is missing, but this database belongs with the key it held`,
    );
    expect(missing.stderr).toContain(RESTORE);
    expect(existsSync(keyFile)).toBe(false);

    await writeFile(keyFile, otherKey, { mode: 0o600 });
    const other = await refusedStart(dir);
    expect(other.started).toBe(false);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`error: ${keyFile} does not belong with this database`);
    expect(other.stderr).toContain(RESTORE);
    expect(await readFile(keyFile, 'utf8')).toBe(otherKey);

    for (const garbage of ['not a key at all\n', 'c2hvcnQ=\n', '']) {
      await writeFile(keyFile, garbage);
      const bad = await refusedStart(dir);
      expect(bad.started, JSON.stringify(garbage)).toBe(false);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`error: ${keyFile} does not hold a key: it must be 32 bytes in base64`);
      expect(bad.stderr).toContain(RESTORE);
      expect(bad.stderr).not.toContain('unexpected failure');
      expect(await readFile(keyFile, 'utf8')).toBe(garbage);
    }

    // The key that belongs with it: the server starts, and the password reads as it was stored.
    await writeFile(keyFile, original);
    expect(await bookPassword(dir)).toBe('book-pw');
  });

  it('a database from before the check value: its sealed passwords tell whether the key belongs', async () => {
    const dir = await withSealedPassword('legacy');
    const keyFile = join(dir, 'secret.key');
    const original = await readFile(keyFile, 'utf8');
    const forgetCheck = () => {
      const db = new SQLite(join(dir, 'db.sqlite3'));
      db.prepare("DELETE FROM store_meta WHERE key = 'secret_check'").run();
      db.close();
    };
    forgetCheck();
    await writeFile(keyFile, otherKey);
    const other = await refusedStart(dir);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`error: ${keyFile} does not belong with this database`);
    await rm(keyFile);
    const missing = await refusedStart(dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`error: ${keyFile} is missing`);
    expect(existsSync(keyFile)).toBe(false);
    // With its own key it starts and records the check value: from then on that alone decides.
    await writeFile(keyFile, original);
    expect(await bookPassword(dir)).toBe('book-pw');
    const db = new SQLite(join(dir, 'db.sqlite3'), { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) FROM store_meta WHERE key = 'secret_check'").pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('a fresh data folder makes its key without a word; a database without secrets may get a new one', async () => {
    const dir = join(root, 'fresh');
    const s = await serve(dir);
    // At once after the "listening" line: the signal handlers are in place by then (exit 0, not
    // killed by the signal).
    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.stderr()).not.toContain('secret.key');
    const key = await readFile(join(dir, 'secret.key'), 'utf8');
    expect(Buffer.from(key.trim(), 'base64')).toHaveLength(32);
    // An older database with nothing sealed and no check value, its key lost: a new key is made.
    const legacy = await madeDataDir('nothing-sealed');
    const db = new SQLite(join(legacy, 'db.sqlite3'));
    db.prepare("DELETE FROM store_meta WHERE key = 'secret_check'").run();
    db.close();
    await rm(join(legacy, 'secret.key'));
    const again = await serve(legacy);
    again.child.kill('SIGTERM');
    expect(await again.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(legacy, 'secret.key'))).toBe(true);
  });
});

describe('secret.key lost for good: --forget-sealed-passwords', () => {
  const FLAG = '--forget-sealed-passwords';
  const otherKey = `${Buffer.alloc(32, 9).toString('base64')}\n`;

  /** A data folder with a password of each kind sealed with its secret.key. */
  const withSealedValues = (name: string) =>
    madeDataDir(name, async (s) => {
      const admin = (await s.store.users.getByName('admin'))!;
      const ab = s.store.addressBooks;
      await ab.createShared({ name: 'Ops', ownerGuid: admin.guid, password: 'book-pw' });
      const book = { guid: (await ab.getSharedByName('Ops'))!.guid, label: 'Ops' };
      await ab.addPeer(book, '1001', { password: 'peer-pw', hash: 'peer-hash' });
      await ab.addPeer(book, '1002', { password: 'peer-pw-2' });
      await ab.deletePeers(book, ['1002']); // into the recycle bin, with its password
    });

  const sealedCounts = (dir: string) => {
    const db = new SQLite(join(dir, 'db.sqlite3'), { readonly: true });
    try {
      return db
        .prepare(
          `SELECT (SELECT count(password_enc) FROM address_books) AS books,
             (SELECT count(password_enc) FROM ab_peers) AS peers, (SELECT count(hash_enc) FROM ab_peers) AS hashes,
             (SELECT count(password_enc) FROM ab_recycle) AS recycled`,
        )
        .get();
    } finally {
      db.close();
    }
  };

  const consoleLast = (dir: string) => {
    const db = new SQLite(join(dir, 'db.sqlite3'), { readonly: true });
    try {
      return db
        .prepare('SELECT typ, iop, operator, detail FROM audit_console ORDER BY id DESC LIMIT 1')
        .get();
    } finally {
      db.close();
    }
  };

  it('another key: the refusal names the flag; with it, a new key, the lost passwords cleared and counted, then a plain start', async () => {
    const dir = await withSealedValues('forget-other');
    const keyFile = join(dir, 'secret.key');
    expect(sealedCounts(dir)).toEqual({ books: 1, peers: 1, hashes: 1, recycled: 1 });
    await writeFile(keyFile, otherKey, { mode: 0o600 });

    const refused = await refusedStart(dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error: ${keyFile} does not belong with this database`);
    expect(refused.stderr).toContain(`if it is lost for good, start once with ${FLAG}`);

    const s = await serve(dir, [FLAG]);
    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    const replaced = (await readdir(dir)).filter((f) => f.startsWith('secret.key.replaced-'));
    expect(replaced).toHaveLength(1);
    expect(s.stderr()).toContain(
      `${FLAG}: ${keyFile} did not belong with this database: made a new key (the file found is kept as ${join(dir, replaced[0]!)})`,
    );
    expect(s.stderr()).toContain(
      `${FLAG}: cleared 4 sealed values that no key at hand opens: address-book passwords 1, peer passwords 1, peer password hashes 1, recycle-bin peer passwords 1, recycle-bin peer password hashes 0`,
    );
    // The file found is kept as it was; the new key is another one, owner-only.
    expect(await readFile(join(dir, replaced[0]!), 'utf8')).toBe(otherKey);
    const key = await readFile(keyFile, 'utf8');
    expect(key).not.toBe(otherKey);
    expect(Buffer.from(key.trim(), 'base64')).toHaveLength(32);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(existsSync(`${keyFile}.forget-pending`)).toBe(false);
    expect(sealedCounts(dir)).toEqual({ books: 0, peers: 0, hashes: 0, recycled: 0 });
    expect(consoleLast(dir)).toEqual({
      typ: 3,
      iop: 17,
      operator: '',
      detail: `secret.key did not belong with this database: a new key was made (rdadmin serve ${FLAG}); cleared 4 sealed values no key at hand opens (address-book passwords 1, peer passwords 1, peer password hashes 1, recycle-bin peer passwords 1, recycle-bin peer password hashes 0)`,
    });

    // From now on the new key belongs: a plain start, and the flag is refused (nothing to forget).
    expect(await bookPassword(dir)).toBe('');
    const again = await refusedStart(dir, [FLAG]);
    expect(again.started).toBe(false);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(
      `error: ${FLAG}: ${keyFile} belongs with this database, so no stored password is lost: there is nothing to forget`,
    );
    expect(again.stderr).toContain(`hint: start without ${FLAG}`);
    expect(await readFile(keyFile, 'utf8')).toBe(key);
  });

  it('a missing key or one that holds no key: the same way out; a fresh folder has nothing to forget', async () => {
    const dir = await withSealedValues('forget-missing');
    const keyFile = join(dir, 'secret.key');
    await rm(keyFile);
    const refused = await refusedStart(dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error: ${keyFile} is missing`);
    expect(refused.stderr).toContain(`start once with ${FLAG}`);
    const s = await serve(dir, [FLAG]);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
    expect(s.stderr()).toContain(`${FLAG}: ${keyFile} was missing: made a new key\n`);
    expect(s.stderr()).toContain(`${FLAG}: cleared 4 sealed values`);
    expect((await readdir(dir)).filter((f) => f.startsWith('secret.key.'))).toEqual([]);

    const garbled = await withSealedValues('forget-garbled');
    await writeFile(join(garbled, 'secret.key'), 'not a key\n');
    expect((await refusedStart(garbled)).stderr).toContain(`start once with ${FLAG}`);
    const g = await serve(garbled, [FLAG]);
    g.child.kill('SIGTERM');
    expect((await g.exited).code).toBe(0);
    expect(g.stderr()).toContain(
      `${join(garbled, 'secret.key')} held no key: made a new key (the file found is kept as`,
    );
    expect(sealedCounts(garbled)).toEqual({ books: 0, peers: 0, hashes: 0, recycled: 0 });

    const fresh = await refusedStart(join(root, 'forget-fresh'), [FLAG]);
    expect(fresh.started).toBe(false);
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toContain('there is nothing to forget');
  });

  it('what the key found opens is kept, sealed with the new key (a folder an older build gave a new key)', async () => {
    const dir = await withSealedValues('forget-keep');
    const keyFile = join(dir, 'secret.key');
    // An older build, its key lost, made another and sealed a new book's password with it: the
    // check value (of the lost key) refuses the key, which opens that password all the same.
    await writeFile(keyFile, otherKey, { mode: 0o600 });
    const db = new SQLite(join(dir, 'db.sqlite3'));
    const sealed = secretBoxWithKey(Buffer.from(otherKey.trim(), 'base64')).seal('new-book-pw');
    db.prepare("UPDATE address_books SET password_enc = ? WHERE name = 'Ops'").run(sealed);
    db.close();
    const s = await serve(dir, [FLAG]);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
    expect(s.stderr()).toContain(
      `${FLAG}: cleared 3 sealed values that no key at hand opens: address-book passwords 0, peer passwords 1`,
    );
    expect(s.stderr()).toContain(
      `${FLAG}: kept 1 sealed value that the file found opens, sealed again with the new key`,
    );
    expect(await readFile(keyFile, 'utf8')).not.toBe(otherKey);
    expect(await bookPassword(dir)).toBe('new-book-pw');
  });

  it('a start stopped between the database and the key file: the next start puts the new key in place', async () => {
    const dir = await withSealedValues('forget-interrupted');
    const keyFile = join(dir, 'secret.key');
    await writeFile(keyFile, otherKey, { mode: 0o600 });
    const s = await serve(dir, [FLAG]);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
    // As it was just before the swap: the database done, the new key still pending, the old there.
    const newKey = await readFile(keyFile, 'utf8');
    await rename(keyFile, `${keyFile}.forget-pending`);
    for (const f of await readdir(dir)) if (f.startsWith('secret.key.replaced-')) await rm(join(dir, f));
    await writeFile(keyFile, otherKey, { mode: 0o600 });
    const again = await serve(dir);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
    expect(again.stderr()).toContain(
      `${keyFile}: put in place the new key of a ${FLAG} start that stopped before it could`,
    );
    expect(await readFile(keyFile, 'utf8')).toBe(newKey);
    expect(existsSync(`${keyFile}.forget-pending`)).toBe(false);
    // One that stopped before its transaction committed left a key nothing was sealed with: removed.
    await writeFile(`${keyFile}.forget-pending`, otherKey);
    const third = await serve(dir);
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
    expect(existsSync(`${keyFile}.forget-pending`)).toBe(false);
    expect(await readFile(keyFile, 'utf8')).toBe(newKey);
  });
});

describe('one server per data folder', () => {
  it('a second serve on the same folder is refused (exit 2, naming the first); a lock left by a dead process is taken over', async () => {
    const dir = await mkdtemp(join(root, 'lock-'));
    const first = await serve(dir);
    const second = await refusedStart(dir);
    expect(second.started).toBe(false);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(
      `error: another rdadmin serve (pid ${first.child.pid}) is using the data folder ${dir}`,
    );
    expect(second.stderr).not.toMatch(/\n\s+at /);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(existsSync(join(dir, 'serve.lock'))).toBe(false);

    // a crash leaves its lock behind: the next start takes it over
    await writeFile(join(dir, 'serve.lock'), '2147483646\n');
    const again = await serve(dir);
    expect(await readFile(join(dir, 'serve.lock'), 'utf8')).toBe(`${again.child.pid}\n`);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });

  // Many processes taking the lock of one folder at the same moment: each runs lockDataFolder()
  // (what `rdadmin serve` runs to take its data folder), bundled from the sources into a script.
  async function lockScript(): Promise<string> {
    const out = join(root, 'take-lock.cjs');
    const { build } = await import('esbuild');
    await build({
      stdin: {
        contents: `import { lockDataFolder } from './src/server/data-lock';
          const [mode, dir, count, at] = process.argv.slice(2);
          const take = (d: string) => {
            try {
              lockDataFolder(d);
              return 'taken';
            } catch (err) {
              return (err as Error).message;
            }
          };
          const send = (s: string) => process.stdout.write(s + '\\n');
          if (mode === 'many') {
            while (Date.now() < Number(at)) {} // all start at once
            const taken: number[] = [];
            for (let i = 0; i < Number(count); i++) if (take(dir + '/' + i) === 'taken') taken.push(i);
            send(JSON.stringify(taken));
          } else {
            send('ready');
            process.stdin.once('data', () => send(take(dir)));
          }
          // The locks are held (the process lives) until stdin ends.
          process.stdin.on('end', () => process.exit(0)).resume();`,
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: out,
      logLevel: 'warning',
    });
    return out;
  }

  it('many servers starting at once on a lock a crash left: exactly one takes it over', {
    timeout: 60_000,
  }, async () => {
    const script = await lockScript();
    const base = await mkdtemp(join(root, 'many-'));
    const folders = 150;
    const long = new Date(Date.now() - 60_000);
    for (let i = 0; i < folders; i++) {
      await mkdir(join(base, String(i)));
      // A dead server's pid, or a lock created and never written (a crash in between), long ago.
      await writeFile(join(base, String(i), 'serve.lock'), i % 2 ? '2147483646\n' : '');
      if (i % 2 === 0) await utimes(join(base, String(i), 'serve.lock'), long, long);
    }
    const at = String(Date.now() + 1_500);
    const children = Array.from({ length: 6 }, () =>
      spawn(process.execPath, [script, 'many', base, String(folders), at], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    try {
      const taken = await Promise.all(
        children.map(
          (child) =>
            new Promise<number[]>((resolve, reject) => {
              let out = '';
              child.stdout!.setEncoding('utf8').on('data', (c: string) => {
                out += c;
                if (out.endsWith('\n')) resolve(JSON.parse(out));
              });
              child.on('close', () => reject(new Error(`exited early: ${out}`)));
            }),
        ),
      );
      const takers = Array.from({ length: folders }, (_, i) => taken.filter((t) => t.includes(i)).length);
      expect(takers.flatMap((n, i) => (n === 1 ? [] : [`folder ${i}: taken by ${n}`]))).toEqual([]);
      for (let i = 0; i < folders; i++) {
        const pid = Number((await readFile(join(base, String(i), 'serve.lock'), 'utf8')).trim());
        expect(children[taken.findIndex((t) => t.includes(i))]!.pid).toBe(pid);
      }
      expect((await readdir(join(base, '0'))).sort()).toEqual(['serve.lock']);
    } finally {
      for (const child of children) child.stdin!.end();
      await Promise.all(children.map((child) => child.exitCode ?? new Promise((r) => child.on('close', r))));
    }
  });

  it('a lock being written (empty, just created) is not taken over; one that stays empty is', async () => {
    const script = await lockScript();
    const dir = await mkdtemp(join(root, 'writing-'));
    const file = join(dir, 'serve.lock');
    const taker = async (during?: () => Promise<void>) => {
      const child = spawn(process.execPath, [script, 'one', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const next = async () => String((await lines.next()).value);
      const closed = new Promise((resolve) => child.on('close', resolve));
      try {
        expect(await next()).toBe('ready');
        await writeFile(file, ''); // created by a server that has not written its pid yet
        const started = Date.now();
        child.stdin!.write('go\n');
        await during?.();
        return { answer: await next(), ms: Date.now() - started, pid: child.pid };
      } finally {
        child.stdin!.end();
        await closed;
      }
    };
    // Its server (this process, for the test) writes its pid a moment later: it keeps the folder.
    const kept = await taker(() =>
      new Promise((r) => setTimeout(r, 300)).then(() => writeFile(file, `${process.pid}\n`)),
    );
    expect(kept.answer).toBe(`another rdadmin serve (pid ${process.pid}) is using the data folder ${dir}`);
    expect(await readFile(file, 'utf8')).toBe(`${process.pid}\n`);
    // Never written: taken over once it has been empty for longer than writing a pid takes.
    const taken = await taker();
    expect(taken.answer).toBe('taken');
    expect(taken.ms).toBeGreaterThanOrEqual(1_500);
    expect(await readFile(file, 'utf8')).toBe(`${taken.pid}\n`);
  });

  it('an empty --port (an unset $PORT) is a usage error, not any free port', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '', '--data-dir', join(root, 'no-port')], {
      cwd: ROOT,
      env: childEnv({ RDADMIN_CONFIG_DIR: join(root, 'config') }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("invalid --port ''");
  });

  it('--request-log errors logs only the requests answered with an error; none, no request; a bad value is a usage error', async () => {
    const lines = async (which: string) => {
      const s = await serve(join(root, `request-log-${which}`), ['--request-log', which]);
      try {
        expect(
          (await fetch(`${s.url}/api/heartbeat`, { method: 'POST', body: '{"id":"123456789","uuid":"u"}' }))
            .status,
        ).toBe(200);
        expect((await fetch(`${s.url}/api/users`)).status).toBe(401);
      } finally {
        s.child.kill('SIGTERM');
      }
      expect(await within(s.exited, 15_000, 'exit after SIGTERM', s.child)).toEqual({
        code: 0,
        signal: null,
      });
      return s
        .stderr()
        .split('\n')
        .filter((l) => /\/api\//.test(l));
    };
    expect(await lines('errors')).toEqual([expect.stringMatching(/ GET \/api\/users 401 \d+\.\dms$/)]);
    expect(await lines('none')).toEqual([]);
    expect(await lines('all')).toEqual([
      expect.stringMatching(/ POST \/api\/heartbeat 200 /),
      expect.stringMatching(/ GET \/api\/users 401 /),
    ]);
    const bad = await refusedStart(join(root, 'request-log-bad'), ['--request-log', 'some']);
    expect(bad).toMatchObject({ code: 2, started: false });
    expect(bad.stderr).toContain("invalid --request-log 'some': give all, errors, none");
  });

  it.each([
    ['not a URL', 'rd.example.com', "invalid --public-url 'rd.example.com'"],
    ['a query string', 'https://rd.example.com/?x=1', "invalid --public-url 'https://rd.example.com/?x=1'"],
    ['credentials, not echoed', 'https://admin:s3cret@rd.example.com', 'invalid --public-url: give'],
  ])('--public-url that is %s is a usage error', async (_what, url, message) => {
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--public-url', url, '--data-dir', join(root, 'public-url')],
      {
        cwd: ROOT,
        env: childEnv({ RDADMIN_CONFIG_DIR: join(root, 'config') }),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    expect(await new Promise<number | null>((resolve) => child.on('close', resolve))).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).not.toContain('s3cret');
  });
});

describe('migrating an older data folder at start-up', () => {
  const MIGRATING = 'migrating the database: 0013_audit_ids (audit-log ID index)…';
  const ROLLED_BACK =
    'stopped during start-up: the database migration 0013_audit_ids was rolled back; the next start applies it again';
  /** A folder whose database lacks migration 0013, with 300,000 connection records (applying it takes about a second); made once. */
  let slowTemplate: string | undefined;

  /** A copy of a data folder made by the server and taken back to before 0013 (`slow`: with the large log). */
  async function olderDataDir(name: string, slow: boolean): Promise<string> {
    let template = slowTemplate;
    if (!slow || !template) {
      template = await madeDataDir(`${name}-template`);
      asBefore0013(join(template, 'db.sqlite3'), slow ? 300_000 : 0);
      if (slow) slowTemplate = template;
    }
    const dir = join(root, name);
    await mkdir(dir);
    for (const f of ['db.sqlite3', 'secret.key']) await copyFile(join(template, f), join(dir, f));
    return dir;
  }

  /** `rdadmin serve` on `dataDir` (and `args`), resolved once it has written `text` to stderr. */
  async function serveUntil(
    dataDir: string,
    text: string,
    args: string[] = [],
  ): Promise<{ child: ChildProcess; stderr(): string; exited: Promise<Exit> }> {
    const child = spawnServe(dataDir, args);
    let stderr = '';
    const exited = new Promise<Exit>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`serve did not write ${JSON.stringify(text)}:\n${stderr}`));
      }, 15_000);
      child.stderr!.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
        if (stderr.includes(text)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`serve exited before writing ${JSON.stringify(text)}:\n${stderr}`));
      });
    });
    return { child, stderr: () => stderr, exited };
  }

  /** Starts the server on `dir` (it applies what is pending), stops it, and checks that 0013 is applied whole. */
  async function startsAndMigrates(dir: string): Promise<void> {
    const s = await serve(dir);
    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    const state = migrationState(join(dir, 'db.sqlite3'));
    expect(state.applied).toContain('0013_audit_ids');
    expect(state.objects0013).toBeGreaterThanOrEqual(10);
  }

  /** What of 0013 a start stopped during it left: nothing. */
  function nothingOf0013(dir: string): void {
    const state = migrationState(join(dir, 'db.sqlite3'));
    expect(state.applied).not.toContain('0013_audit_ids');
    expect(state.applied).toContain('0017_device_name_set');
    expect(state.objects0013).toBe(0);
  }

  async function freePort(): Promise<number> {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as { port: number };
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    return port;
  }

  it('logs the migration it applies and how long it took; a request meanwhile gets 503 before the migration ends', async () => {
    const dir = await olderDataDir('migrate-log', true);
    const port = await freePort();
    const s = await serveUntil(dir, MIGRATING, ['--port', String(port)]);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/login-options`);
      const over = s.stderr().includes('database migrated');
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(await r.json()).toEqual({ error: 'the server is starting; try again in a moment' });
      // Answered between two statements of the migration, not once it was over.
      expect(over).toBe(false);
      await within(untilText(s.stderr, 'listening on'), 15_000, 'listening', s.child);
      const lines = s.stderr().split('\n');
      const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
      const migrating = at(/^\S+Z migrating the database: 0013_audit_ids \(audit-log ID index\)…$/);
      const migrated = at(/^\S+Z database migrated: 1 migration applied in \d+\.\d s$/);
      expect(migrating).toBe(0);
      expect(migrated).toBe(1);
      expect(at(/listening on/)).toBeGreaterThan(migrated);
      s.child.kill('SIGTERM');
      expect(await s.exited).toEqual({ code: 0, signal: null });
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('killed (SIGKILL) during a migration: nothing of it is left, and the next start applies it', async () => {
    const dir = await olderDataDir('migrate-kill', true);
    const s = await serveUntil(dir, MIGRATING);
    // Killed in the middle of its work: once it has written a megabyte (its first index) to the WAL.
    const wal = join(dir, 'db.sqlite3-wal');
    const grown = async () => {
      while (!(existsSync(wal) && statSync(wal).size > 1 << 20)) await new Promise((r) => setTimeout(r, 2));
    };
    await within(grown(), 10_000, 'the WAL growing', s.child);
    s.child.kill('SIGKILL');
    expect(await s.exited).toEqual({ code: null, signal: 'SIGKILL' });
    nothingOf0013(dir);
    await startsAndMigrates(dir);
  });

  it('SIGTERM or SIGINT during a migration: rolled back, said so, exit 0; the next start applies it', async () => {
    const dir = await olderDataDir('migrate-signal', true);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const s = await serveUntil(dir, MIGRATING);
      s.child.kill(sig);
      expect(await within(s.exited, 15_000, `exit after ${sig}`, s.child)).toEqual({ code: 0, signal: null });
      const log = s.stderr();
      expect(log).toMatch(new RegExp(`^\\S+Z ${sig} received during start-up: stopping$`, 'm'));
      expect(log).toContain(ROLLED_BACK);
      expect(log).not.toContain('listening on');
      expect(log).not.toContain('error');
      expect(existsSync(join(dir, 'serve.lock'))).toBe(false);
      nothingOf0013(dir);
    }
    await startsAndMigrates(dir);
  });

  it('a start refused because another server uses the folder changes nothing in it', async () => {
    const dir = await olderDataDir('migrate-locked', false);
    // Before the secret.key check value too (a start records it).
    const db = new SQLite(join(dir, 'db.sqlite3'));
    db.prepare("DELETE FROM store_meta WHERE key = 'secret_check'").run();
    db.close();
    // The folder is held by a running node process (as a server would).
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(dir, 'serve.lock'), `${holder.pid}\n`);
      const before = folderPrint(dir);
      const r = await refusedStart(dir);
      expect(r.started).toBe(false);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `error: another rdadmin serve (pid ${holder.pid}) is using the data folder ${dir}`,
      );
      expect(r.stderr).not.toContain('migrating');
      expect(folderPrint(dir)).toEqual(before);
      nothingOf0013(dir);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a folder a newer rdadmin has migrated is refused (exit 2, naming the migration), and left as it was', async () => {
    const dir = await madeDataDir('migrate-future');
    const file = join(dir, 'db.sqlite3');
    const db = new SQLite(file);
    db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run(
      '0018_future',
      '2027-01-01T00:00:00.000Z',
    );
    db.close();
    const before = folderPrint(dir);
    const r = await refusedStart(dir);
    expect(r.started).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: the database ${file} was upgraded by a newer rdadmin (it has migration 0018_future, which this version does not know)\n` +
        'hint: run that version of rdadmin, or restore the backup taken before the upgrade\n',
    );
    expect(folderPrint(dir)).toEqual(before);
  });
});

/** Resolves once `read()` holds `text`. */
async function untilText(read: () => string, text: string): Promise<void> {
  while (!read().includes(text)) await new Promise((r) => setTimeout(r, 5));
}
