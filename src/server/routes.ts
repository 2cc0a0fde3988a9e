import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { Area } from '../wire/scopes';
import { authorize } from './auth';
import type { AppDeps, AppEnv } from './context';

/**
 * Who may call a route:
 * - `public`: anyone (client endpoints, login);
 * - `session`: any logged-in user session;
 * - `admin-session`: an administrator's session, never an API token (token management);
 * - `{area, level}`: an API token with at least that level in the area, or an administrator's session.
 *   `allowUserSession` lets non-admin sessions in as well (the handler then limits what they see).
 */
export type Access =
  | 'public'
  | 'session'
  | 'admin-session'
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
  /** Describes a non-JSON answer (plain text). */
  responseText?: string;
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
      c.set('principal', await authorize(this.deps, c, spec.access));
      return handler(c);
    });
  }
}
