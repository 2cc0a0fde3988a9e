import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { BatchItemEnv } from './context';

/** A business error: always a 4xx with `{"error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 408 | 409 | 413 | 415 | 422 | 429,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_BODY_BYTES = 1024 * 1024;

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let v = value;
  for (const k of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function describeIssues(error: z.ZodError, where: string, value: unknown): string {
  const parts = error.issues.slice(0, 5).map((i) => {
    const path = i.path.length ? i.path.map(String).join('.') : '';
    if (i.code === 'unrecognized_keys') return `${where} has unknown field(s): ${i.keys.join(', ')}`;
    if (i.code === 'invalid_type' && path && valueAt(value, i.path) === undefined) {
      return `${where} field '${path}' is required`;
    }
    // A schema's own error ('must be a string') also stands for its length checks that have no
    // message of their own: name the limit instead.
    const message =
      i.message !== 'must be a string'
        ? i.message
        : i.code === 'too_big'
          ? `must be at most ${String(i.maximum)} characters`
          : i.code === 'too_small'
            ? `must be at least ${String(i.minimum)} characters`
            : i.message;
    return path ? `${where} field '${path}' ${message}` : `${where} ${message}`;
  });
  return parts.join('; ');
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, describeIssues(r.error, where, value));
  return r.data;
}

/**
 * Reads and validates a JSON body. A missing body is treated as `null` (so "required" errors name it).
 * Every string in it must be well-formed Unicode, unless `textInside` (a batch: the request bodies
 * it holds are checked as each request reads its own, so one bad body fails only that request).
 */
export async function readBody<T extends z.ZodType>(
  c: Context,
  schema: T,
  o: { textInside?: boolean } = {},
): Promise<z.infer<T>> {
  const text = await readText(c);
  let value: unknown = null;
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'request body is not valid JSON');
    }
    if (!o.textInside) checkWellFormed(value, text, 'request body');
  }
  if (value === null) throw new HttpError(400, 'request body is required (a JSON value)');
  return parseWith(schema, value, 'request body');
}

/**
 * A `\uD800`–`\uDFFF` escape in JSON text: only such an escape can make JSON.parse produce a lone
 * surrogate (the text itself is well-formed, as decodeUtf8 made it), so other texts skip the walk.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Refuses a parsed JSON value holding a string (a value or a field name) that is not well-formed
 * Unicode: a lone surrogate escape such as `"\ud800"`. Stored, it would come back as U+FFFD (in
 * SQLite, in UTF-8 answers), so two different names or passwords would become one.
 * `text` is the JSON text `value` was parsed from.
 */
export function checkWellFormed(value: unknown, text: string, where: string): void {
  if (!SURROGATE_ESCAPE.test(text)) return;
  // Iterative, and each step keeps only its parent and key: the nesting depth is the client's to
  // choose, and a field's path is spelled out only for the error.
  const todo: Step[] = [{ v: value }];
  for (let step = todo.pop(); step; step = todo.pop()) {
    const { v } = step;
    if (typeof v === 'string') {
      if (!isWellFormed(v)) throw new HttpError(400, `${fieldAt(where, step)} ${NOT_UNICODE}`);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) todo.push({ v: v[i], parent: step, key: String(i) });
    } else if (v !== null && typeof v === 'object') {
      for (const [key, x] of Object.entries(v)) {
        if (!isWellFormed(key))
          throw new HttpError(400, `${fieldAt(where, step)} has a field name that ${NOT_UNICODE}`);
        todo.push({ v: x, parent: step, key });
      }
    }
  }
}

interface Step {
  v: unknown;
  parent?: Step;
  key?: string;
}

/** `request body field 'a.b.0'`, the path cut short when it is deep. */
function fieldAt(where: string, step: Step): string {
  const keys: string[] = [];
  for (let s: Step | undefined = step; s?.key !== undefined; s = s.parent) keys.push(s.key);
  if (!keys.length) return where;
  const path = keys.reverse().join('.');
  return `${where} field '${path.length > 200 ? `${path.slice(0, 200)}…` : path}'`;
}

const NOT_UNICODE =
  'is not valid Unicode text: it holds a lone surrogate (a \\uD800-\\uDFFF code unit not in a pair)';

/**
 * UTF-8 bytes as text, strictly: invalid bytes are refused, not turned into U+FFFD (eight different
 * invalid bytes would otherwise be one password, or the same name as eight U+FFFD). A leading BOM
 * stays in the text, as before (JSON.parse refuses it).
 */
function decodeUtf8(bytes: Buffer): string {
  if (!isUtf8(bytes)) throw new HttpError(400, 'the request body is not valid UTF-8');
  return bytes.toString('utf8');
}

/**
 * Reads the request body as text, at most MAX_BODY_BYTES: a larger declared length is refused at
 * once, and a body without a length (chunked) is counted while it streams in, so an endless body
 * is cut off at the limit instead of being buffered. The rest of an over-long body is discarded by
 * Node after the answer.
 */
export async function readText(c: Context): Promise<string> {
  const batched = (c.env as { batch?: BatchItemEnv } | undefined)?.batch;
  if (batched) {
    // The text a batch holds for this request: as strict as bytes sent alone.
    if (!isWellFormed(batched.body)) throw new HttpError(400, `request body ${NOT_UNICODE}`);
    return batched.body;
  }
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && typeof incoming.on === 'function') return decodeUtf8(await readIncoming(incoming));
  const stream = c.req.raw.body;
  if (!stream) return '';
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let step: Awaited<ReturnType<typeof reader.read>>;
    try {
      step = await reader.read();
    } catch {
      throw new HttpError(400, 'the request body could not be read: the connection broke off');
    }
    if (step.done) break;
    size += step.value.byteLength;
    if (size > MAX_BODY_BYTES) {
      reader.releaseLock();
      throw tooLarge();
    }
    chunks.push(step.value);
  }
  return decodeUtf8(Buffer.concat(chunks));
}

/**
 * Connections Node cut off because their request did not arrive within the request timeout
 * (serve.ts answers them 408): a route still reading that request's body fails with 408 too, so
 * the request log shows what the client was told.
 */
export const timedOut = new WeakSet<object>();
export const REQUEST_TIMED_OUT = 'the request did not arrive in time';

/**
 * The body straight from Node's request stream. Going through the web `Request` that Hono's Node
 * adapter builds on demand (a ReadableStream, an AbortSignal, undici's header checks) cost more
 * than the rest of a small route.
 */
function readIncoming(incoming: IncomingMessage): Promise<Buffer> {
  if (incoming.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (fn: () => void) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onBroken);
      incoming.off('close', onClose);
      fn();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) done(() => reject(tooLarge()));
      else chunks.push(chunk);
    };
    const onEnd = () => done(() => resolve(Buffer.concat(chunks, size)));
    const onBroken = () =>
      done(() =>
        reject(
          timedOut.has(incoming.socket)
            ? new HttpError(408, REQUEST_TIMED_OUT)
            : new HttpError(400, 'the request body could not be read: the connection broke off'),
        ),
      );
    const onClose = () => {
      if (!incoming.complete) onBroken();
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onBroken);
    incoming.on('close', onClose);
  });
}

function tooLarge(): HttpError {
  return new HttpError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`);
}

export function readQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  return parseWith(schema, c.req.query(), 'query parameter');
}
