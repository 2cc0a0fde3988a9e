// Bundles the CLI into dist/: one small entry plus lazily loaded chunks (the server, undici, zod,
// the prompt library...), so `rdadmin --help` loads little more than commander.
import { rm } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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
        ? { path: fileURLToPath(new URL('./undici-lean.cjs', import.meta.url)) }
        : undefined,
    );
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

// The server (`rdadmin serve` only) is a bundle of its own: sharing chunks with the CLI would make
// every CLI start load the few small modules both use (wire rules, scopes) as separate files. It
// shares no state with the CLI, so its own copy of those modules is harmless.
const SERVER_MODULES = /^\.\.\/src\/server\/(serve|demo)$/;
const serverApart = {
  name: 'server-apart',
  setup(b) {
    b.onResolve({ filter: SERVER_MODULES }, () => ({ path: './server.js', external: true }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Native addon: resolved from node_modules at run time, and only by the server.
  external: ['better-sqlite3'],
  banner: {
    js: "import { createRequire as __rdCreateRequire } from 'node:module'; const require = __rdCreateRequire(import.meta.url);",
  },
  plugins: [zodLocales],
  logLevel: 'warning',
  legalComments: 'none',
};

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  ...common,
  stdin: {
    contents:
      "export { startServer } from './src/server/serve';\nexport { loadDemoFleet, seedDemo } from './src/server/demo';\n",
    resolveDir: '.',
    sourcefile: 'server-entry.ts',
    loader: 'ts',
  },
  outfile: 'dist/server.js',
});
await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [lazyChildProcess, serverApart, leanUndici, zodLocales],
});
