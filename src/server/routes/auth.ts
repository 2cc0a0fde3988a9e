import type { Context } from 'hono';
import { z } from 'zod';
import {
  CreateTokenBody,
  LoginBody,
  LoginResult,
  TokenCreated,
  TokenRow,
  UserPayload,
} from '../../wire/auth';
import { listOf } from '../../wire/common';
import { formatPermissions, noPermissions, type Permissions } from '../../wire/scopes';
import { UserStatus } from '../../wire/users';
import { changeRecorded } from '../audit-log';
import { clientIp } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { checkPassword, hashToken, newSecret } from '../crypto';
import { HttpError, readBody, readText } from '../http';
import { loggedError, logSafe } from '../line-log';
import { LOGIN_LIMITS, LoginGuard } from '../login-guard';
import type { RouteTable } from '../routes';
import { ConsoleOp, ConsoleType } from '../store/audit';
import { fold } from '../store/like';
import type { UserRecord } from '../store/users';

function payload(u: UserRecord) {
  return {
    name: u.name,
    display_name: u.display_name,
    email: u.email,
    note: u.note,
    status: u.status,
    is_admin: u.is_admin === 1,
    info: { email_verification: u.email_verification === 1, email_alarm_notification: false, other: {} },
  };
}

export function registerAuthRoutes(r: RouteTable, deps: AppDeps): void {
  const { store } = deps;

  /**
   * A RustDesk client's login assigns its device to the user who logs in (server-model §1.4,
   * "logging into that account on the device"; the client sends its `id` and `uuid`). Only a
   * registered device whose uuid is the one sent (a registered device keeps its uuid, as at its
   * heartbeat: a machine that only knows the ID cannot claim it), and only while it has no user: the
   * spec does not say that a login takes a device from the user it is assigned to, so it stays
   * theirs. Recorded in the console log; a failure never fails the login.
   */
  async function assignOnLogin(
    c: Context<AppEnv>,
    user: UserRecord,
    id: string,
    uuid: string,
  ): Promise<void> {
    try {
      await changeRecorded(
        deps,
        c,
        ConsoleType.device,
        ConsoleOp.updateDevice,
        async (tx) => {
          const device = await tx.devices.getById(id);
          if (!device || device.uuid === '' || device.uuid !== uuid || device.user_guid !== null)
            return false;
          // Not through assign(): that takes the user by name, where '-' means "unassign".
          return (await tx.devices.update([device.guid], { user_guid: user.guid })) > 0;
        },
        (done) => (done ? `device ${id}: assigned to user '${user.name}' (login on the device)` : []),
      );
    } catch (err) {
      deps.log(
        `${logSafe(`login of '${user.name}' on device ${id}: device not assigned: `)}${loggedError(err)}`,
      );
    }
  }
  const guard = new LoginGuard(
    deps.clock,
    { ...LOGIN_LIMITS, ...deps.config.loginLimits },
    store.loginThrottle,
  );

  r.add(
    {
      method: 'POST',
      path: '/api/login',
      tag: 'auth',
      summary:
        "Log in with a user name and password (Pro's client shape). Answers a session token. Repeated failures per account or client IP are throttled (429, `Retry-After`) and raise login alarms (types 3, 4, 5).",
      access: 'public',
      body: LoginBody,
      response: LoginResult,
    },
    async (c) => {
      const body = await readBody(c, LoginBody);
      const ip = clientIp(c);
      const keys = [`user:${fold(body.username)}`, ...(ip ? [`ip:${ip}`] : [])];
      // Reserved before the password is checked (a hash, during which other attempts are
      // answered): attempts in flight count against the limits, so parallel ones cannot all pass.
      const attempt = await guard.reserve(keys);
      if ('block' in attempt) {
        const { block } = attempt;
        const secs = Math.ceil((block.until - deps.clock().getTime()) / 1000);
        c.header('Retry-After', String(secs));
        const who = block.key.startsWith('ip:') ? `from ${ip}` : `for user '${body.username}'`;
        throw new HttpError(
          429,
          `too many failed logins ${who}: try again after ${new Date(block.until).toISOString()} (in ${secs} s)`,
        );
      }
      const { reservation } = attempt;
      let user: UserRecord | undefined;
      try {
        user = await store.users.getByName(body.username);
        const ok = await checkPassword(body.password, user?.password_hash);
        if (!user || !ok) {
          const report = await guard.fail(reservation);
          for (const typ of report.alarms) {
            await store.auditLogs.alarmEvent({
              device_id: body.id ?? '',
              device_uuid: body.uuid ?? '',
              typ,
              ip,
              info: JSON.stringify({
                name: body.username,
                ip,
                failures_last_minute: report.lastMinute,
                failures_last_hour: report.lastHour,
                consecutive_failures: report.consecutive,
              }),
              conn_id: null,
              conn_audit_ref: null,
            });
          }
          throw new HttpError(401, 'wrong user name or password');
        }
        if (user.status !== UserStatus.enabled) throw new HttpError(401, `user '${user.name}' is disabled`);
        await guard.succeed(reservation);
      } finally {
        // Any other end (a disabled user, a store error) counts nothing.
        guard.release(reservation);
      }
      const token = newSecret('rds');
      c.set('principal', { kind: 'session', user });
      await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.userLogin,
        (tx) => tx.auth.createSession(hashToken(token), user.guid, body.id, body.uuid),
        `login${body.id ? ` from device ${body.id}` : ''}`,
      );
      if (body.id && body.uuid) await assignOnLogin(c, user, body.id, body.uuid);
      return c.json({ type: 'access_token', access_token: token, user: payload(user) });
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/currentUser',
      tag: 'auth',
      summary:
        'The logged-in user (client session). Every 401 reads `Invalid token`, the exact text on which the legacy (Sciter) RustDesk client drops the token it keeps; the reason is in the `WWW-Authenticate` header.',
      access: 'session',
      unauthorized: 'Invalid token',
      response: UserPayload,
    },
    async (c) => {
      await readText(c);
      return c.json(payload(c.get('principal')!.user));
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/login-options',
      tag: 'auth',
      summary:
        'The extra ways to log in that a RustDesk client offers on its login dialog (OIDC providers). This server has none: an empty array, so clients show the account login only.',
      access: 'public',
      response: z.array(z.string()),
    },
    (c) => c.json([]),
  );

  r.add(
    {
      method: 'POST',
      path: '/api/logout',
      tag: 'auth',
      summary: 'End the calling session.',
      access: 'session',
      response: z.object({}),
    },
    async (c) => {
      await readText(c);
      await store.auth.deleteSession(c.get('principal')!.sessionHash!);
      return c.json({});
    },
  );

  const tokenRow = (t: {
    guid: string;
    name: string;
    owner: string;
    permissions: string;
    created_at: string;
    expires_at: string | null;
    last_used_at: string | null;
  }) => ({
    guid: t.guid,
    name: t.name,
    owner: t.owner,
    permissions: JSON.parse(t.permissions) as Permissions,
    created_at: t.created_at,
    expires_at: t.expires_at,
    last_used_at: t.last_used_at,
  });

  r.add(
    {
      method: 'GET',
      path: '/api/tokens',
      tag: 'tokens',
      summary: 'List live (not revoked) API tokens. Secrets are never shown again after creation.',
      access: 'admin-session',
      response: listOf(TokenRow),
    },
    async (c) => {
      const rows = (await store.auth.listLiveTokens()).map(tokenRow);
      return c.json({ data: rows, total: rows.length });
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/tokens',
      tag: 'tokens',
      summary:
        'Create an API token with a permission level (none, r, rw) per area. The token is in this answer only; the server keeps its SHA-256.',
      access: 'admin-session',
      body: CreateTokenBody,
      response: TokenCreated,
    },
    async (c) => {
      const body = await readBody(c, CreateTokenBody);
      if (await store.auth.getLiveTokenByName(body.name)) {
        throw new HttpError(
          409,
          `a token named '${body.name}' already exists (revoke it first, or choose another name)`,
        );
      }
      const permissions = { ...noPermissions(), ...body.permissions } as Permissions;
      const secret = newSecret('rdt');
      const now = deps.clock();
      const expiresAt = body.expires_in
        ? new Date(now.getTime() + body.expires_in * 1000).toISOString()
        : null;
      const owner = c.get('principal')!.user;
      const row = await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.updateUser,
        (tx) =>
          tx.auth.createToken({
            name: body.name,
            tokenHash: hashToken(secret),
            ownerGuid: owner.guid,
            permissions: JSON.stringify(permissions),
            expiresAt,
          }),
        `created API token '${body.name}' (${formatPermissions(permissions)})${expiresAt ? `, expires ${expiresAt}` : ''}`,
      );
      return c.json({ ...tokenRow({ ...row, owner: owner.name }), token: secret });
    },
  );

  r.add(
    {
      method: 'DELETE',
      path: '/api/tokens/{guid}',
      tag: 'tokens',
      summary: 'Revoke an API token; it stops working at once.',
      access: 'admin-session',
      response: z.object({}),
    },
    async (c) => {
      const guid = c.req.param('guid') ?? '';
      const live = await store.auth.getLiveTokenByGuid(guid);
      if (!live) throw new HttpError(404, `token not found: ${guid}`);
      await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.updateUser,
        async (tx) => {
          // Revoked meanwhile by another request: nothing to record.
          if (!(await tx.auth.revokeToken(guid))) throw new HttpError(404, `token not found: ${guid}`);
        },
        `revoked API token '${live.name}'`,
      );
      return c.json({});
    },
  );
}
