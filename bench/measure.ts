import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Timing and memory of child processes, and small statistics helpers.

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

export const median = (v: readonly number[]) => percentile(v, 50);

export interface Measured {
  ms: number;
  /** Peak resident set size of the child in MB (null when it could not be read). */
  maxRssMb: number | null;
  code: number | null;
  /** Lines written to stdout (the output is counted and dropped, never buffered). */
  lines: number;
  stdoutBytes: number;
  stderr: string;
}

const TIME = '/usr/bin/time';
const HAVE_TIME = existsSync(TIME);
let seq = 0;

/**
 * Runs a command to completion and measures its wall time and peak RSS: with GNU time (`%M`,
 * getrusage of the child) when present, else by polling VmHWM in /proc/<pid>/status. Killed
 * after `timeoutMs`.
 */
export function runMeasured(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs: number; stdin?: string },
): Promise<Measured> {
  const rssFile = join(tmpdir(), `rdadmin-bench-rss-${process.pid}-${++seq}`);
  const [file, argv] = HAVE_TIME ? [TIME, ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let lines = 0;
    let bytes = 0;
    let stderr = '';
    let hwmKb = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 20_000) stderr += chunk.toString('utf8');
    });
    child.stdin.end(opts.stdin ?? '');
    const poll = HAVE_TIME
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
          } catch {
            // gone already
          }
        }, 5);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let maxRssMb: number | null = hwmKb ? hwmKb / 1024 : null;
      if (HAVE_TIME) {
        try {
          const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
          maxRssMb = Number.isFinite(kb) && kb > 0 ? kb / 1024 : null;
        } catch {
          maxRssMb = null;
        }
        rmSync(rssFile, { force: true });
      }
      resolve({ ms, maxRssMb, code, lines, stdoutBytes: bytes, stderr });
    });
  });
}

/** Wall time of a short command (start-up figures): no wrapper process, output discarded. */
export function runTimed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`));
      else resolve(performance.now() - started);
    });
  });
}

export const memorySource = HAVE_TIME ? 'GNU time %M (peak RSS of the child)' : 'VmHWM polled from /proc';
