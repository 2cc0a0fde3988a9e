import { type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import { newGuid } from './ids';
import { fold, likeFilter } from './like';
import type { DB, UserGroupTable, UserTable } from './schema';

export type UserRecord = Selectable<UserTable> & { group_name: string };
export type GroupRecord = Selectable<UserGroupTable>;

export interface UserFilter {
  name?: string;
  group_name?: string;
  status?: number;
  /** Only users of this group (by GUID). */
  group_guid?: string;
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

export class UserRepo {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
  ) {}

  private base() {
    return this.db
      .selectFrom('users')
      .innerJoin('user_groups', 'user_groups.guid', 'users.group_guid')
      .selectAll('users')
      .select('user_groups.name as group_name');
  }

  /** The users matching `f`, joined to their group only when a filter names it. Selects nothing. */
  private filtered(f: UserFilter) {
    let q = this.db
      .selectFrom('users')
      .$if(Boolean(f.group_name), (qb) =>
        qb.innerJoin('user_groups', 'user_groups.guid', 'users.group_guid'),
      );
    const byName = likeFilter(sql.ref<string>('users.name_fold'), f.name);
    if (byName) q = q.where(byName);
    const byGroup = likeFilter(sql.ref<string>('user_groups.name_fold'), f.group_name);
    if (byGroup) q = q.where(byGroup);
    if (f.status !== undefined) q = q.where('users.status', '=', f.status);
    if (f.group_guid) q = q.where('users.group_guid', '=', f.group_guid);
    return q;
  }

  async list(f: UserFilter, offset: number, limit: number): Promise<{ rows: UserRecord[]; total: number }> {
    const q = this.filtered(f);
    // Every user has a group (a foreign key), so counting needs the group only to filter by it.
    // The page is picked by rowid first (over the (name_fold, guid) index, migration 0007) and
    // then joined, so OFFSET skips index entries instead of building whole rows.
    const page = q
      .select(sql<number>`users.rowid`.as('rowid'))
      .orderBy('users.name_fold')
      .orderBy('users.guid')
      .offset(offset)
      .limit(limit);
    const [rows, count] = await Promise.all([
      this.base()
        .where(sql<SqlBool>`users.rowid IN (${page})`)
        .orderBy('users.name_fold')
        .orderBy('users.guid')
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  getByGuid(guid: string): Promise<UserRecord | undefined> {
    return this.base().where('users.guid', '=', guid).executeTakeFirst();
  }

  getByName(name: string): Promise<UserRecord | undefined> {
    return this.base().where('users.name', '=', name).executeTakeFirst();
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
    const r = await this.db
      .updateTable('users')
      .set({ ...patch, updated_at: this.now().toISOString() })
      .where('guid', 'in', [...guids])
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
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
