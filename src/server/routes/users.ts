import { z } from 'zod';
import { PageQuery } from '../../wire/common';
import {
  AcceptInviteBody,
  CreateUserBody,
  InviteResult,
  InviteUserBody,
  LoginVerificationBody,
  PASSWORD_RULE,
  TotpEnforceBody,
  UserFilterQuery,
  UserGuidsBody,
  UserList,
  UserRow,
  UserStatus,
} from '../../wire/users';
import { changeRecorded } from '../audit-log';
import { publicBase } from '../auth';
import type { AppDeps } from '../context';
import { hashPassword, hashToken, newSecret } from '../crypto';
import { HttpError, readBody, readQuery } from '../http';
import type { RouteTable } from '../routes';
import { inTransaction, type Store } from '../store';

/** The context a route handler gets. */
type RouteContext = Parameters<Parameters<RouteTable['add']>[1]>[0];

import { ConsoleOp, ConsoleType } from '../store/audit';
import { constraintViolation } from '../store/db';
import { type ListedUser, listedUser, type UserRecord } from '../store/users';

export function userRow(u: ListedUser) {
  return {
    guid: u.guid,
    name: u.name,
    display_name: u.display_name,
    email: u.email,
    note: u.note,
    status: u.status,
    is_admin: u.is_admin,
    group_name: u.group_name,
    info: {
      email_verification: u.email_verification,
      email_alarm_notification: false,
      login_device_whitelist: [],
      other: {},
    },
    tfa_enforced: u.tfa_enforced,
    totp_enabled: u.totp_enabled,
    created_at: u.created_at,
    // rdadmin serve's own, not Pro's: only on users who never accepted their invitation.
    ...(u.invitation_expires_at !== undefined ? { invitation_expires_at: u.invitation_expires_at } : {}),
  };
}

const Ok = z.object({});

export function registerUserRoutes(r: RouteTable, deps: AppDeps): void {
  const { store } = deps;

  /** Loads every GUID or fails naming the unknown ones; nothing is changed on failure. */
  async function loadAll(guids: readonly string[]): Promise<UserRecord[]> {
    const unique = [...new Set(guids)];
    const found = await store.users.getByGuids(unique);
    if (found.length !== unique.length) {
      const known = new Set(found.map((u) => u.guid));
      const missing = unique.filter((g) => !known.has(g));
      throw new HttpError(404, `user not found: ${missing.slice(0, 10).join(', ')}`);
    }
    return found;
  }

  async function loadOne(guid: string): Promise<UserRecord> {
    const u = await store.users.getByGuid(guid);
    if (!u) throw new HttpError(404, `user not found: ${guid}`);
    return u;
  }

  function names(users: UserRecord[]): string {
    const shown = users.slice(0, 20).map((u) => u.name);
    return shown.join(', ') + (users.length > shown.length ? ` and ${users.length - shown.length} more` : '');
  }

  r.add(
    {
      method: 'GET',
      path: '/api/users',
      tag: 'users',
      summary:
        "List users. `name` and `group_name` are case-insensitive LIKE patterns (`%`, `_`, `\\` escapes); a lone `-` means 'not set'. A non-admin session (a RustDesk client's group list) sees the enabled users it may reach: its own group and the user groups it or its group has a rule to. With `accessible` (what clients send) each row also carries `grp`, the group name, as clients read it. A user who never accepted an invitation also carries `invitation_expires_at` (this server's own field, not Pro's): until when the link works (a past time: expired, invite again for a new one), or null when none is left.",
      access: { area: 'user', level: 'r', allowUserSession: true },
      query: PageQuery.extend(UserFilterQuery.shape),
      response: UserList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const f = readQuery(c, UserFilterQuery);
      const p = c.get('principal')!;
      const reacher =
        p.kind === 'session' && !p.user.is_admin
          ? { userGuid: p.user.guid, groupGuid: p.user.group_guid }
          : undefined;
      const { rows, total } = await store.users.list(
        {
          name: f.name,
          group_name: f.group_name,
          status: reacher ? undefined : f.status,
          reachable_by: reacher,
        },
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      const client = f.accessible !== undefined;
      return c.json({
        data: rows.map((u) => (client ? { ...userRow(u), grp: u.group_name } : userRow(u))),
        total,
      });
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/users',
      tag: 'users',
      summary: `Create a user. The password must be ${PASSWORD_RULE}; the group must exist; names are unique.`,
      access: { area: 'user', level: 'rw' },
      body: CreateUserBody,
      response: UserRow,
    },
    async (c) => {
      const body = await readBody(c, CreateUserBody);
      if (body.is_admin && c.get('principal')?.kind === 'token') {
        throw new HttpError(
          403,
          "an API token cannot create an administrator: that takes an administrator's session (rdadmin login)",
        );
      }
      const group = await store.users.getGroupByName(body.group_name);
      if (!group) throw new HttpError(400, `user group '${body.group_name}' does not exist`);
      const taken = () => new HttpError(409, `a user named '${body.name}' already exists`);
      if (await store.users.getByName(body.name)) throw taken();
      const passwordHash = await hashPassword(body.password);
      // Another request may have created the same name while the password was being hashed.
      const guid = await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.addUser,
        (tx) =>
          tx.users.create({
            name: body.name,
            password_hash: passwordHash,
            group_guid: group.guid,
            email: body.email,
            note: body.note,
            display_name: body.display_name,
            status: UserStatus.enabled,
            is_admin: body.is_admin,
          }),
        `created user '${body.name}'`,
      ).catch((err) => {
        throw constraintViolation(err) === 'unique' ? taken() : err;
      });
      return c.json(userRow(listedUser((await store.users.getByGuid(guid))!)));
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/users/invite',
      tag: 'users',
      summary:
        "Invite a user: creates an unverified user and a one-time invitation link (valid 7 days). This server sends no email: the link is returned (`invitation_url`, `expires_at`, `email_sent: false`) and must be passed on. Inviting again a user who never accepted (same name and email; a disabled one too) renews the invitation: a new link, the earlier one stops working, the user's group, note and assignments stay (the group given must be the user's). While the earlier link still works, renewing needs `\"renew\": true` (this server's own field), else 409. Any other existing user is 409.",
      access: { area: 'user', level: 'rw' },
      body: InviteUserBody,
      response: InviteResult,
    },
    async (c) => {
      const body = await readBody(c, InviteUserBody);
      const group = await store.users.getGroupByName(body.group_name);
      if (!group) throw new HttpError(400, `user group '${body.group_name}' does not exist`);
      const existing = await store.users.getByName(body.name);
      if (existing) return renewInvitation(c, existing, body);
      const secret = newSecret('rdi');
      const { guid, inv } = await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.addUser,
        async (tx) => {
          const guid = await tx.users.create({
            name: body.name,
            password_hash: null,
            group_guid: group.guid,
            email: body.email,
            note: body.note,
            status: UserStatus.unverified,
          });
          const inv = await tx.auth.createInvitation(hashToken(secret), guid, deps.config.invitationTtl);
          return { guid, inv };
        },
        ({ inv }) =>
          `invited user '${body.name}' <${body.email}>; no email sent, invitation link handed to the operator (expires ${inv.expires_at})`,
      ).catch((err) => {
        throw constraintViolation(err) === 'unique'
          ? new HttpError(409, `a user named '${body.name}' already exists`)
          : err;
      });
      const base = c.env?.batch?.base ?? publicBase(c, deps.config);
      const url = `${base}/api/invitations/${secret}`;
      return c.json({ guid, invitation_url: url, expires_at: inv.expires_at, email_sent: false });
    },
  );

  /**
   * `POST /api/users/invite` for a name that exists. A user who never accepted an invitation (no
   * password: unverified, or disabled before accepting) with the same email gets a new one: an
   * expired link was otherwise a dead end that only deleting the user (and losing its group,
   * devices, address books) got out of. The earlier links stop working; the user stays unverified
   * (a disabled one is enabled again by this, as by `enable`: inviting is asking them in). Anyone
   * else is 409, with what to do instead.
   */
  async function renewInvitation(c: RouteContext, user: UserRecord, body: InviteUserBody) {
    const taken = `a user named '${user.name}' already exists`;
    if (user.password_hash !== null)
      throw new HttpError(
        409,
        `${taken} and can log in (an invitation is renewed only for a user who never accepted one): choose another name`,
      );
    if (user.email.toLowerCase() !== body.email.toLowerCase())
      throw new HttpError(
        409,
        `${taken}, invited as <${user.email}> and not accepted yet: invite that address again for a new link, or delete the user to invite another address`,
      );
    if (user.group_name !== body.group_name)
      throw new HttpError(
        409,
        `${taken}, invited into user group '${user.group_name}': invite again with --group_name '${user.group_name}' for a new link (renewing keeps the group)`,
      );
    refuseAdminsForTokens(c, [user], 'renew the invitation of');
    const secret = newSecret('rdi');
    const renewed = await changeRecorded(
      deps,
      c,
      ConsoleType.user,
      ConsoleOp.updateUser,
      async (tx) => {
        // Checked again in the transaction: the old link may have been accepted meanwhile.
        const current = await tx.users.getByGuid(user.guid);
        if (!current) throw new HttpError(404, `user not found: ${user.guid}`);
        if (current.password_hash !== null)
          throw new HttpError(409, `${taken} and has just accepted the invitation`);
        // A link that still works is replaced only when asked: a job run again (or two at once)
        // would otherwise end the link the first run handed out, while both report success.
        const live =
          current.status === UserStatus.unverified ? await tx.auth.pendingInvitation(user.guid) : undefined;
        if (live && Date.parse(live.expires_at) > deps.clock().getTime() && body.renew !== true)
          throw new HttpError(
            409,
            `${taken}, invited as <${user.email}>, and that invitation's link works until ${live.expires_at}: ask for a new link with "renew": true (rdadmin users invite --renew), which ends the earlier one`,
          );
        await tx.auth.dropInvitationsOf(user.guid);
        if (current.status !== UserStatus.unverified)
          await tx.users.update([user.guid], { status: UserStatus.unverified });
        const inv = await tx.auth.createInvitation(hashToken(secret), user.guid, deps.config.invitationTtl);
        return { inv, wasDisabled: current.status === UserStatus.disabled };
      },
      ({ inv, wasDisabled }) =>
        `invitation renewed for user '${user.name}' <${user.email}>${wasDisabled ? ' (was disabled)' : ''}: the earlier link no longer works; no email sent, invitation link handed to the operator (expires ${inv.expires_at})`,
    );
    const base = c.env?.batch?.base ?? publicBase(c, deps.config);
    return c.json({
      guid: user.guid,
      invitation_url: `${base}/api/invitations/${secret}`,
      expires_at: renewed.inv.expires_at,
      email_sent: false,
      renewed: true,
    });
  }

  r.add(
    {
      method: 'GET',
      path: '/api/invitations/{token}',
      tag: 'users',
      summary: 'Show an invitation (who it is for, until when it is valid).',
      access: 'public',
    },
    async (c) => {
      const { user } = await openInvitation(c.req.param('token') ?? '');
      return c.json({ name: user.name, email: user.email, group_name: user.group_name });
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/invitations/{token}',
      tag: 'users',
      summary: `Accept an invitation by choosing a password (${PASSWORD_RULE}); the user becomes enabled.`,
      access: 'public',
      body: AcceptInviteBody,
      response: Ok,
    },
    async (c) => {
      const token = c.req.param('token') ?? '';
      await openInvitation(token);
      const body = await readBody(c, AcceptInviteBody);
      const passwordHash = await hashPassword(body.password);
      // The body and the hashing take a while: meanwhile an administrator may have disabled or
      // deleted the user, or another request used the invitation. So the invitation and its user
      // are checked again, and the invitation used and the user enabled, in one transaction: an
      // administrator's disable is never undone, and a refused acceptance leaves the invitation as
      // it was (an invited user enabled again gets it back).
      await inTransaction(store, async (tx) => {
        const { user } = await openInvitation(token, tx);
        if (!(await tx.auth.useInvitation(hashToken(token))))
          throw new HttpError(404, 'invitation not found or already used');
        await tx.users.update([user.guid], { password_hash: passwordHash, status: UserStatus.enabled });
      });
      return c.json({});
    },
  );

  /** The invitation and its (still invited) user, read from `from` (a transaction's store). */
  async function openInvitation(token: string, from: Store = store) {
    const inv = token ? await from.auth.getInvitation(hashToken(token)) : undefined;
    if (!inv || inv.used_at) throw new HttpError(404, 'invitation not found or already used');
    if (Date.parse(inv.expires_at) <= deps.clock().getTime())
      throw new HttpError(404, 'invitation has expired');
    const user = await from.users.getByGuid(inv.user_guid);
    if (!user || user.status !== UserStatus.unverified)
      throw new HttpError(404, 'invitation is no longer valid');
    return { inv, user };
  }

  function refuseSelf(c: RouteContext, users: UserRecord[], what: string) {
    const me = c.get('principal')?.user.guid;
    if (users.some((u) => u.guid === me)) {
      throw new HttpError(
        400,
        `you cannot ${what} the account you are acting as (${c.get('principal')!.user.name})`,
      );
    }
  }

  /**
   * An API token acts for an administrator within its areas, as a delegate: it neither makes an
   * administrator nor changes one (server-model.md §1.1, "non-admin delegates can never edit
   * administrator accounts"), so `user:rw` cannot grow into every right, settings and tokens
   * included, nor lock the administrators out. An administrator's session can do both. A 400 like
   * refuseSelf's: it concerns these records, not the token's rights, so a bulk run goes on.
   */
  function refuseAdminsForTokens(
    c: RouteContext,
    users: Pick<UserRecord, 'name' | 'is_admin'>[],
    what: string,
  ) {
    if (c.get('principal')?.kind !== 'token') return;
    const admins = users.filter((u) => u.is_admin);
    if (!admins.length) return;
    const shown = admins.slice(0, 5).map((u) => `'${u.name}'`);
    throw new HttpError(
      400,
      `an API token cannot ${what} an administrator account (${shown.join(', ')}${admins.length > 5 ? ', …' : ''}): that takes an administrator's session (rdadmin login)`,
    );
  }

  for (const action of ['enable', 'disable'] as const) {
    r.add(
      {
        method: 'POST',
        path: `/api/users/{guid}/${action}`,
        tag: 'users',
        summary:
          action === 'enable'
            ? 'Enable a user. An invited user who never accepted (disabled meanwhile) gets the invitation back while it is valid; once it has expired, 400: invite them again.'
            : "Disable a user; the user's sessions end and tokens they own stop working.",
        access: { area: 'user', level: 'rw' },
        response: Ok,
      },
      async (c) => {
        const user = await loadOne(c.req.param('guid') ?? '');
        // An invited user who never accepted has no password: enabling them gives the invitation
        // back (valid until it expires), not an account nobody can log in to; once it has expired
        // there is nothing to give back, and the way on is a new invitation.
        const pending = action === 'enable' && user.password_hash === null;
        const inv = pending ? await store.auth.pendingInvitation(user.guid) : undefined;
        if (pending && (!inv || Date.parse(inv.expires_at) <= deps.clock().getTime())) {
          throw new HttpError(
            400,
            `the invitation of user '${user.name}' ${inv ? `expired at ${inv.expires_at}` : 'is gone'}: invite them again (the same name, email <${user.email}> and user group '${user.group_name}') for a new link; the user keeps its group and assignments`,
          );
        }
        if (action === 'disable') refuseSelf(c, [user], 'disable');
        else if (user.status === UserStatus.unverified) {
          throw new HttpError(
            400,
            `user '${user.name}' has not accepted the invitation yet and has no password${inv ? ` (the link works until ${inv.expires_at})` : ''}`,
          );
        }
        refuseAdminsForTokens(c, [user], action);
        // The change, the end of the sessions and the audit record: all or nothing.
        await changeRecorded(
          deps,
          c,
          ConsoleType.user,
          action === 'disable' ? ConsoleOp.disableUsers : ConsoleOp.enableUsers,
          async (tx) => {
            await tx.users.update([user.guid], {
              status:
                action === 'disable'
                  ? UserStatus.disabled
                  : pending
                    ? UserStatus.unverified
                    : UserStatus.enabled,
            });
            if (action === 'disable') await tx.auth.deleteSessionsOf([user.guid]);
          },
          `${action}d user '${user.name}'${pending ? ` (invitation pending again, until ${inv!.expires_at})` : ''}`,
        );
        return c.json({});
      },
    );
  }

  r.add(
    {
      method: 'DELETE',
      path: '/api/users/{guid}',
      tag: 'users',
      summary: 'Delete a user. As in Pro, an enabled user must be disabled first.',
      access: { area: 'user', level: 'rw' },
      response: Ok,
    },
    async (c) => {
      const user = await loadOne(c.req.param('guid') ?? '');
      refuseSelf(c, [user], 'delete');
      refuseAdminsForTokens(c, [user], 'delete');
      if (user.status === UserStatus.enabled) {
        throw new HttpError(400, `user '${user.name}' is enabled: disable it first, then delete it`);
      }
      await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.deleteUser,
        async (tx) => {
          // Another request may have deleted it since it was loaded: then this one changed nothing.
          if (!(await tx.users.delete(user.guid))) throw new HttpError(404, `user not found: ${user.guid}`);
        },
        `deleted user '${user.name}'`,
      );
      return c.json({});
    },
  );

  r.add(
    {
      method: 'PUT',
      path: '/api/users/tfa/totp/enforce',
      tag: 'users',
      summary:
        'Turn TOTP 2FA enforcement on or off for users. Enforcing needs the web console URL (`url`) used for enrolment.',
      access: { area: 'user', level: 'rw' },
      body: TotpEnforceBody,
      response: Ok,
    },
    async (c) => {
      const body = await readBody(c, TotpEnforceBody);
      if (body.enforce && !body.url.trim()) {
        throw new HttpError(
          400,
          "request body field 'url' is required when enforce is true (the web console URL)",
        );
      }
      const users = await loadAll(body.user_guids);
      refuseAdminsForTokens(c, users, 'change the 2FA enforcement of');
      await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.updateUser,
        (tx) =>
          tx.users.update(
            users.map((u) => u.guid),
            { tfa_enforced: body.enforce ? 1 : 0, tfa_enforce_url: body.url },
          ),
        `${body.enforce ? 'enforced' : 'stopped enforcing'} 2FA for ${names(users)}`,
      );
      return c.json({});
    },
  );

  r.add(
    {
      method: 'PUT',
      path: '/api/users/disable_login_verification',
      tag: 'users',
      summary: "`type: 'email'` turns off email login verification; `type: '2fa'` resets (removes) TOTP 2FA.",
      access: { area: 'user', level: 'rw' },
      body: LoginVerificationBody,
      response: Ok,
    },
    async (c) => {
      const body = await readBody(c, LoginVerificationBody);
      const users = await loadAll(body.user_guids);
      refuseAdminsForTokens(c, users, 'change the login verification of');
      const guids = users.map((u) => u.guid);
      const what = body.type === 'email' ? 'disabled email login verification' : 'reset 2FA';
      await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.updateUser,
        (tx) =>
          tx.users.update(guids, body.type === 'email' ? { email_verification: 0 } : { totp_secret: null }),
        `${what} for ${names(users)}`,
      );
      return c.json({});
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/users/force-logout',
      tag: 'users',
      summary: 'End every session of the given users (their clients and console logins must log in again).',
      access: { area: 'user', level: 'rw' },
      body: UserGuidsBody,
      response: z.object({ sessions_ended: z.number() }),
    },
    async (c) => {
      const body = await readBody(c, UserGuidsBody);
      const users = await loadAll(body.user_guids);
      refuseAdminsForTokens(c, users, 'force the logout of');
      const n = await changeRecorded(
        deps,
        c,
        ConsoleType.user,
        ConsoleOp.updateUser,
        (tx) => tx.auth.deleteSessionsOf(users.map((u) => u.guid)),
        (n) => `forced logout of ${names(users)} (${n} sessions)`,
      );
      return c.json({ sessions_ended: n });
    },
  );
}
