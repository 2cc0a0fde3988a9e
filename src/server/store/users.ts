import type { Kysely, Selectable } from 'kysely';
import { type RuleSource, ruleTargetsFixed } from './access-rules';
import type { FixedSql } from './db';
import { newGuid } from './ids';
import { fold, likeCondition } from './like';
import type { DB, UserGroupTable, UserTable } from './schema';

export type UserRecord = Selectable<UserTable> & { group_name: string };
export type GroupRecord = Selectable<UserGroupTable>;

export interface UserFilter {
  name?: string;
  group_name?: string;
  status?: number;
  /** Only users of this group (by GUID). */
  group_guid?: string;
  /**
   * Only the enabled users this user may reach (server-model §1.5): the members of their own
   * group and of the user groups they or their group have a rule to.
   */
  reachable_by?: RuleSource;
}

export interface NewUser {
  name: string;
  password_hash: string | null;
  group_guid: string;
  email?: string;
  note?: string;
  display_name?: string;
  status: number;
  is_admin?: boolean;
}

/** A user as lists show it (the columns of a users page, no secrets). */
export interface ListedUser {
  guid: string;
  name: string;
  display_name: string;
  email: string;
  note: string;
  status: number;
  is_admin: boolean;
  group_name: string;
  email_verification: boolean;
  tfa_enforced: boolean;
  totp_enabled: boolean;
  created_at: string;
  /**
   * Set for a user who never accepted an invitation (no password yet): until when its link works
   * (past: expired), or null when none is left. Absent for everyone else.
   */
  invitation_expires_at?: string | null;
}

/** A whole user record and its group's name. */
export const USER_BY_GUID = `SELECT u.*, g.name AS group_name FROM users u
  JOIN user_groups g ON g.guid = u.group_guid WHERE u.guid = ?`;
const USER_BY_NAME = `SELECT u.*, g.name AS group_name FROM users u
  JOIN user_groups g ON g.guid = u.group_guid WHERE u.name = ?`;

const PATCHABLE = new Set([
  'status',
  'tfa_enforced',
  'tfa_enforce_url',
  'email_verification',
  'totp_secret',
  'password_hash',
]);

// The invitation is looked up for the users without a password alone (CASE: not for the others),
// through the invitations_user index (migration 0020).
const LISTED = `u.guid, u.name, u.display_name, u.email, u.note, u.status, u.is_admin, g.name,
  u.email_verification, u.tfa_enforced, u.totp_secret IS NOT NULL, u.created_at,
  u.password_hash IS NULL, CASE WHEN u.password_hash IS NULL THEN (SELECT max(i.expires_at)
    FROM invitations i WHERE i.user_guid = u.guid AND i.used_at IS NULL) END`;

function listed(r: unknown[]): ListedUser {
  return {
    guid: r[0] as string,
    name: r[1] as string,
    display_name: r[2] as string,
    email: r[3] as string,
    note: r[4] as string,
    status: r[5] as number,
    is_admin: r[6] === 1,
    group_name: r[7] as string,
    email_verification: r[8] === 1,
    tfa_enforced: r[9] === 1,
    totp_enabled: r[10] === 1,
    created_at: r[11] as string,
    ...(r[12] === 1 ? { invitation_expires_at: (r[13] as string | null) ?? null } : {}),
  };
}

/**
 * The listed form of a whole user record; for a user without a password, `invitation` is until when
 * its invitation works (AuthRepo.pendingInvitation()), null when it has none.
 */
export function listedUser(u: UserRecord, invitation: string | null = null): ListedUser {
  return {
    guid: u.guid,
    name: u.name,
    display_name: u.display_name,
    email: u.email,
    note: u.note,
    status: u.status,
    is_admin: u.is_admin === 1,
    group_name: u.group_name,
    email_verification: u.email_verification === 1,
    tfa_enforced: u.tfa_enforced === 1,
    totp_enabled: u.totp_secret !== null,
    created_at: u.created_at,
    ...(u.password_hash === null ? { invitation_expires_at: invitation } : {}),
  };
}

export class UserRepo {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
    private readonly fixed: FixedSql,
  ) {}

  private base() {
    return this.db
      .selectFrom('users')
      .innerJoin('user_groups', 'user_groups.guid', 'users.group_guid')
      .selectAll('users')
      .select('user_groups.name as group_name');
  }

  /**
   * A page of the users matching `f`, and how many match. Fixed SQL (the users list is the most
   * asked-for page): the filters pick one of a few SQL texts, values are bound. Every user has a
   * group (a foreign key), so counting joins the groups only to filter by them. The page is picked
   * by rowid over the (name_fold, guid) index first (migration 0007) and then joined, so OFFSET
   * skips index entries instead of building whole rows.
   */
  list(f: UserFilter, offset: number, limit: number): Promise<{ rows: ListedUser[]; total: number }> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    likeCondition('u.name_fold', f.name, where, params);
    // The users of the matching groups. Counted through the users_group index, that is those
    // groups' users only (65 µs for a 1,000-user group of 10,000 users, where joining every user to
    // its group took 1.5 ms, on every page); the page walks the name index in order and tests each
    // user's group (the `+` keeps SQLite from reading the whole group through users_group and
    // sorting it first). The `group` placeholder is replaced by one form or the other.
    const groups: string[] = [];
    likeCondition('g.name_fold', f.group_name, groups, params);
    if (groups.length) where.push(`{group} IN (SELECT g.guid FROM user_groups g WHERE ${groups[0]})`);
    if (f.status !== undefined) {
      where.push('u.status = ?');
      params.push(f.status);
    }
    if (f.group_guid) {
      where.push('u.group_guid = ?');
      params.push(f.group_guid);
    }
    if (f.reachable_by) {
      const rules = ruleTargetsFixed('userGroups', f.reachable_by);
      where.push(`u.status = 1 AND (u.group_guid = ? OR u.group_guid IN (${rules.text}))`);
      params.push(f.reachable_by.groupGuid, ...rules.params);
    }
    const from = (group: string) =>
      `FROM users u${where.length ? ` WHERE ${where.join(' AND ').replace('{group}', group)}` : ''}`;
    // The picked rows, in order, drive the join (CROSS JOIN keeps them the outer loop): the page's
    // order is theirs, and SQLite does not sort the joined rows again (99 -> 88 µs for page 1).
    const page = `SELECT ${LISTED} FROM (SELECT u.rowid AS r, u.name_fold AS k1, u.guid AS k2
        ${from('+u.group_guid')} ORDER BY u.name_fold, u.guid LIMIT ? OFFSET ?) AS p
      CROSS JOIN users u ON u.rowid = p.r JOIN user_groups g ON g.guid = u.group_guid
      ORDER BY p.k1, p.k2`;
    return this.fixed.run((q) => ({
      rows: q.rows(page, [...params, limit, offset]).map(listed),
      total: Number(q.value(`SELECT count(*) ${from('u.group_guid')}`, params)),
    }));
  }

  getByGuid(guid: string): Promise<UserRecord | undefined> {
    return this.fixed.run((q) => q.row<UserRecord>(USER_BY_GUID, [guid]));
  }

  getByName(name: string): Promise<UserRecord | undefined> {
    return this.fixed.run((q) => q.row<UserRecord>(USER_BY_NAME, [name]));
  }

  getByGuids(guids: readonly string[]): Promise<UserRecord[]> {
    if (guids.length === 0) return Promise.resolve([]);
    return this.base()
      .where('users.guid', 'in', [...guids])
      .execute();
  }

  async create(u: NewUser): Promise<string> {
    const ts = this.now().toISOString();
    const guid = newGuid(this.now().getTime());
    await this.db
      .insertInto('users')
      .values({
        guid,
        name: u.name,
        name_fold: fold(u.name),
        display_name: u.display_name ?? '',
        email: u.email ?? '',
        note: u.note ?? '',
        status: u.status,
        is_admin: u.is_admin ? 1 : 0,
        group_guid: u.group_guid,
        password_hash: u.password_hash,
        email_verification: 0,
        tfa_enforced: 0,
        tfa_enforce_url: '',
        created_at: ts,
        updated_at: ts,
      })
      .execute();
    return guid;
  }

  async update(
    guids: readonly string[],
    patch: Partial<
      Pick<
        UserTable,
        'status' | 'tfa_enforced' | 'tfa_enforce_url' | 'email_verification' | 'totp_secret' | 'password_hash'
      >
    >,
  ): Promise<number> {
    if (guids.length === 0) return 0;
    // Fixed SQL (disabling users in bulk is one request per user): the patch's keys are columns of
    // a closed set, the GUIDs one JSON array, so the SQL text depends only on which keys are set.
    const keys = (Object.keys(patch) as (keyof typeof patch)[]).filter((k) => patch[k] !== undefined);
    for (const k of keys)
      if (!PATCHABLE.has(k)) throw new Error(`users.update: not a patchable column: ${k}`);
    const set = [...keys.map((k) => `${k} = ?`), 'updated_at = ?'].join(', ');
    const params = [...keys.map((k) => patch[k] as string | number | null), this.now().toISOString()];
    return this.fixed.run((q) =>
      q.write(`UPDATE users SET ${set} WHERE guid IN (SELECT value FROM json_each(?))`, [
        ...params,
        JSON.stringify(guids),
      ]),
    );
  }

  async delete(guid: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('guid', '=', guid).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  getGroupByName(name: string): Promise<GroupRecord | undefined> {
    return this.db.selectFrom('user_groups').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async createGroup(name: string, note = ''): Promise<string> {
    const ts = this.now().toISOString();
    const guid = newGuid(this.now().getTime());
    await this.db
      .insertInto('user_groups')
      .values({ guid, name, name_fold: fold(name), note, created_at: ts, updated_at: ts })
      .execute();
    return guid;
  }

  async countAll(): Promise<number> {
    const r = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
