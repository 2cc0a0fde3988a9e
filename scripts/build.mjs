// Bundles the CLI into dist/ as CommonJS (dist/package.json says so): Node starts a CommonJS
// program several milliseconds sooner than an ES module one, and `rdadmin --help` loads one file,
// dist/cli.js (the core and commander). What only some commands need is a bundle of its own in
// dist/lazy/, loaded with require() when a command asks for it: the HTTP client (undici, zod),
// the prompt library, conf, the terminal width of text (tables) and the progress-bar library; the
// server is dist/server.js.
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

// commander requires node:child_process at load time, for executable subcommands we never use;
// loading it (with net, dgram, ...) costs more start-up time than the rest of `--help`. Commander
// gets a stand-in that loads the real module on first use.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes(`${sep}commander${sep}`)
        ? { path: 'child_process', namespace: 'lazy' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

// The CLI's HTTP client uses three things from undici; scripts/undici-lean.cjs provides them
// from undici's own modules, so an API command loads a third of undici instead of all of it.
const leanUndici = {
  name: 'lean-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) =>
      args.importer.endsWith(`${sep}src${sep}client${sep}transport.ts`)
        ? { path: join(root, 'scripts', 'undici-lean.cjs') }
        : undefined,
    );
  },
};

// undici's HTTP/1 client requires its HTTP/2 client at load time, and that loads node:http2; the
// CLI never speaks HTTP/2 (allowH2 is off), so its bundle gets a stand-in that loads the real
// module (bundled as usual) on first use.
const lazyUndiciH2 = {
  name: 'lazy-undici-h2',
  setup(b) {
    b.onResolve({ filter: /^\.\/client-h2\.js$/ }, (args) =>
      args.importer.includes(`${sep}undici${sep}`) && args.namespace === 'file'
        ? { path: 'undici-client-h2', namespace: 'lazy-h2', pluginData: dirname(args.importer) }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-h2' }, (args) => ({
      contents:
        "let real;\nmodule.exports = function connectH2(...args) {\n  real ??= require('./client-h2.js');\n  return real.apply(this, args);\n};\n",
      resolveDir: args.pluginData,
      loader: 'js',
    }));
  },
};

// zod exports every locale (z.locales.*, a third of its code); we use only the English messages,
// which zod imports on its own. The namespace keeps just `en`.
const zodLocales = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${sep}zod${sep}`)
        ? { path: join(dirname(args.importer), '..', 'locales', 'en-only.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

// The client's areas (src/client/areas.ts) are evaluated when first used: the bundle gets
// areas-lazy.ts in that module's place, whose require()s esbuild turns into lazy evaluation.
const lazyAreas = {
  name: 'lazy-areas',
  setup(b) {
    b.onResolve({ filter: /^\.\/areas$/ }, (args) =>
      args.importer === join(root, 'src', 'client', 'index.ts')
        ? { path: join(root, 'src', 'client', 'areas-lazy.ts') }
        : undefined,
    );
  },
};

// What the CLI loads on demand (`await import(x)` in the sources), and the file that holds it.
const LAZY = {
  '../client': './lazy/client.js',
  '../src/client': './lazy/client.js',
  '@inquirer/prompts': './lazy/prompts.js',
  conf: './lazy/conf.js',
  'string-width': './lazy/table.js',
  'cli-progress': './lazy/progress.js',
  '../src/server/serve': './server.js',
  '../src/server/demo': './server.js',
};
const lazyParts = {
  name: 'lazy-parts',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' && LAZY[args.path]
        ? { path: LAZY[args.path], external: true }
        : undefined,
    );
  },
};

// The client throws the CLI's error classes, and the CLI tells them apart with instanceof: the
// client bundle takes them from the loaded CLI bundle instead of carrying copies of its own.
const cliErrors = {
  name: 'cli-errors',
  setup(b) {
    b.onResolve({ filter: /\/cli\/errors$/ }, () => ({ path: 'errors', namespace: 'cli-errors' }));
    b.onResolve({ filter: /^\.\.\/cli\.js$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'cli-errors' }, () => ({
      contents: "module.exports = require('../cli.js').errors;",
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Native addon: resolved from node_modules at run time, and only by the server.
  external: ['better-sqlite3'],
  // `await import()` of what is bundled elsewhere becomes require(): no ES module loader at all.
  supported: { 'dynamic-import': false },
  // package-root.ts reads import.meta.url only where __dirname is missing (the sources, ESM).
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
  legalComments: 'none',
};

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await writeFile(join(dist, 'package.json'), '{ "type": "commonjs" }\n');

const entry = (contents, sourcefile) => ({ contents, resolveDir: root, sourcefile, loader: 'ts' });
await Promise.all([
  build({
    ...common,
    stdin: entry(
      "export { main, run } from './src/cli/main';\nexport * as errors from './src/cli/errors';\n",
      'cli-entry.ts',
    ),
    outfile: join(dist, 'cli.js'),
    plugins: [lazyChildProcess, lazyParts],
  }),
  build({
    ...common,
    entryPoints: [join(root, 'src', 'client', 'index.ts')],
    outfile: join(dist, 'lazy', 'client.js'),
    plugins: [leanUndici, lazyUndiciH2, zodLocales, cliErrors, lazyAreas],
  }),
  build({
    ...common,
    stdin: entry(
      "export { DataFileError, lineLog, StartStopped, startServer } from './src/server/serve';\nexport { loadDemoFleet, seedDemo } from './src/server/demo';\n",
      'server-entry.ts',
    ),
    outfile: join(dist, 'server.js'),
    plugins: [zodLocales],
  }),
  // What the sources import from each (`await import(pkg)` yields module.exports as `default`).
  ...Object.entries({
    prompts: "require('@inquirer/prompts')",
    conf: "require('conf').default",
    table: "require('string-width')",
    progress: "require('cli-progress')",
  }).map(([name, expr]) =>
    build({
      ...common,
      stdin: { contents: `module.exports = ${expr};`, resolveDir: root, loader: 'js' },
      outfile: join(dist, 'lazy', `${name}.js`),
    }),
  ),
]);

// V8 code caches for what every command and every API command loads (bin/code-cache.js), made in
// a fresh process so that no V8 flag differs from a command's start.
execFileSync(
  process.execPath,
  [join(root, 'bin', 'code-cache.js'), join(dist, 'cli.js'), join(dist, 'lazy', 'client.js')],
  { stdio: 'inherit' },
);
