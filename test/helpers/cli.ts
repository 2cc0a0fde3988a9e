import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable as StreamWritable } from 'node:stream';
import type { Confirm } from '../../src/cli/confirm';
import type { IO, Writable } from '../../src/cli/io';
import type { ListingProgressTiming } from '../../src/cli/listing-progress';
import { run } from '../../src/cli/main';

/** A real writable stream (the prompt library pipes into it) that keeps what was written. */
export class Capture extends StreamWritable implements Writable {
  text = '';
  columns = 100;
  constructor(public isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Questions asked through the confirm hook. */
  asked: string[];
}

export interface CliOptions {
  /** Pretend stdin, stdout and stderr are terminals. */
  tty?: boolean;
  stdoutTTY?: boolean;
  stdin?: string;
  env?: Record<string, string | undefined>;
  /** Answer to confirmation prompts (a fake terminal user); omitted: use the real prompt. */
  answer?: boolean;
  /** Supplies its own stdin stream (e.g. a PassThrough to type into). */
  stdinStream?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** When a long listing's status line appears on a terminal stderr, and how often it is redrawn. */
  listingProgress?: ListingProgressTiming;
}

/** A fresh config folder per test, so profiles never leak between tests or into $HOME. */
export async function tempConfigDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rdadmin-cfg-'));
}

/** Runs the CLI in-process with fake streams and returns exit code and output. */
export async function cli(argv: string[], o: CliOptions = {}): Promise<CliRun> {
  const tty = o.tty ?? false;
  const stdout = new Capture(o.stdoutTTY ?? tty);
  const stderr = new Capture(tty);
  let stdin: IO['stdin'];
  if (o.stdinStream) stdin = o.stdinStream;
  else if (o.stdin !== undefined) stdin = Readable.from([o.stdin]);
  else {
    const p = new PassThrough();
    p.end();
    stdin = p;
  }
  (stdin as { isTTY?: boolean }).isTTY = tty;
  const asked: string[] = [];
  const confirm: Confirm | undefined =
    o.answer === undefined
      ? undefined
      : async (q) => {
          asked.push(q);
          return o.answer!;
        };
  const env = { RDADMIN_CONFIG_DIR: join(tmpdir(), 'rdadmin-cfg-unset'), ...o.env };
  const code = await run(
    argv,
    { stdin, stdout, stderr, env },
    { ...(confirm ? { confirm } : {}), ...(o.listingProgress ? { listingProgress: o.listingProgress } : {}) },
  );
  return { code, stdout: stdout.text, stderr: stderr.text, asked };
}
