import { z } from 'zod';

/** Most requests one batch may hold (`GET /api/rdadmin/batch` reports it). */
export const BATCH_MAX_REQUESTS = 100;

export const BATCH_PATH = '/api/rdadmin/batch';

/** Sent with every answer of a server that takes batches: the most requests one may hold. */
export const BATCH_HEADER = 'X-Rdadmin-Batch';

export const BatchRequestItem = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], {
      error: 'must be one of GET, POST, PUT, PATCH, DELETE',
    }),
    path: z
      .string()
      .max(4096)
      .regex(/^\/api\/[\x21-\x7e]*$/, {
        error: 'must be an /api/ path (with its query string), printable ASCII, percent-encoded',
      }),
    /** The request body as text (JSON), as it would be sent alone. */
    body: z.string({ error: 'must be the request body as text (a JSON document in a string)' }).optional(),
  })
  .strict();

export const BatchBody = z
  .object({
    requests: z
      .array(BatchRequestItem)
      .min(1, { error: 'must hold at least one request' })
      .max(BATCH_MAX_REQUESTS, { error: `must hold at most ${BATCH_MAX_REQUESTS} requests` }),
  })
  .strict();

/**
 * The answer to a batch is NDJSON: one line per request, in order, written as soon as that request
 * is done, holding its status and its body as text (as if it had been sent alone). A client that
 * loses the connection knows exactly which requests were answered.
 */
export const BatchAnswerLine = z.object({ status: z.number().int(), body: z.string() });

/**
 * The Accept value of a client that reads JSON answers as JSON values: an answer whose body is a
 * JSON document (made by the server's JSON writer) then comes as `{"status", "json"}`, the
 * document itself, instead of its text in `body` (a JSON string inside JSON: escaped by the server,
 * unescaped by the client, then parsed). Other answers keep `body`. A server that does not know
 * the parameter answers `body` every time, which the client also reads.
 */
export const BATCH_ACCEPT_JSON = 'application/x-ndjson; answers=json';

export const BatchLimits = z.looseObject({ max_requests: z.number().int().positive() });
