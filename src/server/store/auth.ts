import type { Kysely, Selectable } from 'kysely';
import { newGuid } from './ids';
import type { ApiTokenTable, DB, InvitationTable } from './schema';

export type ApiTokenRecord = Selectable<ApiTokenTable>;

/** Sessions, API tokens and invitations. Only hashes of secrets are stored. */
export class AuthRepo {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
  ) {}

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

  getSession(tokenHash: string) {
    return this.db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
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

  async deleteSessionsOf(userGuids: readonly string[]): Promise<number> {
    if (userGuids.length === 0) return 0;
    const r = await this.db
      .deleteFrom('sessions')
      .where('user_guid', 'in', [...userGuids])
      .executeTakeFirst();
    return Number(r.numDeletedRows);
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

  getTokenByHash(tokenHash: string) {
    return this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
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
