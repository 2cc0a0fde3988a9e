import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';

// Lock files: a file that exists while one process holds something (`serve.lock`: the data folder,
// for a server; `config.json.lock`: the config file, while a command changes it), naming the pid
// of that process. The rules that keep it to one holder, however many processes try at once:
//
// - A lock is created whole: written to a file of its own, then linked into place (which fails if
//   there is a lock already), so no other process ever finds it empty. (Where the file system has
//   no hard links it is created empty and then written; an empty lock counts as being written.)
// - A lock is removed by its holder, naming it; one whose holder is gone (judged by the caller) is
//   removed only with `<lock>.takeover` held, after judging it again: two processes that found the
//   same stale lock cannot both remove it, nor one remove the lock the other has just created.

/** What a lock file says about its holder. */
export interface LockHolder {
  /** The pid the lock names; undefined when it names none (empty, being written, or damaged). */
  pid?: number;
  /** The word after the pid (a host name), when there is one. */
  host?: string;
  /** Milliseconds since the lock was written (the other way when its time is ahead of the clock). */
  age: number;
  /** Which file it is (device, inode, and times: an inode number is soon used again). */
  id: string;
}

/** What a caller makes of a lock: its holder is there, it is gone, or the lock is still being written. */
export type Verdict = 'held' | 'stale' | 'wait';

/** How long a lock that names no pid counts as being written (by an rdadmin that creates it empty). */
export const WRITING_GRACE_MS = 2_000;

/** Whether `pid` is a live process (possibly another user's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is a running process that may be rdadmin (a node process, as far as /proc says). */
export function runningRdadmin(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    // After a reboot the pid may belong to something else entirely.
    return /node|rdadmin/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
  } catch {
    return true; // no /proc: the process exists, which is all that can be told
  }
}

/** A name next to `file` that no other process uses. */
function ownName(file: string, what: string): string {
  return `${file}.${what}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Creates `file` holding `content`; false when it exists already. */
export function createLock(file: string, content: string): boolean {
  const temp = ownName(file, 'new');
  writeFileSync(temp, content, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Nothing to tidy.
    }
  }
  // No hard links here: created, then written (empty for a moment; see WRITING_GRACE_MS).
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The holder `file` names; undefined when there is no lock. */
export function readLock(file: string): LockHolder | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    const buf = Buffer.alloc(512);
    const text = buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
    const m = /^\s*(\d+)(?:[ \t]+(\S+))?\s*(?:\n|$)/.exec(text);
    const pid = m ? Number(m[1]) : Number.NaN;
    return {
      ...(Number.isSafeInteger(pid) && pid > 0 ? { pid, ...(m?.[2] ? { host: m[2] } : {}) } : {}),
      age: Math.abs(Date.now() - st.mtimeMs),
      id: `${st.dev}:${st.ino}:${st.birthtimeMs}:${st.mtimeMs}`,
    };
  } finally {
    closeSync(fd);
  }
}

/** Removes `file` if it holds `content` (the lock this process took). */
export function releaseLock(file: string, content: string): void {
  try {
    if (readFileSync(file, 'latin1') === content) unlinkSync(file);
  } catch {
    // Gone already: nothing to let go.
  }
}

/** The guard of a takeover: held for the few system calls of one, by a process that is alive. */
function guardVerdict(g: LockHolder): Verdict {
  if (g.pid === undefined) return g.age < WRITING_GRACE_MS ? 'wait' : 'stale';
  return alive(g.pid) && g.pid !== process.pid && g.age < 10_000 ? 'wait' : 'stale';
}

/**
 * Removes `file` if it is still the file `id` names. It is moved aside first, and put back if it
 * turns out to be another (a lock created since): no process loses a lock it has just taken.
 */
function removeIfSame(file: string, id: string): void {
  const aside = ownName(file, 'stale');
  try {
    renameSync(file, aside);
  } catch {
    return; // gone already
  }
  if (readLock(aside)?.id !== id) {
    try {
      linkSync(aside, file);
    } catch {
      // Another one is in its place already.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Nothing to tidy.
  }
}

/** Which process holds a lock that could not be taken, and why this one should not take it. */
export type Refusal = { verdict: 'held' | 'wait'; holder: LockHolder } | { verdict: 'busy' };

/**
 * One attempt at taking the lock `file`, writing `content` in it (`${process.pid}\n`, perhaps with
 * more after the pid): true once taken, else what stands in the way: a holder (`judge` says
 * 'held'), a lock that is still being written ('wait'), or another process's takeover under way
 * ('busy'). A lock that `judge` finds stale is taken over; try again later for 'wait' and 'busy'.
 */
export function tryLock(file: string, content: string, judge: (h: LockHolder) => Verdict): true | Refusal {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createLock(file, content)) return true;
    const holder = readLock(file);
    if (!holder) continue; // let go in the meantime
    const verdict = judge(holder);
    if (verdict !== 'stale') return { verdict, holder };
    // Stale: removed with the guard held, once judged again. Nobody else can remove or replace the
    // lock while the guard is held (its holder is gone, and it exists, so it cannot be created), so
    // what is judged is what is removed.
    const guard = `${file}.takeover`;
    if (!createLock(guard, `${process.pid}\n`)) {
      const g = readLock(guard);
      if (g && guardVerdict(g) === 'stale') removeIfSame(guard, g.id); // its process died during a takeover
      return { verdict: 'busy' };
    }
    try {
      const now = readLock(file);
      if (now) {
        const again = judge(now);
        if (again !== 'stale') return { verdict: again, holder: now };
        removeIfSame(file, now.id);
      }
    } finally {
      releaseLock(guard, `${process.pid}\n`);
    }
  }
  return { verdict: 'busy' };
}

/** Blocks the thread for `ms` (for a caller that is synchronous). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
