import { BATCH_MAX_REQUESTS, BATCH_PATH, BatchBody, BatchLimits } from '../../wire/batch';
import { clientIp, publicBase } from '../auth';
import type { AppDeps } from '../context';
import { readBody } from '../http';
import type { RouteTable } from '../routes';

/** The Accept parameter of a client that reads JSON answers as JSON values (BATCH_ACCEPT_JSON). */
const ANSWERS_JSON = /;\s*answers=json\b/i;

/**
 * A batch runs at most about this long (milliseconds) in one turn of the event loop before other
 * clients get their turn: by time, not by count, since one request inside may take 20 ms (a page
 * of 1,000 devices) and another 0.2 ms (a disable).
 */
const YIELD_AFTER_MS = 3;

/**
 * Bulk work in one round trip: rdadmin's own addition, not part of Pro's API (against Pro, rdadmin
 * sends one request per target). Each request inside runs through the same router, authorization,
 * validation and audit trail as if it had been sent alone, with the batch's credentials and client
 * address, one after another in order; one failing does not stop the others, and nothing is rolled
 * back (a batch is not a transaction).
 */
export function registerBatchRoutes(r: RouteTable, deps: AppDeps): void {
  r.add(
    {
      method: 'GET',
      path: BATCH_PATH,
      tag: 'batch',
      summary:
        "rdadmin's own: whether this server takes batches, and how many requests one may hold. Not in Pro (a client falls back to one request per target on a 404).",
      access: 'authenticated',
      response: BatchLimits,
    },
    (c) => c.json({ max_requests: BATCH_MAX_REQUESTS }),
  );
  r.add(
    {
      method: 'POST',
      path: BATCH_PATH,
      tag: 'batch',
      summary: `rdadmin's own: runs up to ${BATCH_MAX_REQUESTS} admin API requests (\`{"requests": [{"method", "path", "body"?}]}\`, the body as text) one after another, each exactly as if sent alone (its own authorization, validation, transaction and console record), and answers each one's status and body (as text) in order. A failure does not stop the rest; nothing is rolled back. Login, session, token-management and settings routes, client endpoints and batches cannot be inside a batch (400 for that request).`,
      access: 'authenticated',
      body: BatchBody,
      responseText:
        'NDJSON (application/x-ndjson): one line `{"status", "body"}` per request, in order, each written as soon as that request is done (the body as text). With `Accept: application/x-ndjson; answers=json`, an answer whose body is a JSON document comes as `{"status", "json"}` (the document itself) instead. A batch whose client goes away stops before its next request.',
    },
    async (c) => {
      // The schema leaves free text only in the bodies, and each request checks its own.
      const { requests } = await readBody(c, BatchBody, { textInside: true });
      const authorization = c.req.header('authorization') ?? '';
      const incoming = { socket: { remoteAddress: clientIp(c) } };
      const origin = new URL(c.req.url).origin;
      const base = publicBase(c, deps.config);
      const answers = new WeakMap<Response, string>();
      const asJson = ANSWERS_JSON.test(c.req.header('accept') ?? '');
      const encoder = new TextEncoder();
      let next = 0;
      let since = performance.now();
      // Pulled one request at a time: the next one starts only once the answer before it has been
      // handed to the connection, and not at all once the client has gone.
      const lines = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (next >= requests.length) return controller.close();
            if (performance.now() - since >= YIELD_AFTER_MS) {
              await new Promise((resolve) => setImmediate(resolve));
              since = performance.now();
            }
            const item = requests[next++]!;
            const headers: Record<string, string> = { authorization, accept: 'application/json' };
            if (item.body !== undefined) headers['content-type'] = 'application/json';
            // item.path is an absolute path of printable ASCII (BatchBody checked it).
            const request = new Request(origin + item.path, { method: item.method, headers });
            const res = await r.dispatch(request, {
              incoming,
              batch: { body: item.body ?? '', answers, base },
            });
            const kept = answers.get(res);
            // A kept answer is the text JSON.stringify() made: a JSON document on one line.
            const line =
              asJson && typeof kept === 'string'
                ? `{"status":${res.status},"json":${kept}}\n`
                : `${JSON.stringify({ status: res.status, body: kept ?? (await res.text()) })}\n`;
            controller.enqueue(encoder.encode(line));
          },
        },
        { highWaterMark: 0 },
      );
      return c.body(lines, 200, { 'content-type': 'application/x-ndjson' });
    },
  );
}
