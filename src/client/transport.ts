import { Agent, type Dispatcher, ProxyAgent, request } from 'undici';
import type { z } from 'zod';
import {
  ApiError,
  AuthError,
  ErrorAnswer,
  GatewayError,
  MissingEndpointError,
  NetworkError,
  RateLimitedError,
  RequestInterruptedError,
  type StopSignal,
  TimeoutError,
  UsageError,
} from '../cli/errors';
import { shownUrl, visible } from '../cli/output';
import { type ProxyChoice, proxyFor } from './proxy';

export { shownUrl };

import { BATCH_ACCEPT_JSON, BATCH_HEADER, BATCH_PATH, BatchAnswerLine, BatchLimits } from '../wire/batch';

export interface TransportOptions {
  /** Server base URL; trailing slashes are trimmed, a path prefix (`https://host/rd`) is kept. */
  baseUrl: string;
  token?: string;
  timeoutMs: number;
  /** Most requests in flight at once (the keep-alive pool size). */
  connections: number;
  insecure?: boolean;
  /** PEM text of extra CA certificates. */
  ca?: string;
  /** Rows per page for list endpoints. */
  pageSize?: number;
  /** Retries of idempotent requests on connection errors and 502/503/504. */
  retries?: number;
  dispatcher?: Dispatcher;
  env?: Record<string, string | undefined>;
  debug?: (line: string) => void;
  /** false: calls marked `batch` (RequestOptions) go out one by one even where batches are taken. */
  batch?: boolean;
  /** Tries again of a request the server refused with 429 (any method: it was not carried out). */
  rateRetries?: number;
  /**
   * Told what the person running this should know: once, the first time the server asks to slow
   * down (429); a listing that changed while it was read (paginate()).
   */
  notice?: (line: string) => void;
  /** Waits between tries (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Told how far a listing has got: after each page (`done` false) and once when it ends, however
   * it ends (`done` true). `total` is the server's count, when it gives one.
   */
  rows?: (path: string, read: number, total: number | undefined, done: boolean) => void;
  /**
   * Between pages a listing waits for what this returns, when it returns something: the CLI's
   * stdout taking what was written (a slow reader), so that rows do not pile up in memory.
   */
  pace?: () => Promise<void> | undefined;
}

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions<T extends z.ZodType> {
  query?: Query;
  body?: unknown;
  schema?: T;
  /** Safe to retry (reads). Defaults to true for GET. */
  idempotent?: boolean;
  /** Parses a JSON body in place of JSON.parse (e.g. one that keeps 64-bit integers exact). */
  parse?: (text: string) => unknown;
  /**
   * May go out in one batch with the other such calls of this turn of the event loop, when the
   * server is known to take batches (the pages of a listing read ahead). Otherwise it goes alone.
   */
  batch?: boolean;
  /** false: a 429 is reported at once instead of waited out and tried again (logging in). */
  retryRateLimited?: boolean;
  /**
   * An endpoint of rdadmin serve's own (not in Pro): a 404 from a server that is not rdadmin serve
   * (no X-Rdadmin-Batch header, not known to be rdadmin serve) means the endpoint is missing, not a
   * record (MissingEndpointError).
   */
  serveOnly?: boolean;
}

/**
 * Builds a path from a template, percent-encoding every interpolated segment (D-26). An empty, `.`
 * or `..` segment is refused: URL parsing resolves it away (`/api/users/..` is sent as `/api/`, and
 * `%2e%2e` too), so the request would reach another endpoint.
 */
export function path(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce((acc, s, i) => {
    if (i >= values.length) return acc + s;
    const v = String(values[i]);
    if (v === '' || v === '.' || v === '..') {
      throw new UsageError(`'${v}' cannot be sent as a URL path segment (in ${strings.join('…')})`);
    }
    return acc + s + encodeURIComponent(v);
  }, '');
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed by the server',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
};
/** The connection was made, then broke off (as opposed to: the server could not be reached). */
const BROKEN_OFF = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;
const RETRY_STATUS = new Set([502, 503, 504]);
/**
 * Answered by a gateway in the server's place whatever the body: 502 Bad Gateway, 504 Gateway
 * Timeout, and Cloudflare's 520–524 (unknown error, down, unreachable, handshake, timeout). Any
 * other 5xx is the server's own only when it carries the server's JSON `{"error"}`.
 */
const GATEWAY_STATUS = new Set([502, 504, 520, 521, 522, 523, 524]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/** A 429 is tried again this many times by default: 1, 2, 4 and 8 s apart when it names no wait. */
const RATE_RETRIES = 4;
/** The longest Retry-After waited out; a longer one fails the call at once, naming the wait. */
const RATE_WAIT_MAX_MS = 60_000;
/** The shortest wait after a 429, whatever its Retry-After says. */
const RATE_WAIT_MIN_MS = 1000;

/** How long a Retry-After header asks to wait (seconds or an HTTP date); undefined when it says nothing usable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/ GMT$/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** `55 s`, `3600 s (about 1 h)`, `315619200 s (about 3653 days)`. */
function longWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 3600) return `${s} s`;
  const h = Math.round(s / 3600);
  return `${s} s (about ${h < 48 ? `${h} h` : `${Math.round(s / 86400)} days`})`;
}

/**
 * Whether a failed read is tried again: a network failure (not TLS, an unknown host or a proxy's
 * refusal), or a 502–504 or a gateway's 520–524.
 */
function retryable(err: unknown): boolean {
  return (
    (err instanceof NetworkError &&
      err.code !== 'TLS' &&
      err.code !== 'ENOTFOUND' &&
      err.code !== 'EPROXY') ||
    (err instanceof ApiError && (RETRY_STATUS.has(err.status) || GATEWAY_STATUS.has(err.status)))
  );
}

function errCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code ?? '';
}

function shorten(text: string, max = 200): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * A readable message from an error body: `{"error"}`, an HTML page's title, or the text itself; on
 * one line, its controls escaped (it is the server's text, printed on the user's terminal).
 */
function describeBody(text: string, encoding?: string): string {
  return visible(encoding ? compressedText(encoding) : bodyText(text));
}

/** rdadmin asks for no compression (no Accept-Encoding): a compressed answer was made on the way. */
function compressedText(encoding: string): string {
  return `an answer compressed with ${shorten(encoding, 40)}, which rdadmin did not ask for (by something between rdadmin and the server)`;
}

/** The compression of an answer: its Content-Encoding, or gzip's magic bytes when it names none. */
function compression(headers: Dispatcher.ResponseData['headers'], text: string): string | undefined {
  const h = headers['content-encoding'];
  const enc = (Array.isArray(h) ? h.join(', ') : h)?.trim();
  if (enc && enc.toLowerCase() !== 'identity') return enc;
  // 1f 8b read as UTF-8: 8b is not a character of its own.
  return text.startsWith('\u001f\ufffd') ? 'gzip' : undefined;
}

function bodyText(text: string): string {
  if (!text.trim()) return 'empty body';
  if (text.startsWith('\u001f\ufffd')) return compressedText('gzip');
  try {
    const v = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (v && typeof v === 'object') {
      if (v.error !== undefined) return typeof v.error === 'string' ? v.error : JSON.stringify(v.error);
      if (typeof v.message === 'string') return v.message;
    }
  } catch {
    // not JSON
  }
  if (/<html|<!doctype/i.test(text)) {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
    return title ? `an HTML page: "${shorten(title, 100)}"` : 'an HTML page';
  }
  return shorten(text);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A line of a batch's answer: `{"status", "body"}`, or `{"status", "json"}` for a JSON answer when
 * the batch was sent with BATCH_ACCEPT_JSON. Undefined when it is neither.
 */
function answerLine(
  line: string,
): { status: number; body: string } | { status: number; json: unknown } | undefined {
  const v = safeJson(line);
  if (v && typeof v === 'object' && Object.hasOwn(v, 'json')) {
    const { status, json } = v as { status: unknown; json: unknown };
    return Number.isSafeInteger(status) ? { status: status as number, json } : undefined;
  }
  const parsed = BatchAnswerLine.safeParse(v);
  return parsed.success ? parsed.data : undefined;
}

/** Pro's refusal for want of permission, as its `{"error"}` text starts (any case). */
const PERMISSION_DENIED = /^\s*permission denied\b/i;
const PERMISSION_HINT =
  'the server refused it for want of permission: an API token needs the permission of this area (given where the token was made: the web console, or `rdadmin tokens create --help`); a user session, the right in that area';

function isJsonError(text: string): boolean {
  try {
    const v = JSON.parse(text) as { error?: unknown };
    return typeof v?.error === 'string';
  } catch {
    return false;
  }
}

/** A call waiting for its batch. */
interface Queued {
  method: Dispatcher.HttpMethod;
  path: string;
  body?: string;
  /** A read (see RequestOptions.idempotent): dropped at once when the command is interrupted. */
  idempotent: boolean;
  /** Its answer: the status and body text, or (a JSON answer to BATCH_ACCEPT_JSON) the document. */
  settle: (status: number, text: string, json?: { value: unknown }) => void;
  fail: (err: unknown, batchTimedOut?: boolean) => void;
  /** Parsed with its own reader (RequestOptions.parse): its answer must come as text. */
  ownParse: boolean;
  /** Sends the call in a request of its own instead. */
  alone: () => void;
  /** The call's batch was refused with 429 (and none of it ran): it goes again alone, or fails with `err`. */
  limited: (err: RateLimitedError, retry: boolean) => void;
  /** Its share of a batch's request text. */
  size: number;
}

/** While batching: the most requests per batch, the calls waiting, and the batches under way. */
interface Batching {
  max: number;
  queue: Queued[];
  scheduled: boolean;
  inFlight: number;
}

/** One request under way (see Transport.interrupt). */
interface Exchange {
  /** What the request is sent with: aborted by its deadline, or by abandon(). */
  signal: AbortSignal;
  /** The whole exchange's deadline (--timeout). */
  deadline: AbortSignal;
  idempotent: boolean;
  /** The answer's headers are in: a deadline now cuts off an answer that was arriving. */
  answering?: boolean;
  /** Set by abandon(): the error the request fails with. */
  abandoned?: RequestInterruptedError;
  abandon(err: RequestInterruptedError): void;
  /** The answer is in (or the request failed): no longer under way. */
  end(): void;
}

/** How rdadmin serve refuses a request inside a batch that it takes only alone. */
const NOT_BATCHABLE = /^\{"error":"[A-Z]+ \S+ cannot be part of a batch\b/;

/** A batch is sent once it holds this much request text, whatever its count. */
const BATCH_MAX_TEXT = 256 * 1024;

/**
 * Batches under way at once. Calls made while both are out wait for one to end and then go out
 * together: sending whatever had gathered in each turn of the event loop made many small batches
 * (answers stream in a few lines at a time, and each line frees a slot for one more call), so
 * across a link with 50 ms round trips 1,000 disables took some 56 batches and 1.4 s.
 */
const BATCHES_IN_FLIGHT = 2;

export class Transport {
  readonly baseUrl: string;
  /** baseUrl as messages show it: without a password it may hold (requests use baseUrl). */
  private readonly shown: string;
  private readonly dispatcher: Dispatcher;
  /** The forward proxy requests go through (HTTPS_PROXY, …), if any. */
  private readonly proxy?: ProxyChoice;
  /** While batching (see Batching). */
  private batching?: Batching;
  /** What the first successful answer said about batches (its X-Rdadmin-Batch header; 0: none). */
  private batchLimit?: number;
  /** Calls marked `batch` (RequestOptions) waiting for their batch, outside startBatching(). */
  private reads?: Batching;
  /** Whether the server is rdadmin serve, once known (isRdadminServe()). */
  private serve?: boolean;
  /** Whether the person running this has been told that the server asks to slow down. */
  private rateNoticed = false;
  /** After a 429: no request goes out before this gate opens (see slowDown()). */
  private paused?: Promise<void>;
  /** When the gate opens (ms since the epoch). */
  private pausedUntil = 0;
  /** Waits under way (timers), cut short by close(): a command that ends does not sit out a wait. */
  private readonly waits = new Set<{ timer: ReturnType<typeof setTimeout>; end: () => void }>();
  /** Set by interrupt(): no request starts any more. */
  private stopped?: StopSignal;
  /** Requests sent and not answered yet (see interrupt()). */
  private readonly underWay = new Set<Exchange>();
  /** interrupt()'s timer that abandons the changes still under way when their time is up. */
  private abandonTimer?: ReturnType<typeof setTimeout>;

  constructor(private readonly opts: TransportOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.shown = shownUrl(this.baseUrl);
    if (opts.dispatcher) {
      this.dispatcher = opts.dispatcher;
    } else {
      const tls = {
        timeout: opts.timeoutMs,
        rejectUnauthorized: !opts.insecure,
        ...(opts.ca ? { ca: opts.ca } : {}),
      };
      const agentOpts = {
        connections: opts.connections,
        keepAliveTimeout: 10_000,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      };
      // One server per transport: the proxy (if any) is settled here, from the environment the
      // command was given, so that a failure can name it.
      this.proxy = proxyFor(this.baseUrl, opts.env ?? {});
      this.dispatcher = this.proxy
        ? new ProxyAgent({
            ...agentOpts,
            uri: this.proxy.uri,
            // The server's TLS, inside the tunnel: ProxyAgent takes it as requestTls (its `connect`
            // is the tunnel's own), so --ca and --insecure apply to the server as without a proxy.
            requestTls: tls,
            // An https:// proxy's own certificate is checked against the system's CAs (as curl
            // does without --proxy-cacert): --ca names the server's CA, not the proxy's.
            proxyTls: { timeout: opts.timeoutMs },
            // http:// servers through a plain request to the proxy (an absolute URL), as curl does;
            // many proxies allow CONNECT to port 443 only. https:// servers through a CONNECT tunnel.
            proxyTunnel: false,
          })
        : new Agent({ ...agentOpts, connect: tls });
    }
  }

  async close(): Promise<void> {
    this.endWaits();
    clearTimeout(this.abandonTimer);
    if (!this.opts.dispatcher) await this.dispatcher.close();
  }

  private endWaits(): void {
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.end();
    }
    this.waits.clear();
  }

  /**
   * The command was interrupted (a signal). No request starts from now on: a call, one waiting for
   * its batch, one waiting out a 429 or a retry's pause, fails with a RequestInterruptedError
   * (not sent). Reads under way are dropped at once. Changes under way get `graceMs` to
   * answer (their answers say what was done), then are abandoned: they fail with a
   * RequestInterruptedError whose outcome is `unknown` (they may or may not have been carried out).
   */
  interrupt(signal: StopSignal, graceMs: number): void {
    if (this.stopped) return;
    this.stopped = signal;
    for (const b of [this.batching, this.reads])
      for (const item of b?.queue.splice(0) ?? []) item.fail(this.refused());
    this.endWaits();
    for (const x of this.underWay)
      if (x.idempotent)
        x.abandon(new RequestInterruptedError(signal, `interrupted by ${signal} before the answer came`));
    if (!this.underWay.size) return;
    this.abandonTimer = setTimeout(() => {
      const unknown = new RequestInterruptedError(
        signal,
        `no answer within ${graceMs / 1000} s of ${signal}`,
        true,
      );
      const read = new RequestInterruptedError(signal, `interrupted by ${signal} before the answer came`);
      for (const x of this.underWay) x.abandon(x.idempotent ? read : unknown);
    }, graceMs);
    // The requests under way keep the process alive until then; the timer alone does not.
    this.abandonTimer.unref?.();
  }

  /** The error of a call that would start after interrupt(). */
  private refused(): RequestInterruptedError {
    return new RequestInterruptedError(this.stopped!, `interrupted by ${this.stopped}`);
  }

  /**
   * Finds out whether the server takes batches: from the `X-Rdadmin-Batch` header of an earlier
   * successful answer (rdadmin serve sends it with every answer; its absence there means no), else
   * by asking `GET /api/rdadmin/batch` (rdadmin serve's own). If it does, every call from now until stopBatching() waits for the end of the current turn of the
   * event loop and goes out with the others in one `POST /api/rdadmin/batch`; each call still gets
   * its own answer, judged exactly as if it had been sent alone. Any other answer (Pro's 404, a web
   * page, an error) means no batching, and calls go out one by one. Returns the batch size (0: off).
   */
  async startBatching(): Promise<number> {
    if (this.batching) return this.batching.max;
    let max = this.batchLimit ?? 0;
    if (this.batchLimit === undefined) {
      try {
        const limits = await this.call('GET', BATCH_PATH, { schema: BatchLimits, idempotent: false });
        max = Math.min(limits.max_requests, 1000);
      } catch (err) {
        this.opts.debug?.(`no batches: ${(err as Error).message}`);
      }
    }
    if (max > 1) this.batching = { max, queue: [], scheduled: false, inFlight: 0 };
    return this.batching?.max ?? 0;
  }

  /**
   * Whether the server is rdadmin serve: an earlier answer carried its X-Rdadmin-Batch header, or
   * `GET /api/rdadmin/batch` (rdadmin serve's own) answers; a 404 there means another server (Pro).
   */
  async isRdadminServe(): Promise<boolean> {
    if (this.serve === undefined && this.batchLimit) this.serve = true;
    if (this.serve === undefined) {
      try {
        await this.call('GET', BATCH_PATH, { schema: BatchLimits, idempotent: false });
        this.serve = true;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
        this.serve = false;
      }
    }
    return this.serve;
  }

  /**
   * For an action only rdadmin serve has (`what`: the command): a MissingEndpointError before
   * anything is done or confirmed, when the server is not rdadmin serve.
   */
  async requireServe(what: string): Promise<void> {
    if (!(await this.isRdadminServe())) throw this.notServe(what);
  }

  private notServe(what: string): MissingEndpointError {
    return new MissingEndpointError(
      `${what}: ${this.shown} does not have it; it is rdadmin serve's own, and this server is not rdadmin serve (Pro keeps this action to its web console)`,
      'do it in the Pro web console, or point --url at rdadmin serve',
    );
  }

  /**
   * The most requests a batch of calls marked `batch` may hold, once an answer has said (0: no
   * batches, not known yet, or turned off with the `batch: false` option).
   */
  batchSize(): number {
    return this.opts.batch === false ? 0 : (this.batchLimit ?? 0);
  }

  /** What a listing waits for before its next page (see TransportOptions.pace), if anything. */
  pace(): Promise<void> | undefined {
    return this.opts.pace?.();
  }

  /** Tells the person running this something they should know (a warning; see TransportOptions.notice). */
  notify(line: string): void {
    this.opts.notice?.(line);
  }

  /**
   * A listing of this command that may have missed rows (it kept changing while it was read, see
   * paginate()): the command then ends with exit 1 after its output, so a script does not take it
   * for complete.
   */
  incompleteListing?: string;

  /** Passes a listing's progress on to the `rows` observer (paginate() calls it). */
  rowsRead(path: string, read: number, total: number | undefined, done: boolean): void {
    this.opts.rows?.(path, read, total, done);
  }

  /** Calls go out one by one again (those already waiting are sent first). */
  stopBatching(): void {
    const b = this.batching;
    this.batching = undefined;
    if (b) this.flush(b);
  }

  /** Sends what is waiting, in batches of up to `max` requests, while fewer than two are out. */
  private flush(b: Batching): void {
    while (b.queue.length && b.inFlight < BATCHES_IN_FLIGHT) {
      let n = 0;
      let text = 0;
      while (n < b.queue.length && n < b.max && (n === 0 || text + b.queue[n]!.size <= BATCH_MAX_TEXT))
        text += b.queue[n++]!.size;
      b.inFlight++;
      void this.sendBatch(b, b.queue.splice(0, n)).finally(() => {
        b.inFlight--;
        this.flush(b);
      });
    }
  }

  private enqueue<T extends z.ZodType>(
    b: Batching,
    method: Dispatcher.HttpMethod,
    p: string,
    o: RequestOptions<T>,
  ): Promise<z.infer<T>> {
    const idempotent = o.idempotent ?? method === 'GET';
    return new Promise((resolve, reject) => {
      const body = o.body === undefined ? undefined : JSON.stringify(o.body);
      b.queue.push({
        method,
        path: this.url(p, o.query).slice(this.baseUrl.length),
        body,
        settle: (status, text, json) => {
          // A request the server will not take inside a batch is sent alone instead.
          if (status === 400 && NOT_BATCHABLE.test(text)) {
            this.alone(method, p, o).then(resolve, reject);
            return;
          }
          // Refused for now (not carried out): tried again alone, once the server's wait is over.
          if (status === 429 && o.retryRateLimited !== false) {
            const err = this.rateLimited(text, undefined);
            if (this.slowDown(err, 0)) this.alone(method, p, o, 1).then(resolve, reject);
            else reject(err);
            return;
          }
          try {
            resolve(this.interpret(status, text, o.schema, o.parse, json));
          } catch (err) {
            reject(err);
          }
        },
        ownParse: o.parse !== undefined,
        idempotent,
        // A read whose batch failed the way a lone read is retried is sent alone (with its retries).
        // So is a GET whose batch of several calls ran out of time (`batchTimedOut`): the pages a
        // listing reads ahead share one --timeout in a batch, and across a slow link a batch of
        // seven 100-row pages may take longer than one page alone. Sent alone, each page gets the
        // --timeout it has with --no-batch, and a GET is safe to send again. (Stretching the
        // batch's deadline by its size instead would let a stalled server hold the command for
        // several times --timeout before anything is reported.) Never a change: it may have been
        // carried out.
        fail: (err, batchTimedOut) => {
          if (idempotent && (retryable(err) || (batchTimedOut && method === 'GET')))
            this.alone(method, p, o).then(resolve, reject);
          else reject(err);
        },
        alone: () => void this.alone(method, p, o).then(resolve, reject),
        limited: (err, retry) => {
          if (retry && o.retryRateLimited !== false) this.alone(method, p, o, 1).then(resolve, reject);
          else reject(err);
        },
        size: p.length + (body?.length ?? 0) + 40,
      });
      if (b.queue.length >= b.max) this.flush(b);
      else if (!b.scheduled) {
        b.scheduled = true;
        setImmediate(() => {
          b.scheduled = false;
          this.flush(b);
        });
      }
    });
  }

  /**
   * One batch. Its answer streams in one line per request, in order, and each call settles as its
   * line arrives, judged as if it had been sent alone. Calls left without a line when the batch
   * fails or the connection breaks fail with that error: a refused batch (a 4xx) ran none of them;
   * a lost answer leaves them unconfirmed, exactly like a lone call whose answer was lost.
   */
  private async sendBatch(b: Batching, items: Queued[]): Promise<void> {
    const first = items[0]!;
    this.opts.debug?.(
      `batch of ${items.length}: ${first.method} ${first.path}${items.length > 1 ? ' …' : ''}`,
    );
    const body = JSON.stringify({
      requests: items.map(({ method, path, body }) => ({ method, path, body })),
    });
    let answered = 0;
    let sent: Exchange | undefined;
    try {
      // JSON answers as JSON values, unless a call reads its answer with its own parser.
      const { res, x, started } = await this.send(
        'POST',
        this.url(BATCH_PATH),
        body,
        items.some((i) => i.ownParse) ? 'application/x-ndjson' : BATCH_ACCEPT_JSON,
        items.every((i) => i.idempotent),
      );
      sent = x;
      if (res.statusCode === 404) {
        // Announced but missing (say, a server behind the same address without batches): no
        // request of this batch ran; each goes alone, and so does everything after it.
        await res.body.dump().catch(() => undefined);
        this.noBatches(b, items, 'the batch endpoint answered 404');
        return;
      }
      if (res.statusCode !== 200) {
        // The batch itself was refused (or failed): its error, for every call in it.
        const text = await res.body.text().catch(() => '');
        if (res.statusCode === 429) {
          // Refused whole, for now: none of it ran. Each call goes again alone once the wait is over.
          const err = this.rateLimited(text, retryAfterMs(res.headers['retry-after']));
          const retry = this.slowDown(err, 0);
          for (const item of items) item.limited(err, retry);
          return;
        }
        // Refused whole by something in front of the server (rdadmin serve answers a batch with
        // JSON): a proxy or firewall that blocks the endpoint (403, 405 with its own page), or
        // limits request bodies (413, from it or the server). The server's X-Rdadmin-Batch header
        // passed through it, but batches do not work here. None of this batch ran: its calls go
        // alone, and so does everything after it.
        if (res.statusCode === 413 || (res.statusCode >= 400 && res.statusCode < 500 && !isJsonError(text))) {
          this.noBatches(
            b,
            items,
            `the batch endpoint answered HTTP ${res.statusCode} (${describeBody(text)})`,
          );
          return;
        }
        this.interpret(res.statusCode, text, undefined, undefined, undefined, {
          headers: res.headers,
          url: this.url(BATCH_PATH),
          idempotent: items.every((i) => i.idempotent),
        });
        throw new ApiError(`the server answered a batch with HTTP ${res.statusCode}`, res.statusCode);
      }
      const enc = compression(res.headers, '');
      if (enc) {
        // Carried out, but its answers cannot be read: each call's outcome is unknown.
        await res.body.dump().catch(() => undefined);
        throw new GatewayError(
          `the server's answer to a batch cannot be read: ${describeBody('', enc)}`,
          200,
          'a proxy in front of the server compresses answers that were not asked to be: configure it not to (rdadmin sends no Accept-Encoding), or point --url at the server itself',
        );
      }
      let rest = '';
      const utf8 = new TextDecoder(); // a character may be split between two chunks
      try {
        for await (const chunk of res.body) {
          rest += utf8.decode(chunk as Buffer, { stream: true });
          let nl = rest.indexOf('\n');
          while (nl >= 0) {
            const line = rest.slice(0, nl);
            rest = rest.slice(nl + 1);
            nl = rest.indexOf('\n');
            if (!line.trim()) continue;
            const a = answerLine(line);
            if (!a || answered >= items.length) {
              throw new NetworkError(
                `the answer to a batch of ${items.length} requests was unreadable after ${answered}`,
                'EBATCH',
              );
            }
            const item = items[answered++]!;
            if ('body' in a) item.settle(a.status, a.body);
            // A JSON answer that is not a success is read as its text, like any other.
            else if (a.status < 200 || a.status >= 300) item.settle(a.status, JSON.stringify(a.json));
            else item.settle(a.status, '', { value: a.json });
          }
        }
      } catch (err) {
        if (err instanceof NetworkError) throw err;
        throw this.failure(x, err);
      }
      this.opts.debug?.(`← 200 POST ${BATCH_PATH} ${(performance.now() - started).toFixed(0)}ms`);
      if (answered < items.length) {
        throw new NetworkError(
          `the server answered ${answered} of a batch of ${items.length} requests, then stopped`,
          'EBATCH',
        );
      }
    } catch (err) {
      // Several calls under one deadline (--timeout): reads left unanswered by a batch that ran
      // out of time go again alone (see Queued.fail).
      const batchTimedOut = err instanceof TimeoutError && items.length > 1;
      for (const item of items.slice(answered)) item.fail(err, batchTimedOut);
    } finally {
      sent?.end();
    }
  }

  /**
   * Batches do not work with this server (`why`): the calls of the batch that was refused (none of
   * which ran) and those waiting go alone, and so does every call from now on.
   */
  private noBatches(b: Batching, items: Queued[], why: string): void {
    this.opts.debug?.(`${why}: one request per call from now on`);
    this.batchLimit = 0;
    this.batching = undefined;
    this.reads = undefined;
    for (const item of [...items, ...b.queue.splice(0)]) item.alone();
  }

  url(p: string, query?: Query): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.append(k, String(v));
    const s = qs.toString();
    return `${this.baseUrl}${p}${s ? `?${s}` : ''}`;
  }

  /**
   * One API call. Any 2xx is success; `{"error"}` is an error even on 200; a non-JSON body is
   * reported, never parsed blindly. Returns the parsed body (`undefined` for an empty one).
   */
  async call<T extends z.ZodType = z.ZodUnknown>(
    method: Dispatcher.HttpMethod,
    p: string,
    o: RequestOptions<T> = {},
  ): Promise<z.infer<T>> {
    if (this.stopped) throw this.refused();
    if (this.batching) return this.enqueue(this.batching, method, p, o);
    if (o.batch && this.batchSize() > 1) {
      this.reads ??= { max: this.batchLimit!, queue: [], scheduled: false, inFlight: 0 };
      return this.enqueue(this.reads, method, p, o);
    }
    return this.alone(method, p, o);
  }

  /**
   * One call in a request of its own, with retries of idempotent ones, and of any call the server
   * refused with 429 (`limited`: how many 429s it has had already, in a batch).
   */
  private async alone<T extends z.ZodType>(
    method: Dispatcher.HttpMethod,
    p: string,
    o: RequestOptions<T>,
    limited = 0,
  ): Promise<z.infer<T>> {
    const url = this.url(p, o.query);
    const idempotent = o.idempotent ?? method === 'GET';
    const retries = idempotent ? (this.opts.retries ?? 2) : 0;
    for (let attempt = 0; ; ) {
      try {
        return await this.once(method, url, p, o);
      } catch (err) {
        // Sent again once the server's wait is over (send() waits for the gate).
        if (err instanceof RateLimitedError && o.retryRateLimited !== false && this.slowDown(err, limited++))
          continue;
        if (!retryable(err) || attempt >= retries) throw err;
        const wait = 250 * 2 ** attempt++;
        this.opts.debug?.(`retrying ${method} ${p} in ${wait}ms (${(err as Error).message})`);
        await this.wait(wait);
      }
    }
  }

  private wait(ms: number): Promise<void> {
    if (this.opts.sleep) return this.opts.sleep(ms);
    return new Promise((end) => {
      const w = {
        timer: setTimeout(() => {
          this.waits.delete(w);
          end();
        }, ms),
        end,
      };
      this.waits.add(w);
    });
  }

  /** The error for a 429 answer, with the wait its Retry-After asked for. */
  private rateLimited(text: string, waitMs: number | undefined): RateLimitedError {
    return new RateLimitedError(
      `${describeBody(text)} (HTTP 429)`,
      waitMs,
      waitMs !== undefined
        ? `the server asks to wait ${longWait(waitMs)} before the next request`
        : `the server (or a proxy in front of it) limits the request rate; try again later, or with a lower --concurrency (now ${this.opts.connections})`,
    );
  }

  /**
   * A call was refused with 429 after being sent again `tries` times for earlier 429s. Returns false
   * when it should fail now (tried enough, or the server asks for more than RATE_WAIT_MAX_MS); else
   * closes the gate for the wait: what Retry-After said, or 1, 2, 4, 8 s, each ±25 % (so that
   * clients refused together do not return together). Every request waits at the gate (send()),
   * not only the refused one: the server asked this client to slow down, and the others would only
   * be refused too.
   */
  private slowDown(err: RateLimitedError, tries: number): boolean {
    if (tries >= (this.opts.rateRetries ?? RATE_RETRIES)) return false;
    if (err.retryAfterMs !== undefined && err.retryAfterMs > RATE_WAIT_MAX_MS) return false;
    // Retry-After: 0 (or a date already past) still waits a second: sent again at once, the
    // requests would only be refused again in a burst.
    const wait =
      err.retryAfterMs !== undefined
        ? Math.max(err.retryAfterMs, RATE_WAIT_MIN_MS)
        : Math.round(1000 * 2 ** tries * (0.75 + Math.random() / 2));
    if (!this.rateNoticed) {
      this.rateNoticed = true;
      this.opts.notice?.(
        `the server asks to slow down (HTTP 429): waiting and trying again; a lower --concurrency (now ${this.opts.connections}) sends fewer requests at once`,
      );
    }
    const until = Date.now() + wait;
    if (until > this.pausedUntil) {
      this.opts.debug?.(`HTTP 429: no request goes out for ${wait}ms`);
      this.pausedUntil = until;
      const gate: Promise<void> = this.wait(wait).then(() => {
        if (this.paused === gate) this.paused = undefined;
      });
      this.paused = gate;
    }
    return true;
  }

  private async once<T extends z.ZodType>(
    method: Dispatcher.HttpMethod,
    url: string,
    p: string,
    o: RequestOptions<T>,
  ): Promise<z.infer<T>> {
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const { res, x, started } = await this.send(
      method,
      url,
      body,
      'application/json',
      o.idempotent ?? method === 'GET',
    );
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw this.failure(x, err);
    } finally {
      x.end();
    }
    this.opts.debug?.(`← ${res.statusCode} ${method} ${p} ${(performance.now() - started).toFixed(0)}ms`);
    if (res.statusCode === 429) throw this.rateLimited(text, retryAfterMs(res.headers['retry-after']));
    if (
      o.serveOnly &&
      res.statusCode === 404 &&
      res.headers[BATCH_HEADER.toLowerCase()] === undefined &&
      this.serve !== true
    )
      throw this.notServe(`${method} ${p.split('?')[0]}`);
    if (this.batchLimit === undefined && res.statusCode >= 200 && res.statusCode < 300) {
      const h = res.headers[BATCH_HEADER.toLowerCase()];
      const n = Number(Array.isArray(h) ? h[0] : h);
      this.batchLimit = Number.isInteger(n) && n > 1 ? Math.min(n, 1000) : 0;
    }
    return this.interpret(res.statusCode, text, o.schema, o.parse, undefined, {
      headers: res.headers,
      url,
      idempotent: o.idempotent ?? method === 'GET',
    });
  }

  /**
   * Sends one request (a JSON body, if any) and waits for its headers; transport errors mapped.
   * The caller reads the body, then ends the exchange (`x.end()`).
   */
  private async send(
    method: Dispatcher.HttpMethod,
    url: string,
    body: string | undefined,
    accept: string,
    idempotent: boolean,
  ): Promise<{ res: Dispatcher.ResponseData; x: Exchange; started: number }> {
    while (this.paused) await this.paused;
    if (this.stopped) throw this.refused();
    const headers: Record<string, string> = { accept, 'user-agent': 'rdadmin' };
    if (this.opts.token) headers['authorization'] = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    // One deadline for the whole exchange, enforced here rather than by the dispatcher: undici's
    // headers/body timeouts only bound the gaps, and an injected dispatcher may not apply them.
    // The caller reads the body under the same deadline.
    const x = this.exchange(idempotent);
    const started = performance.now();
    this.opts.debug?.(`→ ${method} ${url.slice(this.baseUrl.length)}`);
    try {
      const res = await request(url, {
        method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: x.signal,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
      x.answering = true;
      return { res, x, started };
    } catch (err) {
      x.end();
      throw this.failure(x, err);
    }
  }

  /**
   * A redirect (not followed: a request sent again elsewhere could carry the token to another
   * host, and a POST turned into a GET): where it points, and the --url that would reach it.
   * Both without the credentials a Location may hold. Undefined without a usable Location.
   */
  private redirect(
    location: string | string[] | undefined,
    asked: string,
  ): { message: string; hint: string } | undefined {
    const loc = Array.isArray(location) ? location[0] : location;
    if (!loc) return undefined;
    let to: URL;
    try {
      to = new URL(loc, asked);
    } catch {
      return undefined;
    }
    if (to.protocol !== 'http:' && to.protocol !== 'https:') return undefined;
    to.username = '';
    to.password = '';
    const href = to.href;
    // The same request under another base (http→https, another host or path prefix): that base.
    const tail = asked.slice(this.baseUrl.length);
    const base = tail && href.endsWith(tail) ? href.slice(0, -tail.length).replace(/\/+$/, '') : undefined;
    return {
      message: `the server redirects to ${visible(shorten(href, 300))}; rdadmin does not follow redirects`,
      hint: base
        ? `if that is the console, use --url ${visible(base)} (or set it in RDADMIN_URL / the profile)`
        : `if the console has moved, use its new address as --url (or RDADMIN_URL / the profile)`,
    };
  }

  /** A request under way until end(): aborted by its deadline, or abandoned by interrupt(). */
  private exchange(idempotent: boolean): Exchange {
    const deadline = AbortSignal.timeout(this.opts.timeoutMs);
    const ctl = new AbortController();
    const onDeadline = () => ctl.abort(deadline.reason);
    deadline.addEventListener('abort', onDeadline, { once: true });
    const x: Exchange = {
      signal: ctl.signal,
      deadline,
      idempotent,
      abandon: (err) => {
        x.abandoned ??= err;
        ctl.abort(err);
      },
      end: () => {
        deadline.removeEventListener('abort', onDeadline);
        this.underWay.delete(x);
      },
    };
    this.underWay.add(x);
    return x;
  }

  /** What a request that failed under way fails with. */
  private failure(x: Exchange, err: unknown): Error {
    if (x.abandoned) return x.abandoned;
    return this.mapError(x.deadline.aborted ? x.deadline.reason : err, x.answering === true);
  }

  /** `answering`: the answer had begun (its headers were in) when the request failed. */
  private mapError(err: unknown, answering = false): Error {
    const code = errCode(err);
    const secs = this.opts.timeoutMs / 1000;
    if (TIMEOUT_CODES.has(code) || (err as Error)?.name === 'TimeoutError') {
      // Bytes were arriving: the server answered, slowly (a slow link, a long listing).
      return answering
        ? new TimeoutError(
            `the answer from ${this.shown} did not complete within ${secs}s`,
            'raise --timeout SECONDS: the answer was still arriving (a slow link, or a large answer)',
          )
        : new TimeoutError(
            `no answer from ${this.shown} within ${secs}s`,
            'raise --timeout SECONDS, or check that the server is not overloaded',
          );
    }
    // Its text may carry the server's (a certificate's names): on one line, controls escaped, and
    // the URL (should it name it) without its password.
    const raw = String(err instanceof Error ? err.message : err)
      .split(this.baseUrl)
      .join(this.shown);
    const message = visible(raw);
    const proxied = this.proxy && this.proxyError(err, code, message);
    if (proxied) return proxied;
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(message)) {
      // OpenSSL's words for an answer that is not TLS at all: a plain-HTTP server on that port.
      return new NetworkError(
        `TLS failure talking to ${this.shown}: the server does not answer TLS (plain HTTP on that port?)`,
        'TLS',
        'if the server has no TLS, use http:// in --url (or RDADMIN_URL / the profile)',
      );
    }
    if (TLS_CODE.test(code) || /certificate|self.signed|tls/i.test(message))
      return this.tlsError(err, code, raw);
    const what = NETWORK_CODES[code];
    if (BROKEN_OFF.has(code)) {
      // The server was reached: the request may have been applied, the answer is what got lost.
      return new NetworkError(
        `lost the connection to ${this.shown} before the answer came: ${what}`,
        code,
        'the server (or a proxy in front of it) closed the connection; check its log, then try again',
      );
    }
    if (what || code) {
      return new NetworkError(
        `cannot reach ${this.shown}: ${what ?? message}`,
        code,
        'check --url (or RDADMIN_URL / the profile) and that the server is running',
      );
    }
    if (err instanceof Error && err.name === 'InvalidArgumentError') {
      return new NetworkError(`invalid request to ${this.shown}: ${message}`, 'EINVAL');
    }
    return new NetworkError(`request to ${this.shown} failed: ${message}`);
  }

  /** A certificate that was not accepted: what is wrong with it, and what to do about that. */
  private tlsError(err: unknown, code: string, raw: string): NetworkError {
    const what = `TLS failure talking to ${this.shown}`;
    const insecure = '--insecure skips verification (not recommended)';
    if (code === 'CERT_HAS_EXPIRED') {
      return new NetworkError(
        `${what}: the server's certificate has expired`,
        'TLS',
        `the certificate must be renewed on the server (or the proxy in front of it); ${insecure}`,
      );
    }
    if (code === 'CERT_NOT_YET_VALID') {
      return new NetworkError(
        `${what}: the server's certificate is not valid yet`,
        'TLS',
        `check this machine's clock, and the certificate's start date; ${insecure}`,
      );
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      const e = err as { cert?: { subjectaltname?: string; subject?: { CN?: string } } };
      const names = e.cert?.subjectaltname ?? (e.cert?.subject?.CN ? `CN=${e.cert.subject.CN}` : undefined);
      const host = new URL(this.baseUrl).hostname;
      const dns = /DNS:([^,\s]+)/.exec(names ?? '')?.[1];
      return new NetworkError(
        `${what}: the certificate's names do not match ${visible(host)}${names ? ` (it is for ${visible(shorten(names, 150))})` : ''}`,
        'TLS',
        dns && !dns.includes('*')
          ? `use a name the certificate is for in --url (such as ${visible(new URL(this.baseUrl.replace(host, dns)).origin)}), or get a certificate for ${visible(host)}; ${insecure}`
          : `use a name the certificate is for in --url (or RDADMIN_URL / the profile), or get a certificate for ${visible(host)}; ${insecure}`,
      );
    }
    return new NetworkError(
      `${what}: ${visible(raw.split('\n')[0]!)}`,
      'TLS',
      this.opts.ca
        ? `the CA certificate from --ca (or RDADMIN_CA / the profile's ca) did not verify the server's certificate: check that it is the CA that signed it (PEM); ${insecure}`
        : `for a self-signed or private CA, pass --ca FILE (PEM); ${insecure}`,
    );
  }

  /**
   * A failure that lies with the forward proxy (HTTPS_PROXY, …) rather than the server: it could
   * not be reached, or it refused to pass the request on. The request never reached the server
   * (code EPROXY, or the connection error's own). Undefined for any other failure.
   */
  private proxyError(err: unknown, code: string, message: string): NetworkError | undefined {
    const proxy = this.proxy!;
    const named = `the proxy ${proxy.shown} (from ${proxy.from})`;
    const check = 'check HTTP(S)_PROXY / ALL_PROXY, and NO_PROXY for a server that is to be reached directly';
    // With a proxy every connection is to the proxy: one that fails to open is the proxy's.
    if (!BROKEN_OFF.has(code) && NETWORK_CODES[code]) {
      return new NetworkError(
        `cannot reach ${named}: ${NETWORK_CODES[code]} (for ${this.shown})`,
        code,
        `${check}; and that the proxy is running`,
      );
    }
    if (code === 'UND_ERR_PRX_TLS') {
      const cause = (err as { cause?: Error }).cause;
      return new NetworkError(
        `TLS failure talking to ${named}: ${visible(String(cause?.message ?? message).split('\n')[0]!)}`,
        'TLS',
        `the proxy's certificate is checked against the system's CAs (NODE_EXTRA_CA_CERTS=FILE adds one; --ca is for the server); ${check}`,
      );
    }
    // A CONNECT tunnel refused (undici: "Proxy response (407) !== 200 when HTTP Tunneling"), or a
    // plain proxy's 407 ("Proxy Authentication Required (407)").
    const m = /Proxy response \((\d+)\)|Proxy Authentication Required \((\d+)\)/.exec(message);
    if (!m) return undefined;
    const status = Number(m[1] ?? m[2]);
    const hasAuth = /^[a-z]+:\/\/[^/@]*@/i.test(proxy.uri);
    const why: Record<number, string> = {
      407: hasAuth
        ? `it did not accept the user name and password in ${proxy.from}`
        : 'it asks for a user name and password',
      403: 'it does not allow this connection',
    };
    return new NetworkError(
      `${named} refused to pass the request on to ${this.shown}: HTTP ${status}${why[status] ? `, ${why[status]}` : ''}`,
      'EPROXY',
      status === 407
        ? `give the proxy's user name and password in ${proxy.from} (http://USER:PASSWORD@HOST:PORT); ${check}`
        : status === 403
          ? `ask the proxy's administrator to allow ${visible(new URL(this.baseUrl).host)}; ${check}`
          : `the proxy could not reach the server: check --url and that the server is running; ${check}`,
    );
  }

  /**
   * Judges an answer: errors by status, then the body as JSON checked against `schema`. `json` is
   * a success's body already parsed (a batch's JSON answer); `text` is then not read. `http`: the
   * answer is an HTTP response (not a line of a batch's answer, which is the server's own for
   * sure): its headers, the URL asked, and whether the request was a read.
   */
  private interpret<T extends z.ZodType>(
    status: number,
    text: string,
    schema?: T,
    parse: (text: string) => unknown = JSON.parse,
    json?: { value: unknown },
    http?: { headers: Dispatcher.ResponseData['headers']; url: string; idempotent: boolean },
  ): z.infer<T> {
    const enc = http ? compression(http.headers, text) : undefined;
    if (status === 401) {
      throw new AuthError(
        `not authenticated: ${describeBody(text, enc)} (HTTP 401)`,
        401,
        'check the token: --token-file, RDADMIN_TOKEN, or `rdadmin login`',
      );
    }
    if (status === 403) {
      const body = describeBody(text, enc);
      throw new AuthError(
        `permission denied: ${body} (HTTP 403)`,
        403,
        // rdadmin serve's token and settings routes take an administrator's session only.
        /administrator's session/.test(body)
          ? 'log in as an administrator (`rdadmin login --username admin`) and run it with that profile'
          : this.proxy && http && !isJsonError(text)
            ? `not the server's answer (it answers JSON): the proxy ${this.proxy.shown} (from ${this.proxy.from}) may have refused the request; check HTTP(S)_PROXY / ALL_PROXY, and NO_PROXY for a server that is to be reached directly`
            : 'an API token needs the permission named above (`rdadmin tokens create --help`); a user session, the right in that area',
      );
    }
    if (status === 429) throw this.rateLimited(text, undefined);
    if (http && REDIRECT_STATUS.has(status)) {
      const moved = this.redirect(http.headers['location'], http.url);
      if (moved) throw new ApiError(`${moved.message} (HTTP ${status})`, status, moved.hint);
    }
    if (status < 200 || status >= 300) {
      const message = `${describeBody(text, enc)} (HTTP ${status})`;
      if (status >= 500) {
        if (http && (GATEWAY_STATUS.has(status) || !isJsonError(text))) {
          throw new GatewayError(
            message,
            status,
            http.idempotent
              ? 'the server (or a proxy in front of it) failed; check its log, then try again'
              : 'a proxy or gateway in front of the server answered in its place: the change may or may not have been made; check, then try again',
          );
        }
        throw new ApiError(
          message,
          status,
          'the server (or a proxy in front of it) failed; check its log, then try again',
        );
      }
      if (status === 404 && (/no such endpoint/.test(message) || !isJsonError(text))) {
        throw new ApiError(
          message,
          status,
          'check --url: it must be the RustDesk console (port 21114, with its path prefix if any); a server without this endpoint answers 404 too',
        );
      }
      throw new ApiError(message, status);
    }
    if (enc) {
      // A success the server sent, unreadable: what it did is not known.
      throw new GatewayError(
        `the server's answer (HTTP ${status}) cannot be read: ${describeBody(text, enc)}`,
        status,
        'a proxy in front of the server compresses answers that were not asked to be: configure it not to (rdadmin sends no Accept-Encoding), or point --url at the server itself',
      );
    }
    if (!json && !text.trim()) {
      // An empty answer is fine for an action; where data is expected it is a fault, not "nothing".
      if (schema && !schema.safeParse(undefined).success) {
        throw new ApiError(
          `the server answered HTTP ${status} with an empty body where data was expected`,
          status,
          'is --url the RustDesk console (port 21114), and not a proxy or web page?',
        );
      }
      return undefined as z.infer<T>;
    }
    let value: unknown;
    if (json) value = json.value;
    else {
      try {
        value = parse(text);
      } catch {
        throw new ApiError(
          `the server answered HTTP ${status} with a body that is not JSON: ${describeBody(text)}`,
          status,
          'is --url the RustDesk console (port 21114), and not a proxy or web page?',
        );
      }
    }
    if (value && typeof value === 'object' && !Array.isArray(value) && 'error' in value) {
      const e = (value as { error: unknown }).error;
      if (e !== null && e !== undefined && e !== '') {
        const message = visible(typeof e === 'string' ? e : JSON.stringify(e));
        // Pro refuses for want of permission with a 200 `{"error": "Permission denied"}`: a 403 in
        // all but the status (exit 4; a bulk run stops). Other refusals stay what they are.
        if (status === 200 && typeof e === 'string' && PERMISSION_DENIED.test(e))
          throw new AuthError(message, 200, PERMISSION_HINT);
        throw new ErrorAnswer(message, status);
      }
    }
    if (!schema) return value as z.infer<T>;
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError(
        `unexpected answer from the server: ${visible(`${issue?.path.join('.') || 'body'} ${issue?.message ?? 'is invalid'}`)}`,
        status,
      );
    }
    return parsed.data;
  }
}
