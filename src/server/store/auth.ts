import { type Kysely, type Selectable, sql } from 'kysely';
import type { FixedSql } from './db';
import { newGuid } from './ids';
import { Pace } from './pace';
import type { ApiTokenTable, DB, InvitationTable, SessionTable } from './schema';
import { USER_BY_GUID, type UserRecord } from './users';

export type ApiTokenRecord = Selectable<ApiTokenTable>;
export type SessionRecord = Selectable<SessionTable>;

// Every authenticated request looks its caller up: fixed SQL (see FixedSql), one connection hold.
const SESSION_BY_HASH = 'SELECT * FROM sessions WHERE token_hash = ?';
const TOKEN_BY_HASH = 'SELECT * FROM api_tokens WHERE token_hash = ?';

/** Sessions, API tokens and invitations. Only hashes of secrets are stored. */
export class AuthRepo {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
    private readonly fixed: FixedSql,
  ) {}

  /** The session with this token hash and its user (either may be missing). */
  sessionAndUser(tokenHash: string): Promise<{ session?: SessionRecord; user?: UserRecord }> {
    return this.fixed.run((q) => {
      const session = q.row<SessionRecord>(SESSION_BY_HASH, [tokenHash]);
      return { session, user: session && q.row<UserRecord>(USER_BY_GUID, [session.user_guid]) };
    });
  }

  /** The API token with this hash and its owner (either may be missing). */
  tokenAndOwner(tokenHash: string): Promise<{ token?: ApiTokenRecord; user?: UserRecord }> {
    return this.fixed.run((q) => {
      const token = q.row<ApiTokenRecord>(TOKEN_BY_HASH, [tokenHash]);
      return { token, user: token && q.row<UserRecord>(USER_BY_GUID, [token.owner_guid]) };
    });
  }

  async createSession(
    tokenHash: string,
    userGuid: string,
    deviceId?: string,
    deviceUuid?: string,
  ): Promise<void> {
    const ts = this.now().toISOString();
    await this.db
      .insertInto('sessions')
      .values({
        token_hash: tokenHash,
        user_guid: userGuid,
        device_id: deviceId ?? null,
        device_uuid: deviceUuid ?? null,
        created_at: ts,
        last_used_at: ts,
      })
      .execute();
  }

  async touchSession(tokenHash: string): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_used_at: this.now().toISOString() })
      .where('token_hash', '=', tokenHash)
      .execute();
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  /**
   * Deletes the sessions last used before `cutoff` (ISO 8601 UTC): those that have expired (see
   * SESSION_IDLE_DAYS in ../auth.ts), which a later use would refuse and delete, and are otherwise
   * never used again. In chunks at `pace`, through their index (migration 0023); how many went.
   */
  pruneSessions(cutoff: string, pace = new Pace()): Promise<number> {
    return pace.run(async (size) => {
      const r = await sql`DELETE FROM sessions WHERE token_hash IN
        (SELECT token_hash FROM sessions WHERE last_used_at < ${cutoff} LIMIT ${size})`.execute(this.db);
      const n = Number(r.numAffectedRows ?? 0n);
      return { n, more: n === size };
    });
  }

  async deleteSessionsOf(userGuids: readonly string[]): Promise<number> {
    if (userGuids.length === 0) return 0;
    return this.fixed.run((q) =>
      q.write('DELETE FROM sessions WHERE user_guid IN (SELECT value FROM json_each(?))', [
        JSON.stringify(userGuids),
      ]),
    );
  }

  async createToken(t: {
    name: string;
    tokenHash: string;
    ownerGuid: string;
    permissions: string;
    expiresAt: string | null;
  }): Promise<ApiTokenRecord> {
    const row: ApiTokenRecord = {
      guid: newGuid(this.now().getTime()),
      name: t.name,
      token_hash: t.tokenHash,
      owner_guid: t.ownerGuid,
      permissions: t.permissions,
      created_at: this.now().toISOString(),
      expires_at: t.expiresAt,
      last_used_at: null,
      revoked_at: null,
    };
    await this.db.insertInto('api_tokens').values(row).execute();
    return row;
  }

  getLiveTokenByName(name: string) {
    return this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  }

  getLiveTokenByGuid(guid: string) {
    return this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('guid', '=', guid)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  }

  async touchToken(guid: string): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ last_used_at: this.now().toISOString() })
      .where('guid', '=', guid)
      .execute();
  }

  listLiveTokens() {
    return this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.guid', 'api_tokens.owner_guid')
      .selectAll('api_tokens')
      .select('users.name as owner')
      .where('api_tokens.revoked_at', 'is', null)
      .orderBy('api_tokens.created_at')
      .execute();
  }

  async revokeToken(guid: string): Promise<boolean> {
    const r = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: this.now().toISOString() })
      .where('guid', '=', guid)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async createInvitation(
    tokenHash: string,
    userGuid: string,
    ttlSeconds: number,
  ): Promise<Selectable<InvitationTable>> {
    const now = this.now();
    const row = {
      token_hash: tokenHash,
      user_guid: userGuid,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
      used_at: null,
    };
    await this.db.insertInto('invitations').values(row).execute();
    return row;
  }

  getInvitation(tokenHash: string) {
    return this.db
      .selectFrom('invitations')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  /**
   * The newest invitation of this user not used yet (expired or not), or undefined: the one its
   * link is for (inviting again replaces the others, see dropInvitationsOf()).
   */
  pendingInvitation(userGuid: string): Promise<Selectable<InvitationTable> | undefined> {
    return this.db
      .selectFrom('invitations')
      .selectAll()
      .where('user_guid', '=', userGuid)
      .where('used_at', 'is', null)
      .orderBy('expires_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Deletes the user's invitations not used yet: their links stop working. How many went. */
  async dropInvitationsOf(userGuid: string): Promise<number> {
    const r = await this.db
      .deleteFrom('invitations')
      .where('user_guid', '=', userGuid)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async useInvitation(tokenHash: string): Promise<boolean> {
    const r = await this.db
      .updateTable('invitations')
      .set({ used_at: this.now().toISOString() })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}
