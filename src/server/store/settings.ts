import type { Kysely } from 'kysely';
import type { DB } from './schema';

/** Server settings (Pro's Settings → Others), stored as JSON values. */
export const SETTING_DEFAULTS = {
  /** "Require deployment for new devices": heartbeat/sysinfo from an undeployed ID create nothing. */
  require_deployment: false,
  /** Seconds without a heartbeat after which a device counts as offline. */
  online_timeout: 45,
  /** Most peers one address book may hold (0 = no limit); clients read it from /api/ab/settings. */
  max_peer_one_ab: 0,
  /** Days the audit logs are kept (Settings → Others → Log Retention); 0 keeps everything. */
  log_retention_days: 0,
  /** "Only admin can access unassigned devices": devices with no user and no device group. */
  only_admin_unassigned: false,
  /** "Only admin can access logs": off, a non-admin user session reads its own records (personal logs). */
  only_admin_access_logs: false,
  /**
   * "Allow non-admin to share address books to other groups": off, a user who is not an
   * administrator shares a book with users and with their own user group only.
   */
  non_admin_share_other_groups: false,
} as const;
export type Settings = {
  -readonly [K in keyof typeof SETTING_DEFAULTS]: (typeof SETTING_DEFAULTS)[K] extends boolean
    ? boolean
    : number;
};

export class SettingsRepo {
  constructor(private readonly db: Kysely<DB>) {}

  async get<K extends keyof Settings>(key: K): Promise<Settings[K]> {
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? (JSON.parse(row.value) as Settings[K]) : (SETTING_DEFAULTS[key] as Settings[K]);
  }

  async all(): Promise<Settings> {
    const out = { ...SETTING_DEFAULTS } as Settings;
    for (const k of Object.keys(SETTING_DEFAULTS) as (keyof Settings)[])
      (out as Record<string, unknown>)[k] = await this.get(k);
    return out;
  }

  async set<K extends keyof Settings>(key: K, value: Settings[K]): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ key, value: JSON.stringify(value) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value) }))
      .execute();
  }
}
