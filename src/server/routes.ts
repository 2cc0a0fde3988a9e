import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { Area } from '../wire/scopes';
import { authorize } from './auth';
import type { AppDeps, AppEnv } from './context';
import { HttpError } from './http';

/**
 * Who may call a route:
 * - `public`: anyone (client endpoints, login);
 * - `session`: any logged-in user session;
 * - `admin-session`: an administrator's session, never an API token (token management);
 * - `authenticated`: any valid session or API token, whatever its permissions (the batch route,
 *   whose requests are each authorized on their own);
 * - `{area, level}`: an API token with at least that level in the area, or an administrator's session.
 *   `allowUserSession` lets non-admin sessions in as well (the handler then limits what they see).
 */
export type Access =
  | 'public'
  | 'session'
  | 'admin-session'
  | 'authenticated'
  | { area: Area; level: 'r' | 'rw'; allowUserSession?: boolean };

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  summary: string;
  access: Access;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
  response?: z.ZodType;
  /** Describes a non-JSON answer (plain text, unless `responseMedia` names another type). */
  responseText?: string;
  /** The media type of a non-JSON answer (`text/plain` when omitted). */
  responseMedia?: string;
  /**
   * The error text of every 401 of this route, for a client that acts on that exact text; the
   * reason goes to the `WWW-Authenticate` header (RFC 6750 `error_description`) instead.
   */
  unauthorized?: string;
}

/** A text as an RFC 6750 quoted `error_description`: printable ASCII without `"` and `\`. */
function descriptionText(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

export type Handler = (c: Context<AppEnv>) => Response | Promise<Response>;

/** Collects route specs (for the OpenAPI document and the authorization tests) while registering them. */
export class RouteTable {
  readonly specs: RouteSpec[] = [];
  constructor(
    private readonly app: Hono<AppEnv>,
    private readonly deps: AppDeps,
  ) {}

  add(spec: RouteSpec, handler: Handler): void {
    this.specs.push(spec);
    const honoPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    this.app.on(spec.method, honoPath, async (c) => {
      c.set('route', spec);
      if (c.env?.batch && typeof spec.access !== 'object') {
        throw new HttpError(
          400,
          `${spec.method} ${spec.path} cannot be part of a batch: a batch holds admin API requests only`,
        );
      }
      c.set('principal', await this.authorize(spec, c));
      return handler(c);
    });
  }

  private async authorize(spec: RouteSpec, c: Context<AppEnv>) {
    if (spec.unauthorized === undefined) return authorize(this.deps, c, spec.access);
    try {
      return await authorize(this.deps, c, spec.access);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 401) throw err;
      c.header(
        'WWW-Authenticate',
        `Bearer error="invalid_token", error_description="${descriptionText(err.message)}"`,
      );
      throw new HttpError(401, spec.unauthorized);
    }
  }

  /** Runs one request through the app, as if it had arrived on its own (the batch route). */
  dispatch(request: Request, env: AppEnv['Bindings']): Response | Promise<Response> {
    return this.app.fetch(request, env);
  }
}
