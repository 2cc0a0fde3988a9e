import { isIP } from 'node:net';
import type { Context } from 'hono';
import { allows, type Permissions } from '../wire/scopes';
import type { AppDeps, AppEnv, Principal } from './context';
import { hashToken } from './crypto';
import { HttpError } from './http';
import type { Access } from './routes';

const TOUCH_INTERVAL_MS = 60_000;

/**
 * A session unused this long has expired (its last use is recorded at most a minute late). A
 * RustDesk client uses its session whenever it syncs its address book or asks who is logged in,
 * an administrator's `rdadmin login` profile with every command; a session forgotten in a config
 * file or a client that is never started again does not stay a way in for good.
 */
export const SESSION_IDLE_DAYS = 30;
export const SESSION_IDLE_MS = SESSION_IDLE_DAYS * 86_400_000;

function bearer(c: Context<AppEnv>): string | undefined {
  const header = c.req.header('authorization');
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!m) throw new HttpError(401, "malformed Authorization header: expected 'Bearer <token>'");
  return m[1];
}

async function principalFor(deps: AppDeps, token: string): Promise<Principal> {
  const { store } = deps;
  const hash = hashToken(token);
  const now = deps.clock();
  if (token.startsWith('rds_')) {
    const { session, user } = await store.auth.sessionAndUser(hash);
    if (!session)
      throw new HttpError(401, 'session is not valid (expired, logged out or revoked): log in again');
    if (user?.status !== 1) throw new HttpError(401, 'the session user is disabled or gone: log in again');
    const idleMs = now.getTime() - Date.parse(session.last_used_at);
    if (idleMs > SESSION_IDLE_MS) {
      await store.auth.deleteSession(hash);
      throw new HttpError(
        401,
        `session expired: unused for more than ${SESSION_IDLE_DAYS} days; log in again`,
      );
    }
    if (idleMs > TOUCH_INTERVAL_MS) await store.auth.touchSession(hash);
    return { kind: 'session', user, sessionHash: hash };
  }
  const { token: row, user } = await store.auth.tokenAndOwner(hash);
  if (!row) throw new HttpError(401, 'invalid token');
  if (row.revoked_at) throw new HttpError(401, `token '${row.name}' has been revoked`);
  if (row.expires_at && Date.parse(row.expires_at) <= now.getTime()) {
    throw new HttpError(401, `token '${row.name}' expired at ${row.expires_at}`);
  }
  if (user?.status !== 1 || !user.is_admin) {
    throw new HttpError(
      401,
      `token '${row.name}' belongs to a user who is no longer an enabled administrator`,
    );
  }
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > TOUCH_INTERVAL_MS) {
    await store.auth.touchToken(row.guid);
  }
  return {
    kind: 'token',
    user,
    permissions: JSON.parse(row.permissions) as Permissions,
    tokenName: row.name,
  };
}

/** Resolves the caller and enforces the route's declared access; returns the principal (if any). */
export async function authorize(
  deps: AppDeps,
  c: Context<AppEnv>,
  access: Access,
): Promise<Principal | undefined> {
  if (access === 'public') {
    // Client endpoints may still carry a token (e.g. a logged-in client); it is optional here.
    return undefined;
  }
  const token = bearer(c);
  if (!token) throw new HttpError(401, 'missing bearer token: send Authorization: Bearer <token>');
  const p = await principalFor(deps, token);
  if (access === 'authenticated') return p;
  if (access === 'session') {
    if (p.kind !== 'session')
      throw new HttpError(403, 'this endpoint needs a user session (from /api/login), not an API token');
    return p;
  }
  if (access === 'admin-session') {
    if (p.kind !== 'session') {
      throw new HttpError(
        403,
        "this endpoint needs an administrator's session (rdadmin login), not an API token",
      );
    }
    if (!p.user.is_admin) throw new HttpError(403, 'administrator rights required');
    return p;
  }
  if (p.kind === 'session') {
    if (p.user.is_admin || access.allowUserSession) return p;
    throw new HttpError(403, 'administrator rights required');
  }
  const granted = p.permissions?.[access.area] ?? 'none';
  if (!allows(granted, access.level)) {
    throw new HttpError(
      403,
      `token '${p.tokenName}' lacks permission ${access.area}:${access.level} (it has ${access.area}:${granted})`,
    );
  }
  return p;
}

export function clientIp(c: Context<AppEnv>): string {
  return c.get('forwardedFor') ?? c.env?.incoming?.socket?.remoteAddress ?? '';
}

/**
 * The address a trusted reverse proxy says the request came from: the last entry of
 * X-Forwarded-For, which that proxy appended (entries before it are whatever the client sent, and
 * are not believed). Undefined when there is none or it is not an IP address.
 */
export function forwardedFor(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const last = header.slice(header.lastIndexOf(',') + 1).trim();
  return isIP(last) ? last : undefined;
}

/** The last entry of a comma-separated forwarding header (the one the trusted proxy set). */
function lastEntry(header: string | undefined): string | undefined {
  const v = header?.slice(header.lastIndexOf(',') + 1).trim();
  return v || undefined;
}

/**
 * A host or a bracketed IPv6 address, with an optional port, that makes a URL (not `a:99999`, nor
 * `999.999.999.999`, which the URL parser refuses).
 */
function plainAuthority(host: string): boolean {
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return false;
  try {
    new URL(`http://${host}/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The base URL of links the server hands out (invitations): `serve --public-url` when given;
 * behind a trusted reverse proxy (--trust-proxy) the address the client used, from
 * X-Forwarded-Proto, X-Forwarded-Host (else Host) and X-Forwarded-Prefix (a console proxied
 * under a sub-path); otherwise the address the request reached. A forwarded value that is not
 * a plain scheme, host or path is ignored.
 */
export function publicBase(
  c: Context<AppEnv>,
  config: { publicUrl?: string | undefined; trustProxy?: boolean | undefined },
): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const url = new URL(c.req.url);
  if (!config.trustProxy) return url.origin;
  const proto = lastEntry(c.req.header('x-forwarded-proto'))?.toLowerCase();
  const host = lastEntry(c.req.header('x-forwarded-host')) ?? c.req.header('host');
  const prefix = lastEntry(c.req.header('x-forwarded-prefix'))?.replace(/\/+$/, '') ?? '';
  const scheme = proto === 'http' || proto === 'https' ? proto : url.protocol.slice(0, -1);
  const authority = host && plainAuthority(host) ? host : url.host;
  const path = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/.test(prefix) ? prefix : '';
  return `${scheme}://${authority}${path}`;
}
