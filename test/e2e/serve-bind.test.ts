import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, childEnv, ROOT, rdadmin } from '../helpers/spawn';

// Where `rdadmin serve` listens and what it says about it, and a port that is taken: the built
// binary, spawned. Run `npm run build` first.

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-e2e-bind-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An address of this machine other than loopback (undefined on a machine without a network). */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** Whether a TCP connection to host:port is accepted ('refused' when nothing listens there). */
function reach(host: string, port: number): Promise<'accepted' | 'refused'> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, host, () => {
      sock.destroy();
      resolve('accepted');
    });
    sock.setTimeout(3_000, () => {
      sock.destroy();
      reject(new Error(`no answer from ${host}:${port}`));
    });
    sock.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' ? resolve('refused') : reject(err),
    );
  });
}

interface Serving {
  child: ChildProcess;
  /** The "listening on" line. */
  line: string;
  port: number;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
  /** Its RDADMIN_CONFIG_DIR. */
  configDir: string;
  stop(): Promise<void>;
}

/** Starts `rdadmin serve …args` on a free port and waits for its "listening on" line. */
async function serve(args: string[], o: { tempData?: boolean; config?: string } = {}): Promise<Serving> {
  const run = await mkdtemp(join(dir, 'run-'));
  if (o.config !== undefined) {
    await mkdir(join(run, 'config'));
    await writeFile(join(run, 'config', 'config.json'), o.config);
  }
  // tempData: no --data-dir (a --demo makes its temporary folder in this run's TMPDIR).
  if (o.tempData) await mkdir(join(run, 'tmp'));
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', ...(o.tempData ? [] : ['--data-dir', join(run, 'data')]), ...args],
    {
      cwd: ROOT,
      env: childEnv({
        RDADMIN_CONFIG_DIR: join(run, 'config'),
        ...(o.tempData ? { TMPDIR: join(run, 'tmp') } : {}),
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let stderr = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      const m = /^rdadmin console server listening on .*$/m.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    void exited.then(() => reject(new Error(`serve exited early:\n${stderr}`)));
  });
  const port = Number(/:(\d+)/.exec(line)![1]);
  return {
    child,
    line,
    port,
    output: () => ({ stdout, stderr }),
    configDir: join(run, 'config'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('where serve listens', () => {
  it('--demo listens on 127.0.0.1 only, and says so', async () => {
    const s = await serve(['--demo']);
    try {
      expect(s.line).toMatch(/^rdadmin console server listening on http:\/\/127\.0\.0\.1:\d+ \(data: .+\)$/);
      expect(await reach('127.0.0.1', s.port)).toBe('accepted');
      // Not from the network (the next test shows that this address does reach a server on all interfaces).
      if (external) expect(await reach(external, s.port)).toBe('refused');
    } finally {
      await s.stop();
    }
  });

  it('--demo without --data-dir: its temporary folder is removed when it stops', async () => {
    const s = await serve(['--demo'], { tempData: true });
    const data = /\(data: (.+)\)$/.exec(s.line)![1]!;
    expect(data).toContain('rdadmin-demo-');
    expect(existsSync(join(data, 'db.sqlite3'))).toBe(true);
    await s.stop();
    expect(s.child.exitCode).toBe(0);
    expect(existsSync(data)).toBe(false);
  });

  it('--demo --profile NAME saves the token in that profile and leaves the current one (parallel demo jobs)', async () => {
    const mine = { url: 'https://rd.example.org', token: 'rdt_mine' };
    const s = await serve(['--demo', '--profile', 'jobA'], {
      config: JSON.stringify({ currentProfile: 'mine', profiles: { mine } }),
    });
    try {
      const deadline = Date.now() + 15_000;
      while (!/Try in another terminal/.test(s.output().stderr) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const { stdout, stderr } = s.output();
      const token = stdout.trim();
      expect(token).toMatch(/^rdt_\S+$/);
      expect(stderr).toContain("API token (all:rw), saved as profile 'jobA' (");
      expect(stderr).toContain('npx rdadmin users view --group_name Default --profile jobA');
      const saved = JSON.parse(await readFile(join(s.configDir, 'config.json'), 'utf8'));
      expect(saved.currentProfile).toBe('mine');
      expect(saved.profiles).toEqual({ mine, jobA: { url: `http://127.0.0.1:${s.port}`, token } });
    } finally {
      await s.stop();
    }
  });

  it('--demo with a config.json it cannot read: serves, prints the token, says it was not saved', async () => {
    const s = await serve(['--demo'], { config: '{ not json' });
    try {
      const deadline = Date.now() + 15_000;
      while (!/^rdt_\S+$/m.test(s.output().stdout) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const { stdout, stderr } = s.output();
      expect(stdout).toMatch(/^rdt_\S+\n$/);
      expect(stderr).toContain('warning: the demo token was not saved as a profile: ');
      expect(stderr).toContain('API token (all:rw), not saved:');
      expect(await reach('127.0.0.1', s.port)).toBe('accepted');
    } finally {
      await s.stop();
    }
    expect(s.child.exitCode).toBe(0);
  });

  it('without --demo (and with --demo --host 0.0.0.0): all interfaces, and the line says so', async () => {
    for (const args of [[], ['--demo', '--host', '0.0.0.0']]) {
      const s = await serve(args);
      try {
        expect(s.line).toMatch(
          new RegExp(
            `^rdadmin console server listening on all interfaces, port ${s.port} \\(http://127\\.0\\.0\\.1:${s.port} from this machine; data: .+\\)$`,
          ),
        );
        expect(await reach('127.0.0.1', s.port)).toBe('accepted');
        if (external) expect(await reach(external, s.port)).toBe('accepted');
      } finally {
        await s.stop();
      }
    }
  });
});

describe('a port that is taken', () => {
  it('exits 2 with the error alone: no set-up done, no default-password warning', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const data = join(dir, 'taken');
      const r = await rdadmin(
        ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', data],
        childEnv({ RDADMIN_CONFIG_DIR: join(dir, 'taken-config') }),
      );
      expect(r.stderr).toBe(`error: port ${port} is already in use\nhint: pick another with --port\n`);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(2);
      // Nothing was set up: no database, so no administrator created.
      expect(existsSync(data) ? await readdir(data) : []).toEqual([]);
      // --demo without --data-dir: its temporary folder is removed again.
      const tmp = join(dir, 'tmp');
      await mkdir(tmp);
      const demo = await rdadmin(
        ['serve', '--demo', '--port', String(port)],
        childEnv({ RDADMIN_CONFIG_DIR: join(dir, 'taken-config'), TMPDIR: tmp }),
      );
      expect(demo.code).toBe(2);
      expect(demo.stderr).toContain(`error: port ${port} is already in use`);
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
