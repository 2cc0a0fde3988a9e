import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The rdadmin package folder (works from the bundle in dist/, a chunk, or the sources). */
export function packageRoot(from = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'rdadmin') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the rdadmin package folder');
    dir = up;
  }
}
