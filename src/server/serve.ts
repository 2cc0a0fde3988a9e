import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { bootstrap } from './bootstrap';
import type { ServerConfig } from './context';
import { startRetention } from './retention';
import { openStore, type Store } from './store';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  log: (line: string) => void;
  config?: Partial<ServerConfig>;
  clock?: () => Date;
  /** Stores the log retention setting (days; 0 keeps everything) before the server starts. */
  logRetentionDays?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
}

/** Opens the database in `dataDir`, bootstraps it, and listens. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const clock = opts.clock ?? (() => new Date());
  const store = await openStore(join(opts.dataDir, 'db.sqlite3'), clock);
  await bootstrap(store, opts.log);
  if (opts.logRetentionDays !== undefined)
    await store.settings.set('log_retention_days', opts.logRetentionDays);
  const { app } = createApp({
    store,
    clock,
    log: opts.log,
    config: { invitationTtl: 7 * 86400, ...opts.config },
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, () => resolve(s));
    s.once('error', reject);
  });
  const stopRetention = startRetention(store, clock, opts.log);
  // Slow or stuck clients must not hold sockets forever.
  const http = server as unknown as {
    requestTimeout: number;
    headersTimeout: number;
    keepAliveTimeout: number;
  };
  http.requestTimeout = 30_000;
  http.headersTimeout = 15_000;
  http.keepAliveTimeout = 65_000;
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const shownHost = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${addr.port}`,
    port: addr.port,
    store,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await stopRetention();
      await store.close();
    },
  };
}
