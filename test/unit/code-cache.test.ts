import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// bin/code-cache.js: the launcher compiles dist/ bundles with the V8 code cache the build wrote,
// but only for the exact file it was made from; anything else is compiled from source as usual.

const require = createRequire(import.meta.url);
const { install, write } = require('../../bin/code-cache.js') as {
  install(dir: string, report?: (file: string, used: boolean) => void): void;
  write(files: string[]): void;
};

let dir: string;
const used = new Map<string, boolean>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-code-cache-'));
  install(dir, (file, u) => used.set(file, u));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Loads `file` afresh through Node's CommonJS loader (and so through the hook). */
function load(file: string): unknown {
  delete require.cache[file];
  return require(file);
}

describe('the code cache of the bundles', () => {
  it('is used for the file it was made from, and the module works', async () => {
    const file = join(dir, 'a.js');
    await writeFile(file, 'module.exports = { value: [1, 2, 3].map((x) => x * 2) };\n');
    write([file]);
    expect((await readFile(`${file}.cache`)).subarray(0, 19).toString()).toBe('rdadmin-code-cache ');
    expect(load(file)).toEqual({ value: [2, 4, 6] });
    expect(used.get(file)).toBe(true);
  });

  it('is ignored once the file changed, even to text of the same length', async () => {
    const file = join(dir, 'b.js');
    await writeFile(file, 'module.exports = 1;\n');
    write([file]);
    await writeFile(file, 'module.exports = 2;\n');
    await utimes(file, new Date(), new Date(Date.now() + 5_000));
    expect(load(file)).toBe(2);
    expect(used.get(file)).toBe(false);
  });

  it('a cut-off cache is not used (V8 would take it) and the file is compiled from source', async () => {
    const file = join(dir, 'c.js');
    await writeFile(file, 'module.exports = "fine";\n');
    write([file]);
    const data = await readFile(`${file}.cache`);
    await writeFile(`${file}.cache`, data.subarray(0, data.length - 40));
    expect(load(file)).toBe('fine');
    expect(used.get(file)).toBe(false);
  });

  it('a file without a cache is compiled as usual', async () => {
    const file = join(dir, 'd.js');
    await writeFile(file, 'module.exports = __filename;\n');
    expect(load(file)).toBe(file);
    expect(used.get(file)).toBe(false);
  });
});
