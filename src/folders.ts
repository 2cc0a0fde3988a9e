import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `mkdir -p`: makes `dir` and the parents it lacks; one that exists is left as it is. Not
 * `mkdirSync(dir, { recursive: true })`: on a file system that answers ENOENT for a folder whose
 * parent exists (procfs, say: `RDADMIN_CONFIG_DIR=/proc/x`), Node's loop makes the parent again
 * and again, forever, on the main thread (signals are never handled). Here the second ENOENT is
 * the error.
 */
export function makeFolders(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    makeFolders(parent);
    try {
      mkdirSync(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}
