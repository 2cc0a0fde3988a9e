import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This module's folder: __dirname in the CommonJS bundle (dist/), import.meta.url in the sources. */
function here(): string {
  return typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
}

/** The rdadmin package folder (works from the bundle in dist/, a lazy part, or the sources). */
export function packageRoot(from?: string): string {
  let dir = from ? dirname(fileURLToPath(from)) : here();
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'rdadmin') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the rdadmin package folder');
    dir = up;
  }
}
