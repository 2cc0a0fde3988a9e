import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from './store/data-file-error';

// One server per data folder. Two would each keep their own in-memory state (the strategies and
// listing memos, the login throttle's window, the hourly retention) over one database, and serve
// stale answers. `serve.lock` holds the pid of the server using the folder; a lock whose process
// is gone (a crash, a reboot) is taken over.

/** Whether `pid` is a running process that may be a server (a node process, as far as /proc says). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // After a reboot the pid may belong to something else entirely.
    return /node|rdadmin/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
  } catch {
    return true; // no /proc: the process exists, which is all that can be told
  }
}

/** Takes the data folder for this process; returns what lets it go. */
export function lockDataFolder(dir: string): () => void {
  const file = join(dir, 'serve.lock');
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // Gone already: nothing to let go.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let pid = Number.NaN;
    try {
      pid = Number(readFileSync(file, 'utf8').trim());
    } catch {
      // Removed in the meantime: try again.
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && running(pid)) {
      throw new DataFileError(
        `another rdadmin serve (pid ${pid}) is using the data folder ${dir}`,
        `stop it first, or pass another --data-dir; if no server is running, delete ${file}`,
      );
    }
    try {
      unlinkSync(file); // a lock its process left behind
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
