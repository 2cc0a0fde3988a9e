// `npm run bench`: bundles the TypeScript benchmark (bench/*.ts, which imports the server and the
// client simulator from src/) into dist/bench/ (next to the CLI build) and runs it. Arguments are
// passed on (`npm run bench -- --quick`, `-- --only=4,6`, `-- --help`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = here('../dist/bench/');

await build({
  entryPoints: {
    main: here('./main.ts'),
    'server-child': here('./server-child.ts'),
    'baseline-client': here('./baseline-client.ts'),
  },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies load from node_modules, as they do for the CLI and the server.
  packages: 'external',
  logLevel: 'warning',
});

const r = spawnSync(process.execPath, [`${out}main.mjs`, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, RDADMIN_ROOT: here('..') },
});
process.exitCode = r.status ?? 1;
