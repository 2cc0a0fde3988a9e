// Bundles the CLI into dist/: one small entry plus lazily loaded chunks (the server, undici, zod,
// the prompt library...), so `rdadmin --help` loads little more than commander.
import { rm } from 'node:fs/promises';
import { sep } from 'node:path';
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
  plugins: [lazyChildProcess, serverApart],
});
