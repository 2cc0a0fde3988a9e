import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Spawns the built binary (bin/rdadmin.js → dist/), as a user or a script would run it.

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'rdadmin.js');
/** Runs a command under a pseudo-terminal and answers one prompt (python3, standard library only). */
export const PTY = join(ROOT, 'test', 'e2e', 'pty_session.py');

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
    throw new Error('dist/cli.js is missing: run `npm run build` before the spawned-binary tests');
  }
}

export type Env = Record<string, string | undefined>;

/**
 * The child's environment: a copy of this process's, without what would change the CLI's
 * behaviour behind a test's back (CI, colour switches, RDADMIN_* settings), plus `extra`
 * (an undefined value removes a variable). TERM is a colour-capable terminal unless overridden.
 */
export function childEnv(extra: Env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('RDADMIN_') || k.startsWith('VITEST') || k === 'CI') delete env[k];
  }
  delete env['NO_COLOR'];
  delete env['FORCE_COLOR'];
  delete env['NODE_OPTIONS'];
  env['TERM'] = 'xterm-256color';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface Spawned {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with stdin closed (like CI) and collects its output; kills it after `timeoutMs`. */
export function runProcess(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 15_000,
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${cmd} ${args.join(' ')}\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `node bin/rdadmin.js …args` with pipes for stdout and stderr and no stdin. */
export function rdadmin(args: string[], env: NodeJS.ProcessEnv): Promise<Spawned> {
  return runProcess(process.execPath, [BIN, ...args], env);
}

export interface PtyRun {
  code: number | null;
  /** Everything the terminal showed (stdout and stderr interleaved), with \r\n turned into \n. */
  transcript: string;
  /** Messages of the pty helper itself (a timeout). */
  helperErr: string;
}

/**
 * `node bin/rdadmin.js …args` on a pseudo-terminal (stdin, stdout and stderr are the terminal).
 * When `expect` shows up, `answer` is typed (`\r` is Enter). Exit 124/125: the helper timed out.
 */
export async function rdadminInPty(
  args: string[],
  env: NodeJS.ProcessEnv,
  o: { expect?: string; answer?: string } = {},
): Promise<PtyRun> {
  const helperArgs = [PTY, '--timeout', '20'];
  if (o.expect !== undefined) helperArgs.push('--expect', o.expect);
  if (o.answer !== undefined) helperArgs.push('--answer', o.answer);
  const r = await runProcess('python3', [...helperArgs, '--', process.execPath, BIN, ...args], env, 25_000);
  return { code: r.code, transcript: r.stdout.replace(/\r\n/g, '\n'), helperErr: r.stderr };
}

/**
 * The lines a terminal shows at the end of `transcript` (a pseudo-terminal's output, CRLF already
 * made LF): enough of a VT100 for what rdadmin and its progress bar write — CR, LF, save and
 * restore the cursor (ESC 7, ESC 8), cursor to column (CSI n G), erase in line (CSI K, 2K); other
 * control sequences (colours, cursor and wrap modes) change nothing on screen and are dropped.
 */
export function screen(transcript: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const put = (ch: string) => {
    const line = lines[row]!.padEnd(col);
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < transcript.length; i++) {
    const ch = transcript[i]!;
    if (ch === '\n') {
      row++;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else if (ch === '\r') col = 0;
    else if (ch === '\u001b') {
      const next = transcript[i + 1];
      if (next === '7' || next === '8') {
        if (next === '7') saved = { row, col };
        else ({ row, col } = saved);
        i++;
        continue;
      }
      const m = /^\[([?0-9;]*)([A-Za-z])/.exec(transcript.slice(i + 1));
      if (!m) continue;
      i += m[0].length;
      if (m[2] === 'G') col = Math.max(0, Number(m[1] || 1) - 1);
      else if (m[2] === 'K') lines[row] = m[1] === '2' ? '' : lines[row]!.slice(0, col);
    } else put(ch);
  }
  return lines.map((l) => l.trimEnd());
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Everything the server wrote to stderr so far (its request log). */
  log: () => string;
}

/**
 * `rdadmin serve` on `dataDir` in a child process, on 127.0.0.1 and a free port; resolves once it
 * listens. The child is pushed onto `children` at once, so the caller can stop it whatever happens.
 */
export function serveProcess(
  dataDir: string,
  configDir: string,
  children: ChildProcess[],
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: ROOT,
      env: childEnv({ RDADMIN_CONFIG_DIR: configDir }),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, log: () => log });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${log}`)));
  });
}
