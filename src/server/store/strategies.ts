import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { newGuid } from './ids';
import { fold } from './like';
import type { DB, StrategyTable } from './schema';
import { transact } from './tx';

export type StrategyRecord = Selectable<StrategyTable>;
export type StrategyLevel = 'device' | 'user' | 'device_group' | 'default';

export const DEFAULT_STRATEGY = 'Default';

export interface Effective {
  /** The strategy that applies, or null when none applies (only without a Default strategy). */
  strategy: StrategyRecord | null;
  level: StrategyLevel;
  /** False when the effective strategy is disabled: the device is then managed by no strategy. */
  managed: boolean;
  chain: Record<StrategyLevel, string | null>;
}

/** The strategy GUIDs named at each level for one device (from its own row, its user, its group). */
export interface StrategyChain {
  device: string | null;
  user: string | null;
  device_group: string | null;
}

interface Snapshot {
  all: Map<string, StrategyRecord>;
  def: StrategyRecord | null;
}

export interface AssignTargets {
  peers: string[];
  users: string[];
  groups: string[];
}

export class StrategyRepo {
  // Every heartbeat resolves its device's strategy: the (small) strategies table is kept in memory
  // and reloaded after any change made through this repository, the only writer of the table.
  // One object, shared with the copies inTransaction makes, so a change made through a copy
  // invalidates the snapshot of the original too.
  private readonly memo: { version: number; cached?: { version: number; snapshot: Promise<Snapshot> } } = {
    version: 0,
  };

  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
  ) {}

  private changed(): void {
    this.memo.version++;
  }

  private snapshot(): Promise<Snapshot> {
    const load = () =>
      this.list().then((rows) => {
        const all = new Map(rows.map((s) => [s.guid, s]));
        return { all, def: rows.find((s) => s.name === DEFAULT_STRATEGY) ?? null };
      });
    // Inside a transaction the table may hold changes that are rolled back yet: read, never keep.
    if (this.db.isTransaction) return load();
    if (this.memo.cached?.version !== this.memo.version) {
      const snapshot = load();
      // A failed load is not kept.
      snapshot.catch(() => {
        if (this.memo.cached?.snapshot === snapshot) this.memo.cached = undefined;
      });
      this.memo.cached = { version: this.memo.version, snapshot };
    }
    return this.memo.cached.snapshot;
  }

  list(): Promise<StrategyRecord[]> {
    return this.db.selectFrom('strategies').selectAll().orderBy('name_fold').execute();
  }

  getByGuid(guid: string): Promise<StrategyRecord | undefined> {
    return this.db.selectFrom('strategies').selectAll().where('guid', '=', guid).executeTakeFirst();
  }

  getByName(name: string): Promise<StrategyRecord | undefined> {
    return this.db.selectFrom('strategies').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async create(name: string, options: Record<string, string>, enabled = true): Promise<string> {
    const ts = this.now().toISOString();
    const guid = newGuid(this.now().getTime());
    await this.db
      .insertInto('strategies')
      .values({
        guid,
        name,
        name_fold: fold(name),
        enabled: enabled ? 1 : 0,
        options: JSON.stringify(options),
        revision: 1,
        created_at: ts,
        updated_at: ts,
      })
      .execute();
    this.changed();
    return guid;
  }

  async update(
    guid: string,
    patch: { name?: string; options?: Record<string, string>; enabled?: boolean },
  ): Promise<void> {
    await this.db
      .updateTable('strategies')
      .set((eb) => ({
        ...(patch.name !== undefined ? { name: patch.name, name_fold: fold(patch.name) } : {}),
        ...(patch.options !== undefined ? { options: JSON.stringify(patch.options) } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
        revision: eb('revision', '+', 1),
        updated_at: this.now().toISOString(),
      }))
      .where('guid', '=', guid)
      .execute();
    this.changed();
  }

  /** Deletes a strategy (its devices lose it); false when there was none with this GUID. */
  async delete(guid: string): Promise<boolean> {
    try {
      return await transact(this.db, async (trx) => {
        await trx
          .updateTable('devices')
          .set({ strategy_guid: null })
          .where('strategy_guid', '=', guid)
          .execute();
        const r = await trx.deleteFrom('strategies').where('guid', '=', guid).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      });
    } finally {
      this.changed();
    }
  }

  /** Sets (or, with `strategy` null, clears) the strategy of every target, in one transaction. */
  async assign(strategy: string | null, t: AssignTargets): Promise<AssignTargets> {
    const ts = this.now().toISOString();
    return transact(this.db, async (trx) => {
      const applied: AssignTargets = { peers: [], users: [], groups: [] };
      if (t.peers.length) {
        const r = await trx
          .updateTable('devices')
          .set({ strategy_guid: strategy, updated_at: ts })
          .where('guid', 'in', t.peers)
          .returning('guid')
          .execute();
        applied.peers = r.map((x) => x.guid);
      }
      if (t.users.length) {
        const r = await trx
          .updateTable('users')
          .set({ strategy_guid: strategy, updated_at: ts })
          .where('guid', 'in', t.users)
          .returning('guid')
          .execute();
        applied.users = r.map((x) => x.guid);
      }
      if (t.groups.length) {
        const r = await trx
          .updateTable('device_groups')
          .set({ strategy_guid: strategy, updated_at: ts })
          .where('guid', 'in', t.groups)
          .returning('guid')
          .execute();
        applied.groups = r.map((x) => x.guid);
      }
      return applied;
    });
  }

  async assignedCounts(guid: string): Promise<{ peers: number; users: number; groups: number }> {
    const count = async (table: 'devices' | 'users' | 'device_groups') =>
      Number(
        (
          await this.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('strategy_guid', '=', guid)
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      peers: await count('devices'),
      users: await count('users'),
      groups: await count('device_groups'),
    };
  }

  /**
   * The strategy a device gets: its own, else its user's, else its device group's, else Default.
   * The first level that names a strategy decides, enabled or not: a disabled strategy there
   * leaves the device unmanaged (it does not fall through to the next level).
   */
  async effectiveFor(deviceGuid: string): Promise<Effective | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .leftJoin('users', 'users.guid', 'devices.user_guid')
      .leftJoin('device_groups', 'device_groups.guid', 'devices.device_group_guid')
      .select([
        'devices.strategy_guid as device',
        'users.strategy_guid as user',
        'device_groups.strategy_guid as device_group',
      ])
      .where('devices.guid', '=', deviceGuid)
      .executeTakeFirst();
    return row ? this.resolve(row) : undefined;
  }

  /** effectiveFor() for a chain already read (the heartbeat reads it with the device). */
  async resolve(row: StrategyChain): Promise<Effective> {
    const { all, def } = await this.snapshot();
    const chain: Record<StrategyLevel, string | null> = {
      device: row.device ? (all.get(row.device)?.name ?? null) : null,
      user: row.user ? (all.get(row.user)?.name ?? null) : null,
      device_group: row.device_group ? (all.get(row.device_group)?.name ?? null) : null,
      default: def?.name ?? null,
    };
    for (const level of ['device', 'user', 'device_group'] as const) {
      const g = row[level];
      const s = g ? all.get(g) : undefined;
      if (s) return { strategy: s, level, managed: s.enabled === 1, chain };
    }
    return { strategy: def, level: 'default', managed: def !== null && def.enabled === 1, chain };
  }
}

/** Handshake values by key (one hash per strategy revision, not one per heartbeat). */
const handshakes = new Map<string, number>();

/**
 * The heartbeat handshake value for what a device should have: it changes when the effective
 * strategy, its content or its status changes, so an unchanged strategy is never sent twice.
 */
export function handshakeValue(e: Effective): number {
  const key = e.strategy && e.managed ? `${e.strategy.guid}:${e.strategy.revision}` : 'unmanaged';
  let v = handshakes.get(key);
  if (v === undefined) {
    if (handshakes.size >= 10_000) handshakes.clear();
    v = Number.parseInt(createHash('sha256').update(key).digest('hex').slice(0, 12), 16);
    handshakes.set(key, v);
  }
  return v;
}
