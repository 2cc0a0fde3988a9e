import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from './app';
import { bootstrap } from './bootstrap';
import type { ServerConfig } from './context';
import { lockDataFolder } from './data-lock';
import { SECURITY_HEADERS } from './headers';
import { REQUEST_TIMED_OUT, timedOut } from './http';
import { loggedPath } from './line-log';
import { startRetention } from './retention';
import { inTransaction, openStore, type Store } from './store';
import { ConsoleOp, ConsoleType } from './store/audit';
import { makeDataDir, unwritableFolder } from './store/db';
import { MigrationStopped } from './store/migrations';

/**
 * `serve --log-retention-days N`: stores the setting, and when that changes it, says so in the
 * console log as `rdadmin settings set` does (a change of how long the logs are kept is itself
 * kept): the server's own change, no operator and no address, as for --forget-sealed-passwords.
 */
async function startRetentionSetting(store: Store, days: number): Promise<void> {
  const was = await store.settings.get('log_retention_days');
  if (was === days) return;
  await inTransaction(store, async (tx) => {
    await tx.settings.set('log_retention_days', days);
    await tx.audit.console({
      typ: ConsoleType.device,
      iop: ConsoleOp.updateDevice,
      operatorGuid: null,
      operator: '',
      ip: '',
      detail: `settings: log_retention_days=${days} (was ${was}; rdadmin serve --log-retention-days)`,
    });
  });
}

export { lineLog } from './line-log';
export { DataFileError } from './store/data-file-error';

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
  /**
   * `--forget-sealed-passwords`: secret.key is lost for good; when the key found does not belong
   * with the database (or is missing), make a new one and clear the passwords sealed with the lost
   * one (see secretBoxFor). Refused when the key belongs.
   */
  forgetSealedPasswords?: boolean;
  /**
   * Stops the start-up (a signal that came while the server starts): startServer rejects with
   * StartStopped. A database migration being applied is rolled back at the end of its running
   * statement; those applied before it stay.
   */
  signal?: AbortSignal;
}

/** startServer stopped by its `signal` before it served; the message says what became of the database. */
export class StartStopped extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartStopped';
  }
}

/** What a stop during a migration at start-up left: never a migration half applied. */
function stoppedStart(err: MigrationStopped): StartStopped {
  const n = err.applied.length;
  const kept =
    n === 0
      ? ''
      : n === 1
        ? ` (${err.applied[0]}, applied before it, is kept)`
        : ` (the ${n} applied before it are kept)`;
  return new StartStopped(
    err.begun
      ? `stopped during start-up: the database migration ${err.migration} was rolled back${kept}; the next start applies it again`
      : `stopped during start-up, before the database migration ${err.migration}${kept}; the next start applies it`,
  );
}

export interface Timeouts {
  /** The whole request (headers and body) must arrive within this time, else 408 and the socket closes. */
  requestMs: number;
  /** The headers must arrive within this time. */
  headersMs: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveMs: number;
  /** At shutdown, the requests being handled get this long to finish; then they are cut off. */
  shutdownGraceMs: number;
}

/** At a shutdown, how long a connection accepted just before has to bring its first request. */
const NEW_CONNECTION_MS = 1_000;

export const DEFAULT_TIMEOUTS: Timeouts = {
  requestMs: 30_000,
  headersMs: 15_000,
  keepAliveMs: 65_000,
  shutdownGraceMs: 10_000,
};

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request headers (or URL) are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', REQUEST_TIMED_OUT],
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
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') timedOut.add(socket);
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
  /**
   * Shuts down: takes no new connection, closes idle keep-alive ones, lets the requests being
   * handled finish and answers them (their connections close after the answer), and closes the
   * database once none uses it. A request still running after `graceMs` (default: the
   * shutdownGraceMs timeout) is cut off, and logged. Called again during a shutdown (a second
   * Ctrl-C), a shorter grace cuts off sooner; every call resolves when the shutdown is done.
   */
  close(o?: { graceMs?: number }): Promise<void>;
}

type Fetch = Parameters<typeof createAdaptorServer>[0]['fetch'];

/** The answer to a request that arrives while the server is still opening its database. */
const starting: Fetch = () =>
  new Response(JSON.stringify({ error: 'the server is starting; try again in a moment' }), {
    status: 503,
    headers: { 'Content-Type': 'application/json; charset=UTF-8', 'Retry-After': '1', ...SECURITY_HEADERS },
  });

/**
 * Listens, then takes the data folder (serve.lock), opens the database in `dataDir` (migrating it)
 * and bootstraps it. Listening comes first: a port that is taken (or not allowed) fails before the
 * data folder is touched, and before first-start set-up (the administrator, the default-password
 * warning) is done or reported. The lock comes before the database: a start refused because
 * another server uses the folder changes nothing in it. A request until the database is open is
 * answered 503 (clients try again); during a migration, between its statements (the event loop
 * is given a turn every 50 ms, but a statement building an index over millions of rows runs for
 * seconds without one).
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const clock = opts.clock ?? (() => new Date());
  const limits = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  limits.headersMs = Math.min(limits.headersMs, limits.requestMs); // Node refuses headers > request
  let handle = starting;
  // What the shutdown waits for: handlers that have not returned (a handler may still run after
  // its client has gone) and answers not yet written whole (a batch's answer streams after its
  // handler returned, running its requests as it goes).
  let handlers = 0;
  const answering = new Map<ServerResponse, IncomingMessage>();
  let closing = false;
  let changed: (() => void) | undefined;
  const handlerDone = () => {
    handlers--;
    changed?.();
  };
  // The open connections, and those that have brought a request: at a shutdown, a connection
  // accepted a moment before that has not brought one yet may have it on the way.
  const connections = new Set<Socket>();
  const served = new WeakSet<Socket>();
  // A connection's requests run one at a time. Node parses every request a client pipelines as
  // soon as its bytes arrive and pauses the socket only once answers wait to be written, but the
  // adapter answers asynchronously: without this, every request in the read buffer ran at once,
  // each answer kept in memory behind the unread first one (a client that never reads held
  // gigabytes). The next request starts once the answer before it has been handed to the socket
  // (Node's 'finish': written, not buffered); while requests wait, the socket is not read; and
  // when the connection closes (or is ending), those still waiting never run.
  const lines = new WeakMap<Socket, Line>();
  let adapter: RequestListener = () => {};
  const begin = (socket: Socket, line: Line, req: IncomingMessage, res: ServerResponse) => {
    line.busy = true;
    answering.set(res, req);
    // During a shutdown every connection closes after the answer it is writing.
    if (closing && !res.headersSent) res.shouldKeepAlive = false;
    let ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      answering.delete(res);
      line.busy = false;
      // A connection that broke, closed or is ending takes no more answers.
      const next = socket.writable && !socket.destroyed ? line.waiting.shift() : undefined;
      if (next) begin(socket, line, ...next);
      else dropWaiting(line);
      if (!line.waiting.length) release(socket, line);
      if (closing) {
        http.closeIdleConnections();
        changed?.();
      }
    };
    res.once('finish', done);
    res.once('close', done);
    adapter(req, res);
  };
  const admit: RequestListener = (req, res) => {
    const socket = req.socket as Socket;
    served.add(socket);
    let line = lines.get(socket);
    if (!line) {
      const made: Line = { busy: false, held: false, waiting: [] };
      line = made;
      lines.set(socket, made);
      socket.once('close', () => dropWaiting(made));
    }
    if (line.busy) {
      line.waiting.push([req, res]);
      hold(socket, line);
    } else begin(socket, line, req, res);
  };
  const createServer = ((options: object, listener: RequestListener) => {
    adapter = listener;
    return createHttpServer(options, admit);
  }) as typeof createHttpServer;
  const server = createAdaptorServer({
    createServer,
    fetch: (request, env) => {
      const answer = handle(request, env);
      if (answer instanceof Promise) {
        handlers++;
        answer.then(handlerDone, handlerDone);
      }
      return answer;
    },
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
  const http = server as unknown as HttpServer;
  http.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => {
      connections.delete(socket);
      if (closing) changed?.();
    });
    // Node reads on once what it wrote has drained; requests still waiting here keep it paused.
    socket.on('drain', () => {
      const line = lines.get(socket);
      if (line?.waiting.length) hold(socket, line);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  let store: Store | undefined;
  let unlock: (() => void) | undefined;
  const stopIfAsked = () => {
    if (opts.signal?.aborted) throw new StartStopped('stopped during start-up, before serving');
  };
  try {
    makeDataDir(opts.dataDir);
    try {
      unlock = lockDataFolder(opts.dataDir);
    } catch (err) {
      throw unwritableFolder(opts.dataDir, err) ?? err;
    }
    stopIfAsked();
    store = await openStore(join(opts.dataDir, 'db.sqlite3'), clock, {
      forgetSealed: opts.forgetSealedPasswords,
      log: opts.log,
      signal: opts.signal,
    });
    stopIfAsked();
    await bootstrap(store, opts.log);
    if (opts.logRetentionDays !== undefined) await startRetentionSetting(store, opts.logRetentionDays);
    const { app } = createApp({
      store,
      clock,
      log: opts.log,
      config: { invitationTtl: 7 * 86400, ...opts.config },
    });
    stopIfAsked();
    handle = app.fetch;
  } catch (err) {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      http.closeAllConnections();
    });
    await store?.close();
    unlock?.();
    throw err instanceof MigrationStopped ? stoppedStart(err) : err;
  }
  const stopRetention = startRetention(store, clock, opts.log);
  let shutdown: Promise<void> | undefined;
  let shorten: ((graceMs: number) => void) | undefined;
  let cutEarly = false;
  let firstGraceMs = 0;
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const allInterfaces = host === '0.0.0.0' || host === '[::]';
  return {
    url: `http://${allInterfaces ? '127.0.0.1' : host}:${addr.port}`,
    port: addr.port,
    allInterfaces,
    store,
    close(o = {}) {
      const graceMs = o.graceMs ?? limits.shutdownGraceMs;
      if (shutdown) {
        if (graceMs < firstGraceMs) cutEarly = true;
        shorten?.(graceMs);
        return shutdown;
      }
      closing = true;
      firstGraceMs = graceMs;
      // A retention pass running stops at its next turn between two chunks (it keeps what it did).
      const retentionStopped = stopRetention();
      shutdown = (async () => {
        // No new connection; the idle keep-alive ones are closed (Node's idle: served a request
        // and waiting for the next; not one that has not brought its first request yet).
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        for (const res of answering.keys()) if (!res.headersSent) res.shouldKeepAlive = false;
        // A connection accepted just before gets a moment to bring its request (its bytes may be
        // on the way); one that has brought none by then is closed.
        let firstWait = true;
        const firstRequests = setTimeout(
          () => {
            firstWait = false;
            for (const socket of connections) if (!served.has(socket)) socket.destroy();
            changed?.();
          },
          Math.min(NEW_CONNECTION_MS, graceMs),
        );
        const idle = () =>
          handlers === 0 &&
          answering.size === 0 &&
          (!firstWait || [...connections].every((c) => served.has(c)));
        /** Resolves true once nothing runs, false when `ms` (or a shorter grace) ran out first. */
        const until = (ms: number) =>
          new Promise<boolean>((resolve) => {
            if (idle()) return resolve(true);
            const end = (drained: boolean) => {
              clearTimeout(timer);
              changed = shorten = undefined;
              resolve(drained);
            };
            const started = Date.now();
            let deadline = started + ms;
            let timer = setTimeout(() => end(false), ms);
            changed = () => idle() && end(true);
            shorten = (shorter) => {
              if (started + shorter >= deadline) return;
              deadline = started + shorter;
              clearTimeout(timer);
              timer = setTimeout(() => end(false), Math.max(0, deadline - Date.now()));
            };
          });
        const closeAll = () => {
          clearTimeout(firstRequests);
          firstWait = false;
          http.closeAllConnections();
          for (const socket of connections) socket.destroy();
        };
        const running = Math.max(answering.size, handlers);
        if (running > 0)
          opts.log(`shutdown: waiting up to ${seconds(graceMs)} for ${requests(running)} still running`);
        let leaveOpen = false;
        if (!(await until(graceMs))) {
          const cut = [...answering.values()];
          const n = Math.max(cut.length, handlers);
          if (n > 0) {
            const when = cutEarly ? '' : ` after ${seconds(graceMs)}`;
            // Named, the first few: the line stays one readable line however many there are.
            const named = cut
              .slice(0, CUT_NAMED)
              .map((req) => `${req.method} ${loggedPath(pathOf(req.url))}`);
            const more = cut.length > CUT_NAMED ? ` and ${cut.length - CUT_NAMED} more` : '';
            opts.log(
              `shutdown: cut off ${requests(n)} still running${when}${named.length ? `: ${named.join(', ')}${more}` : ''}`,
            );
          }
          closeAll();
          // Their handlers end soon once their connections are gone (a body read fails, a batch
          // stops before its next request); the database is closed only after them. What did not
          // end may still use it: a handler, or an answer still being written (a batch runs its
          // requests as its answer streams); both are counted.
          if (!(await until(2_000))) {
            opts.log(
              `shutdown: ${requests(Math.max(handlers, answering.size))} did not end; the database is left to close with the process`,
            );
            leaveOpen = true;
          }
        }
        // Nothing is being answered now: what is left is idle.
        closeAll();
        await stopped;
        await retentionStopped;
        if (!leaveOpen) await store.close();
        unlock?.();
      })();
      return shutdown;
    },
  };
}

/** How many of the requests cut off at a shutdown its log line names (the rest are counted). */
const CUT_NAMED = 5;

/** A connection's requests: whether one is running, and those parsed that wait their turn. */
interface Line {
  busy: boolean;
  /** Reading was stopped here (not by Node's own back-pressure, which Node lifts itself). */
  held: boolean;
  waiting: [IncomingMessage, ServerResponse][];
}

/** Requests parsed but never started: their connection closed first. */
function dropWaiting(line: Line): void {
  line.waiting.length = 0;
}

/**
 * Stops reading a connection the way Node's own back-pressure does (its `_paused` flag keeps a
 * body read or Node's own resume on drain from reading on), and goes on again.
 */
function hold(socket: Socket, line: Line): void {
  const s = socket as Socket & { _paused?: boolean };
  if (s._paused) return;
  line.held = true;
  s._paused = true;
  socket.pause();
}

function release(socket: Socket, line: Line): void {
  const s = socket as Socket & { _paused?: boolean; parser?: { resume(): void } | null };
  if (!line.held) return;
  line.held = false;
  if (!s._paused || socket.destroyed) return;
  s._paused = false;
  s.parser?.resume();
  socket.resume();
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function requests(n: number): string {
  return `${n} request${n === 1 ? '' : 's'}`;
}

/** The path of a request target (its query may hold a secret, and says little in a log line). */
function pathOf(url: string | undefined): string {
  const target = url ?? '';
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}
