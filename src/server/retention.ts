import { SESSION_IDLE_MS } from './auth';
import type { Store } from './store';
import { Pace } from './store/pace';

// Log retention (Pro: Settings → Others → Log Retention, days; 0 keeps everything), applied when
// the server starts and every hour after. The same pass forgets audit-post nonces older than an
// hour (clients stop retrying a post after two minutes) and sessions that have expired (unused
// for longer than a session lives, see auth.ts), and, after records went, the IDs and operator
// names no record holds any more (what the logs' filters look them up in). It deletes in chunks,
// each a transaction of its own, and lets the server answer requests between them (see Pace): a
// first pass over a large log (retention just set, or lowered) takes a while, and the server goes
// on serving meanwhile; stopped by a shutdown, it keeps what it did and the next pass goes on.
// Invitations are kept, expired ones too: the users listing and `enable` say when a link expired.

export const RETENTION_INTERVAL_MS = 3_600_000;
const NONCE_TTL_MS = 3_600_000;

/**
 * A pass that deleted at least this many records empties the WAL file after it: what it deleted
 * went through the WAL, which the automatic checkpoints keep at about 4 MB, and its file would
 * stay at that size (or more, while another process read meanwhile) for as long as the server runs.
 */
const WAL_GIVEN_BACK_AFTER = 10_000;

export interface RetentionResult {
  cutoff: string;
  deleted: { conn: number; file: number; alarm: number; console: number };
  /** The pass was stopped (a shutdown) before it was done: `deleted` is what it did. */
  stopped?: true;
}

/**
 * One retention pass at `now`; null when the setting keeps everything. `signal` stops it between
 * two chunks (see Pace).
 */
export async function applyRetention(
  store: Store,
  now: Date,
  signal?: AbortSignal,
): Promise<RetentionResult | null> {
  const pace = new Pace(signal);
  await store.auditLogs.pruneNonces(new Date(now.getTime() - NONCE_TTL_MS).toISOString());
  await store.auth.pruneSessions(new Date(now.getTime() - SESSION_IDLE_MS).toISOString(), pace);
  const days = await store.settings.get('log_retention_days');
  if (!(days > 0)) return null;
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
  const deleted = await store.auditLogs.prune(cutoff, pace);
  if (deleted.conn + deleted.file + deleted.alarm > 0) await store.auditLogs.forgetValues('audit_ids', pace);
  if (deleted.console > 0) await store.auditLogs.forgetValues('audit_operators', pace);
  if (pace.stopped) return { cutoff, deleted, stopped: true };
  const n = deleted.conn + deleted.file + deleted.alarm + deleted.console;
  if (n >= WAL_GIVEN_BACK_AFTER) await store.database.truncateWal();
  return { cutoff, deleted };
}

/**
 * Runs a pass now and then every hour on an unref'd timer. The returned stop ends a running pass
 * at its next turn between two chunks (what it deleted stays deleted) and resolves once it has.
 */
export function startRetention(
  store: Store,
  clock: () => Date,
  log: (line: string) => void,
  intervalMs = RETENTION_INTERVAL_MS,
): () => Promise<void> {
  const stop = new AbortController();
  let running: Promise<void> = Promise.resolve();
  const pass = () => {
    running = running.then(() =>
      applyRetention(store, clock(), stop.signal).then(
        (r) => {
          const n = r ? Object.values(r.deleted).reduce((a, b) => a + b, 0) : 0;
          if (r && n > 0) {
            const d = r.deleted;
            const what = `${n} audit records older than ${r.cutoff} (connections ${d.conn}, files ${d.file}, alarms ${d.alarm}, console ${d.console})`;
            log(
              r.stopped
                ? `log retention: stopped by the shutdown after deleting ${what}; the next pass deletes the rest`
                : `log retention: deleted ${what}`,
            );
          }
        },
        (err: Error) => log(`log retention failed: ${err?.message ?? err}`),
      ),
    );
  };
  pass();
  const timer = setInterval(pass, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    stop.abort();
    await running;
  };
}
