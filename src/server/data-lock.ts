import { join } from 'node:path';
import {
  type LockHolder,
  releaseLock,
  runningRdadmin,
  sleepSync,
  tryLock,
  type Verdict,
  WRITING_GRACE_MS,
} from '../lock-file';
import { DataFileError } from './store/data-file-error';

// One server per data folder. Two would each keep their own in-memory state (the strategies and
// listing memos, the login throttle's window, the hourly retention) over one database, and serve
// stale answers. `serve.lock` holds the pid of the server using the folder; a lock whose process
// is gone (a crash, a reboot) is taken over, by one server however many start at once (see
// lock-file.ts). A lock that names no pid yet is being written (by an older rdadmin), and is
// waited for: only one that stays empty is taken over.

/** How long a start waits for a lock being written, or for another server's takeover, at most. */
const WAIT_MS = 10_000;

function verdict(h: LockHolder): Verdict {
  if (h.pid === undefined) return h.age < WRITING_GRACE_MS ? 'wait' : 'stale';
  // A lock naming this process was left by an earlier one with the same pid (a container's pid 1).
  return h.pid !== process.pid && runningRdadmin(h.pid) ? 'held' : 'stale';
}

/** Takes the data folder for this process; returns what lets it go. */
export function lockDataFolder(dir: string): () => void {
  const file = join(dir, 'serve.lock');
  const content = `${process.pid}\n`;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = tryLock(file, content, verdict);
    if (r === true) return () => releaseLock(file, content);
    if (r.verdict === 'held') {
      throw new DataFileError(
        `another rdadmin serve (pid ${r.holder.pid}) is using the data folder ${dir}`,
        `stop it first, or pass another --data-dir; if no server is running, delete ${file}`,
      );
    }
    if (Date.now() > deadline) {
      throw new DataFileError(
        `cannot take ${file}: ${r.verdict === 'wait' ? 'it names no process' : 'another server is taking it over'}`,
        `if no server is running, delete ${file} (and ${file}.takeover)`,
      );
    }
    sleepSync(10 + Math.random() * 20);
  }
}
