import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { BATCH_HEADER, BATCH_MAX_REQUESTS } from '../wire/batch';
import { forwardedFor } from './auth';
import type { AppDeps, AppEnv } from './context';
import { SECURITY_HEADERS } from './headers';
import { HttpError } from './http';
import { loggedError, loggedPath, logSafe } from './line-log';
import { RouteTable } from './routes';
import { registerAddressBookRoutes } from './routes/address-books';
import { registerAuditRoutes } from './routes/audits';
import { registerAuthRoutes } from './routes/auth';
import { registerBatchRoutes } from './routes/batch';
import { registerDeviceRoutes } from './routes/devices';
import { registerGroupRoutes } from './routes/groups';
import { registerHomeRoute } from './routes/home';
import { registerOpenApiRoute } from './routes/openapi';
import { registerSettingsRoutes } from './routes/settings';
import { registerStrategyRoutes } from './routes/strategies';
import { registerUserRoutes } from './routes/users';
import { constraintViolation } from './store/db';

export const SERVER_VERSION = '0.1.0';

const CONFLICT = {
  unique:
    'conflict: the name (or ID) is already taken: another request created it at the same moment; nothing was changed',
  reference:
    'conflict: a record this change refers to was changed or removed at the same moment; nothing was changed, try again',
} as const;

/**
 * Inside a batch, the JSON text of an answer made by `c.json()` is kept beside its Response, so the
 * batch writes it without materialising that Response and reading its body stream (about an
 * eighth of the server's time per request inside a batch). Keyed by the Response object itself:
 * a response replaced or built otherwise is not found there and is read the ordinary way.
 */
function keepJsonAnswers(c: Context<AppEnv>, answers: WeakMap<Response, string>): void {
  const body = c.body as (text: string, arg?: unknown, headers?: Record<string, string>) => Response;
  // What c.json() does (its text, status and headers, application/json unless the headers name a
  // type), with the text made once and kept.
  c.json = ((object: unknown, arg?: unknown, headers?: Record<string, string>) => {
    const text = JSON.stringify(object);
    const res = body(text, arg, headers ? { ...JSON_TYPE, ...headers } : JSON_TYPE);
    answers.set(res, text);
    return res;
  }) as typeof c.json;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Sent with every answer: the security headers, and the batch size (a client learns that this
 * server takes batches without asking). */
const ANSWER_HEADERS: [string, string][] = [
  ...Object.entries(SECURITY_HEADERS),
  [BATCH_HEADER, String(BATCH_MAX_REQUESTS)],
];

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const requestLog = deps.config.requestLog ?? 'all';

  app.use(async (c, next) => {
    const started = performance.now();
    if (c.env?.batch) keepJsonAnswers(c, c.env.batch.answers);
    // Inside a batch the connection's address is already the one resolved for the batch.
    else if (deps.config.trustProxy) c.set('forwardedFor', forwardedFor(c.req.header('x-forwarded-for')));
    // The headers every answer carries go on Node's response before anything is written: Node
    // sends them with whatever the answer sets (theirs win). Set on the Response instead, they made
    // Hono and the Node adapter build web Headers objects for every answer (a tenth of a small
    // request's time). Inside a batch there is no Node response: only status and body go back.
    const out = c.env?.outgoing;
    if (out && !out.headersSent) for (const [k, v] of ANSWER_HEADERS) out.setHeader(k, v);
    await next();
    if (requestLog === 'none' || (requestLog === 'errors' && c.res.status < 400)) return;
    const ms = (performance.now() - started).toFixed(1);
    deps.log(
      `${c.env?.batch ? '(batch) ' : ''}${c.req.method} ${loggedPath(c.req.path)} ${c.res.status} ${ms}ms`,
    );
  });

  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.message }, err.status);
    if (err instanceof HTTPException) {
      const status = err.status >= 400 && err.status < 500 ? err.status : 400;
      return c.json({ error: err.message || 'bad request' }, status as 400);
    }
    const conflict = constraintViolation(err);
    if (conflict) {
      // Check-then-write races between concurrent requests end here, not in a 500.
      deps.log(
        `conflict on ${c.req.method} ${loggedPath(c.req.path)}: ${logSafe(String((err as Error).message))}`,
      );
      return c.json({ error: CONFLICT[conflict] }, 409);
    }
    if ((err as { code?: unknown }).code === 'SQLITE_FULL') {
      // The transaction was rolled back: nothing of the request was kept.
      deps.log(`disk full on ${c.req.method} ${loggedPath(c.req.path)}: ${loggedError(err)}`);
      c.header('retry-after', '60');
      return c.json({ error: "the server's disk is full: nothing was changed; try again later" }, 503);
    }
    deps.log(`internal error on ${c.req.method} ${loggedPath(c.req.path)}: ${loggedError(err)}`);
    return c.json({ error: 'internal server error' }, 500);
  });

  app.notFound((c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  const routes = new RouteTable(app, deps);
  registerAuthRoutes(routes, deps);
  registerUserRoutes(routes, deps);
  registerGroupRoutes(routes, deps);
  registerDeviceRoutes(routes, deps);
  registerSettingsRoutes(routes, deps);
  registerStrategyRoutes(routes, deps);
  registerAddressBookRoutes(routes, deps);
  registerAuditRoutes(routes, deps);
  registerBatchRoutes(routes, deps);
  registerOpenApiRoute(routes, SERVER_VERSION);
  registerHomeRoute(routes, deps);

  return { app, routes: routes.specs };
}
