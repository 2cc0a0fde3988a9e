import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConfig, profileValues } from '../src/cli/config';
import { Exit, UsageError } from '../src/cli/errors';
import { opt, str, type VerbSpec } from '../src/cli/verb';
import { packageRoot } from '../src/package-root';
import { REQUEST_LOGS, type RequestLog } from '../src/server/context';
import type { LineLog } from '../src/server/line-log';
import type { RunningServer } from '../src/server/serve';

function defaultDataDir(env: Record<string, string | undefined>): string {
  const base = env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share');
  return join(base, 'rdadmin');
}

/** Errors of the file system (or of SQLite opening its file) that mean the data folder is unusable. */
const DATA_DIR_CODES = new Set([
  'ENOTDIR',
  'EISDIR',
  'EACCES',
  'EPERM',
  'EROFS',
  'EEXIST',
  'ENOENT',
  'SQLITE_CANTOPEN',
]);

export const serveVerb: VerbSpec = {
  name: 'serve',
  summary: 'Run the console server (Pro admin API, API tokens, client endpoints)',
  description: `Run the console server core: the RustDesk Server Pro admin API with Pro's shapes, scoped
API tokens and a console audit log, stored in DIR/db.sqlite3 (SQLite, WAL mode).

The first start creates the administrator admin / test1234 (change it!) and the user group Default.
--demo seeds a demo fleet into a fresh temporary folder (or --data-dir), prints a ready API token
and saves it as the profile 'demo', made current, so \`rdadmin users view\` works at once in another
terminal (with --profile NAME: saved as NAME, and the current profile stays).
It listens on 127.0.0.1 only (unless --host is given): its password is the default one and the
token can do everything.
Stop with Ctrl-C (SIGINT) or SIGTERM: it takes no new connection, lets the requests being handled
finish (at most --shutdown-timeout), then closes the database. A second Ctrl-C cuts them off at once.`,
  api: false,
  globalsHelp: false,
  // SIGINT and SIGTERM shut it down (exit 0; stopOnSignals), not main()'s interruption.
  signals: 'own',
  options: [
    opt('host', '<host>', 'address to listen on (default 0.0.0.0: every interface; 127.0.0.1 with --demo)'),
    opt('port', '<port>', 'port to listen on', { defaultValue: '21114' }),
    opt('data_dir', '<dir>', 'data folder (default $XDG_DATA_HOME/rdadmin or ~/.local/share/rdadmin)'),
    opt('demo', undefined, 'seed a demo fleet (into a temporary folder unless --data-dir is given)'),
    opt(
      'public_url',
      '<url>',
      'base URL for links the server hands out (default: the address of each request; with --trust-proxy, the one its X-Forwarded-Proto/-Host/-Prefix name)',
    ),
    opt(
      'trust_proxy',
      undefined,
      "behind a reverse proxy: take the client's address from the last X-Forwarded-For entry (the proxy's), and links from X-Forwarded-Proto/-Host/-Prefix",
    ),
    opt(
      'log_retention_days',
      '<days>',
      'keep audit logs this many days, checked hourly; 0 keeps everything (stored: later starts keep it)',
    ),
    opt(
      'request_log',
      '<which>',
      "which requests get a log line on stderr: all (default), errors (answered with status 400 and up), none; the server's other lines stay",
    ),
    opt(
      'request_timeout',
      '<seconds>',
      'a request must arrive whole within this time, else 408 (default 30)',
    ),
    opt(
      'headers_timeout',
      '<seconds>',
      'its headers within this time (default 15; at most the request timeout)',
    ),
    opt(
      'keep_alive_timeout',
      '<seconds>',
      'an idle keep-alive connection is closed after this time (default 65)',
    ),
    opt(
      'forget_sealed_passwords',
      undefined,
      'secret.key lost for good: make a new key and clear the address-book and peer passwords sealed with the lost one (only when the key does not belong with the database or is missing; logged)',
    ),
    opt(
      'shutdown_timeout',
      '<seconds>',
      'on SIGINT/SIGTERM, requests being handled get this long to finish before they are cut off (default 10)',
    ),
  ],
  examples: [
    'rdadmin serve',
    'rdadmin serve --demo',
    'rdadmin serve --port 8080 --data-dir /var/lib/rdadmin',
    'rdadmin serve --log-retention-days 180',
    'rdadmin serve --request-timeout 60 --keep-alive-timeout 120   # behind a slow proxy',
    'rdadmin serve --request-log errors                          # a large fleet: no line per heartbeat',
  ],
  async run(ctx, o) {
    // Number('') is 0 (any free port): an empty value, such as an unset $PORT, is a mistake.
    const port = /^\s*\d+\s*$/.test(String(o['port'])) ? Number(o['port']) : Number.NaN;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`invalid --port '${o['port']}'`);
    const retention = str(o['logRetentionDays']);
    if (retention !== undefined && !/^\d{1,6}$/.test(retention.trim()))
      throw new UsageError(
        `invalid --log-retention-days '${retention}': give a whole number of days (0 keeps everything)`,
      );
    const requestLog = str(o['requestLog'])?.trim();
    if (requestLog !== undefined && !(REQUEST_LOGS as readonly string[]).includes(requestLog))
      throw new UsageError(`invalid --request-log '${requestLog}': give ${REQUEST_LOGS.join(', ')}`);
    const seconds = (key: string, flag: string): number | undefined => {
      const v = str(o[key]);
      if (v === undefined) return undefined;
      const n = Number(v.trim());
      if (!/^\d+(\.\d+)?$/.test(v.trim()) || n < 0.1 || n > 3600)
        throw new UsageError(`invalid --${flag} '${v}': give seconds from 0.1 to 3600`);
      return Math.round(n * 1000);
    };
    const publicUrl = str(o['publicUrl'])?.trim();
    if (publicUrl !== undefined) {
      const u = URL.canParse(publicUrl) ? new URL(publicUrl) : undefined;
      if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash || u.username || u.password)
        throw new UsageError(
          `invalid --public-url${publicUrl.includes('@') ? '' : ` '${publicUrl}'`}: give the console's address as users reach it, e.g. https://rd.example.com or https://example.com/rustdesk`,
        );
    }
    const timeouts = {
      requestMs: seconds('requestTimeout', 'request-timeout'),
      headersMs: seconds('headersTimeout', 'headers-timeout'),
      keepAliveMs: seconds('keepAliveTimeout', 'keep-alive-timeout'),
      shutdownGraceMs: seconds('shutdownTimeout', 'shutdown-timeout'),
    };
    const demo = o['demo'] === true;
    const tempDir = demo && str(o['dataDir']) === undefined;
    const dataDir =
      str(o['dataDir']) ??
      (tempDir ? await mkdtemp(join(tmpdir(), 'rdadmin-demo-')) : defaultDataDir(ctx.io.env));
    const { startServer, lineLog, DataFileError, StartStopped } = await import('../src/server/serve');
    const log = lineLog(ctx.io.stderr, () => `${new Date().toISOString()} `);
    // A signal while the server starts (migrating a large database takes seconds) stops the start:
    // the migration being applied is rolled back at the end of its running statement, never left
    // half done (StartStopped), and the process ends (exit 0). Further signals meanwhile change
    // nothing: the stop comes at that same moment.
    const starting = new AbortController();
    const stopStarting = (sig: NodeJS.Signals) => {
      if (starting.signal.aborted) return;
      log(`${sig} received during start-up: stopping`);
      starting.abort(sig);
    };
    const forgetStartSignals = () => {
      process.off('SIGINT', stopStarting);
      process.off('SIGTERM', stopStarting);
    };
    process.on('SIGINT', stopStarting);
    process.on('SIGTERM', stopStarting);
    // The demo runs with the default administrator password and prints an all:rw token: it stays
    // on this machine unless asked. A real server listens on every interface (clients reach it).
    const server = await startServer({
      host: str(o['host']) ?? (demo ? '127.0.0.1' : '0.0.0.0'),
      port,
      dataDir,
      log,
      config: {
        ...(publicUrl ? { publicUrl } : {}),
        ...(o['trustProxy'] === true ? { trustProxy: true } : {}),
        ...(requestLog !== undefined ? { requestLog: requestLog as RequestLog } : {}),
      },
      ...(retention !== undefined ? { logRetentionDays: Number(retention) } : {}),
      timeouts: Object.fromEntries(Object.entries(timeouts).filter(([, v]) => v !== undefined)),
      ...(o['forgetSealedPasswords'] === true ? { forgetSealedPasswords: true } : {}),
      signal: starting.signal,
    }).catch(async (err: NodeJS.ErrnoException) => {
      forgetStartSignals();
      // A demo's temporary folder that never served is not left behind.
      if (tempDir) await rm(dataDir, { recursive: true, force: true });
      if (err instanceof StartStopped) {
        log(err.message);
        return undefined;
      }
      if (err.code === 'EADDRINUSE')
        throw new UsageError(`port ${port} is already in use`, 'pick another with --port');
      if (err.syscall === 'listen' && err.code === 'EACCES')
        throw new UsageError(`not allowed to listen on port ${port}`);
      if (err.syscall === 'listen' && err.code === 'EADDRNOTAVAIL')
        throw new UsageError(`cannot listen on ${str(o['host'])}: no such address on this machine`);
      if (err.syscall === 'getaddrinfo')
        throw new UsageError(
          `cannot listen on ${str(o['host'])}: no such host name`,
          'give an address, e.g. --host 127.0.0.1',
        );
      // A file of the data folder that is there but unusable as it is (read-only, a secret.key that
      // does not belong with the database): named, with its fix.
      if (err instanceof DataFileError) throw new UsageError(err.message, err.hint);
      if (err.code === 'SQLITE_NOTADB' || err.code === 'SQLITE_CORRUPT')
        throw new UsageError(
          `${join(dataDir, 'db.sqlite3')} is not a usable SQLite database (${err.code})`,
          'restore it from a backup, or point --data-dir at another folder',
        );
      // The data folder (made if missing) or the database file in it could not be used.
      if (DATA_DIR_CODES.has(String(err.code)))
        throw new UsageError(
          `cannot use the data folder ${dataDir}: ${err.code}`,
          'pass --data-dir with a folder this user may create or write',
        );
      throw err;
    });
    forgetStartSignals();
    if (!server) {
      log.flush();
      return Exit.ok;
    }
    // The signals are taken before the "listening" line: a SIGTERM right after it shuts down like
    // any other. A shutdown waits for the demo fleet (if any) to be seeded.
    let seeded: Promise<void> = Promise.resolve();
    const stopped = stopOnSignals(server, log, () => seeded);
    // A signal that came while the server was starting (main() held it): shut down now.
    if (ctx.interrupt.signal) process.kill(process.pid, ctx.interrupt.signal);
    ctx.out.info(
      server.allInterfaces
        ? `rdadmin console server listening on all interfaces, port ${server.port} (${server.url} from this machine; data: ${dataDir})`
        : `rdadmin console server listening on ${server.url} (data: ${dataDir})`,
    );
    if (demo) {
      seeded = showDemo(ctx, server);
      await seeded;
    }
    await stopped;
    // A demo's temporary folder goes with it (the database is closed by now).
    if (tempDir) await rm(dataDir, { recursive: true, force: true });
  },
};

/**
 * Seeds the demo fleet, saves its token as the profile 'demo' (made current), or as the profile
 * --profile names (left for the commands that name it: parallel jobs each keep their own demo
 * server), and says how to use it.
 */
async function showDemo(ctx: Parameters<VerbSpec['run']>[0], server: RunningServer): Promise<void> {
  const named = ctx.flags.profile;
  const profile = named ?? 'demo';
  const { loadDemoFleet, seedDemo } = await import('../src/server/demo');
  const fleet = await loadDemoFleet(join(packageRoot(), 'fixtures', 'demo.json'));
  const token = await seedDemo(server.store, fleet);
  if (token) {
    // The server runs either way: a config file that cannot be written (broken by hand, a lock
    // held) only means the token is not saved, and it is printed all the same.
    const saved = await openConfig(ctx.io.env)
      .then(async (config) => {
        await config.update((file) => {
          file.profiles[profile] = profileValues({ url: server.url, token });
          if (!named) file.currentProfile = profile;
        });
        return config.path;
      })
      .catch((err: unknown) => {
        ctx.out.warn(
          `the demo token was not saved as a profile: ${err instanceof Error ? err.message : String(err)}`,
        );
        return undefined;
      });
    ctx.out.info(
      `Demo fleet: ${await server.store.users.countAll()} users, ${await server.store.devices.count()} devices.`,
    );
    ctx.out.info(
      saved
        ? `API token (all:rw), saved as profile '${profile}'${named ? '' : ', now the current profile'} (${saved}):`
        : 'API token (all:rw), not saved:',
    );
    ctx.out.data(token);
    ctx.out.info(
      saved
        ? `Try in another terminal:  npx rdadmin users view --group_name Default${named ? ` --profile ${named}` : ''}`
        : `Try in another terminal:  RDADMIN_URL=${server.url} RDADMIN_TOKEN=<the token> npx rdadmin users view --group_name Default`,
    );
    ctx.out.info(`Console login: admin / test1234; demo users' password: ${fleet.password}`);
  } else {
    ctx.out.info(`Demo fleet already seeded in this data folder; the profile ${profile} keeps its token.`);
  }
}

/**
 * Resolves once a signal has shut the server down. The first SIGINT or SIGTERM shuts down
 * gracefully (after `ready`); a second one (an impatient Ctrl-C) cuts off the requests still
 * running at once; after that the signals' default actions apply again.
 */
function stopOnSignals(server: RunningServer, log: LineLog, ready: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let signals = 0;
    const forget = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    function onSignal(sig: NodeJS.Signals) {
      signals++;
      if (signals === 1) {
        log(`${sig} received, shutting down`);
        ready()
          .catch(() => undefined)
          .then(() => server.close())
          .catch((err: Error) => log(`shutdown failed: ${err?.message ?? err}`))
          .finally(() => {
            forget();
            log.flush();
            resolve();
          });
      } else {
        log(`${sig} received again: cutting off the requests still running`);
        forget();
        void server.close({ graceMs: 0 });
      }
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
