import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { BatchItemEnv } from './context';

/** A business error: always a 4xx with `{"error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429,
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
    return path ? `${where} field '${path}' ${i.message}` : `${where} ${i.message}`;
  });
  return parts.join('; ');
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, describeIssues(r.error, where, value));
  return r.data;
}

/** Reads and validates a JSON body. A missing body is treated as `null` (so "required" errors name it). */
export async function readBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = await readText(c);
  let value: unknown = null;
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'request body is not valid JSON');
    }
  }
  if (value === null) throw new HttpError(400, 'request body is required (a JSON value)');
  return parseWith(schema, value, 'request body');
}

/**
 * Reads the request body as text, at most MAX_BODY_BYTES: a larger declared length is refused at
 * once, and a body without a length (chunked) is counted while it streams in, so an endless body
 * is cut off at the limit instead of being buffered. The rest of an over-long body is discarded by
 * Node after the answer.
 */
export async function readText(c: Context): Promise<string> {
  const batched = (c.env as { batch?: BatchItemEnv } | undefined)?.batch;
  if (batched) return batched.body;
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  // Like Request.text(): invalid UTF-8 becomes U+FFFD.
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && typeof incoming.on === 'function') return (await readIncoming(incoming)).toString('utf8');
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
  return new TextDecoder().decode(Buffer.concat(chunks));
}

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
      done(() => reject(new HttpError(400, 'the request body could not be read: the connection broke off')));
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
