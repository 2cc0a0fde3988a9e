import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from './app';
import { bootstrap } from './bootstrap';
import type { ServerConfig } from './context';
import { SECURITY_HEADERS } from './headers';
import { startRetention } from './retention';
import { openStore, type Store } from './store';

export { lineLog } from './line-log';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  log: (line: string) => void;
  config?: Partial<ServerConfig>;
  clock?: () => Date;
  /** Stores the log retention setting (days; 0 keeps everything) before the server starts. */
  logRetentionDays?: number;
  /** Connection limits; the defaults suit production (tests shorten them). */
  timeouts?: Partial<Timeouts>;
}

export interface Timeouts {
  /** The whole request (headers and body) must arrive within this time, else 408 and the socket closes. */
  requestMs: number;
  /** The headers must arrive within this time. */
  headersMs: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { requestMs: 30_000, headersMs: 15_000, keepAliveMs: 65_000 };

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request headers (or URL) are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request did not arrive in time'],
};

/**
 * Node answers requests it cannot parse (or that time out) itself, with a bare status line; this
 * answers them like every other error: `{"error"}` with the security headers, then closes.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, log: (line: string) => void): void {
  const inFlight = (socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
    400,
    'Bad Request',
    'malformed HTTP request',
  ];
  log(`client error ${status}: ${err.code ?? 'unknown'}`);
  const body = JSON.stringify({ error: message });
  const headers = {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...SECURITY_HEADERS,
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${head}\r\n${body}`);
  socket.once('finish', () => socket.destroy());
}

export interface RunningServer {
  /** Where a client on this machine reaches the server (the loopback address for an all-interfaces bind). */
  url: string;
  port: number;
  /** Bound to every interface (0.0.0.0, ::): reachable from the network, not only at `url`. */
  allInterfaces: boolean;
  store: Store;
  close(): Promise<void>;
}

type Fetch = Parameters<typeof createAdaptorServer>[0]['fetch'];

/** The answer to a request that arrives while the server is still opening its database. */
const starting: Fetch = () =>
  new Response(JSON.stringify({ error: 'the server is starting; try again in a moment' }), {
    status: 503,
    headers: { 'Content-Type': 'application/json; charset=UTF-8', 'Retry-After': '1', ...SECURITY_HEADERS },
  });

/**
 * Listens, then opens the database in `dataDir` and bootstraps it. Listening comes first: a port
 * that is taken (or not allowed) fails before the data folder is touched, and before first-start
 * set-up (the administrator, the default-password warning) is done or reported. A request in the
 * moment until the database is open is answered 503 (clients try again).
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const clock = opts.clock ?? (() => new Date());
  const limits = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  limits.headersMs = Math.min(limits.headersMs, limits.requestMs); // Node refuses headers > request
  let handle = starting;
  const server = createAdaptorServer({
    fetch: (request, env) => handle(request, env),
    hostname: opts.host,
    // Slow or stuck clients must not hold sockets forever. Node checks the request and header
    // deadlines every connectionsCheckingInterval (30 s by default, too coarse for 30 s limits).
    serverOptions: {
      requestTimeout: limits.requestMs,
      headersTimeout: limits.headersMs,
      keepAliveTimeout: limits.keepAliveMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersMs / 4))),
    },
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(err, socket, opts.log),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  let store: Store | undefined;
  try {
    store = await openStore(join(opts.dataDir, 'db.sqlite3'), clock);
    await bootstrap(store, opts.log);
    if (opts.logRetentionDays !== undefined)
      await store.settings.set('log_retention_days', opts.logRetentionDays);
    const { app } = createApp({
      store,
      clock,
      log: opts.log,
      config: { invitationTtl: 7 * 86400, ...opts.config },
    });
    handle = app.fetch;
  } catch (err) {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await store?.close();
    throw err;
  }
  const stopRetention = startRetention(store, clock, opts.log);
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const allInterfaces = host === '0.0.0.0' || host === '[::]';
  return {
    url: `http://${allInterfaces ? '127.0.0.1' : host}:${addr.port}`,
    port: addr.port,
    allInterfaces,
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
