import type { Store } from './store';

// Log retention (Pro: Settings → Others → Log Retention, days; 0 keeps everything), applied when
// the server starts and every hour after. The same pass forgets audit-post nonces older than an
// hour (clients stop retrying a post after two minutes).

export const RETENTION_INTERVAL_MS = 3_600_000;
const NONCE_TTL_MS = 3_600_000;

export interface RetentionResult {
  cutoff: string;
  deleted: { conn: number; file: number; alarm: number; console: number };
}

/** One retention pass at `now`; null when the setting keeps everything. */
export async function applyRetention(store: Store, now: Date): Promise<RetentionResult | null> {
  await store.auditLogs.pruneNonces(new Date(now.getTime() - NONCE_TTL_MS).toISOString());
  const days = await store.settings.get('log_retention_days');
  if (!(days > 0)) return null;
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
  return { cutoff, deleted: await store.auditLogs.prune(cutoff) };
}

/** Runs a pass now and then every hour on an unref'd timer; the returned stop waits for a running pass. */
export function startRetention(
  store: Store,
  clock: () => Date,
  log: (line: string) => void,
  intervalMs = RETENTION_INTERVAL_MS,
): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const pass = () => {
    running = running.then(() =>
      applyRetention(store, clock()).then(
        (r) => {
          const n = r ? Object.values(r.deleted).reduce((a, b) => a + b, 0) : 0;
          if (r && n > 0) {
            const d = r.deleted;
            log(
              `log retention: deleted ${n} audit records older than ${r.cutoff} (connections ${d.conn}, files ${d.file}, alarms ${d.alarm}, console ${d.console})`,
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
    await running;
  };
}
