import { z } from 'zod';
import {
  AssignResult,
  AssignStrategyBody,
  CreateStrategyBody,
  EffectiveResult,
  StatusBody,
  StrategyRow,
  UpdateStrategyBody,
} from '../../wire/strategies';
import { changeRecorded } from '../audit-log';
import type { AppDeps } from '../context';
import { HttpError, readBody, readQuery } from '../http';
import type { RouteTable } from '../routes';
import type { Store } from '../store';
import { ConsoleOp, ConsoleType } from '../store/audit';
import { DEFAULT_STRATEGY, type StrategyRecord } from '../store/strategies';

export function strategyRow(s: StrategyRecord, counts?: { peers: number; users: number; groups: number }) {
  return {
    guid: s.guid,
    name: s.name,
    enabled: s.enabled === 1,
    options: JSON.parse(s.options) as Record<string, string>,
    created_at: s.created_at,
    updated_at: s.updated_at,
    ...(counts ? { assigned: counts } : {}),
  };
}

const Ok = z.object({});

export function registerStrategyRoutes(r: RouteTable, deps: AppDeps): void {
  const { store } = deps;
  /** A change to strategies and its console record, in one transaction. */
  const logged = <T>(
    c: Parameters<Parameters<RouteTable['add']>[1]>[0],
    change: (tx: Store) => Promise<T>,
    detail: string | ((result: T) => string),
  ) => changeRecorded(deps, c, ConsoleType.device, ConsoleOp.updateDevice, change, detail);

  /** The strategy, read from `from` (inside a change: the transaction's store), or a 404. */
  async function load(guid: string, from: Store = store): Promise<StrategyRecord> {
    const s = await from.strategies.getByGuid(guid);
    if (!s) throw new HttpError(404, `strategy not found: ${guid}`);
    return s;
  }

  r.add(
    {
      method: 'GET',
      path: '/api/strategies',
      tag: 'strategies',
      summary: 'All strategies, as a bare JSON array (as Pro answers).',
      access: { area: 'strategy', level: 'r' },
      response: z.array(StrategyRow),
    },
    async (c) => c.json((await store.strategies.list()).map((s) => strategyRow(s))),
  );

  r.add(
    {
      method: 'GET',
      path: '/api/strategies/effective',
      tag: 'strategies',
      summary:
        "The strategy a device gets (`peer` = device ID) and why: its own, else its user's, else its device group's, else Default. A disabled strategy at the deciding level leaves the device unmanaged.",
      access: { area: 'strategy', level: 'r' },
      query: z.object({ peer: z.string().min(1) }),
      response: EffectiveResult,
    },
    async (c) => {
      const { peer } = readQuery(
        c,
        z.object({
          peer: z.string({ error: 'is required (a device ID)' }).min(1, 'is required (a device ID)'),
        }),
      );
      const d = await store.devices.getById(peer);
      if (!d) throw new HttpError(404, `device ${peer} not found`);
      const e = (await store.strategies.effectiveFor(d.guid))!;
      return c.json({
        device: { guid: d.guid, id: d.id },
        strategy: e.strategy
          ? { ...strategyRow(e.strategy), created_at: undefined, updated_at: undefined }
          : null,
        level: e.level,
        managed: e.managed,
        chain: e.chain,
      });
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/strategies/{guid}',
      tag: 'strategies',
      summary: 'One strategy, with how many devices, users and device groups it is assigned to.',
      access: { area: 'strategy', level: 'r' },
      response: StrategyRow,
    },
    async (c) => {
      const s = await load(c.req.param('guid') ?? '');
      return c.json(strategyRow(s, await store.strategies.assignedCounts(s.guid)));
    },
  );

  r.add(
    {
      method: 'PUT',
      path: '/api/strategies/{guid}/status',
      tag: 'strategies',
      summary: 'Enable (`true`) or disable (`false`) a strategy; the body is the bare JSON literal.',
      access: { area: 'strategy', level: 'rw' },
      body: StatusBody,
      response: Ok,
    },
    async (c) => {
      // The body first, then the strategy as it is now, in the transaction that changes it: a slow
      // body must not leave a copy read before it, of a strategy deleted or renamed meanwhile.
      const enabled = await readBody(c, StatusBody);
      const guid = c.req.param('guid') ?? '';
      await logged(
        c,
        async (tx) => {
          const s = await load(guid, tx);
          await tx.strategies.update(s.guid, { enabled });
          return s;
        },
        (s) => `${enabled ? 'enabled' : 'disabled'} strategy '${s.name}'`,
      );
      return c.json({});
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/strategies/assign',
      tag: 'strategies',
      summary:
        'Assign a strategy (`strategy` GUID) to devices (`peers`), `users` and device `groups`, all by GUID; without `strategy`, unassign them. All or nothing: an unknown GUID is a 400 naming it. Answers the counts applied.',
      access: { area: 'strategy', level: 'rw' },
      body: AssignStrategyBody,
      response: AssignResult,
    },
    async (c) => {
      const body = await readBody(c, AssignStrategyBody);
      const s = body.strategy ? await store.strategies.getByGuid(body.strategy) : undefined;
      if (body.strategy && !s) throw new HttpError(400, `strategy not found: ${body.strategy}`);
      const targets = {
        peers: [...new Set(body.peers)],
        users: [...new Set(body.users)],
        groups: [...new Set(body.groups)],
      };
      if (!targets.peers.length && !targets.users.length && !targets.groups.length) {
        throw new HttpError(400, 'nothing to assign: give peers, users or groups');
      }
      const missing: string[] = [];
      for (const g of targets.peers) if (!(await store.devices.getByGuid(g))) missing.push(`device ${g}`);
      for (const g of targets.users) if (!(await store.users.getByGuid(g))) missing.push(`user ${g}`);
      for (const g of targets.groups)
        if (!(await store.devices.getGroupByGuid(g))) missing.push(`device group ${g}`);
      if (missing.length) throw new HttpError(400, `not found: ${missing.slice(0, 10).join(', ')}`);
      const counts = await logged(
        c,
        async (tx) => {
          const applied = await tx.strategies.assign(s?.guid ?? null, targets);
          return { peers: applied.peers.length, users: applied.users.length, groups: applied.groups.length };
        },
        (n) =>
          `${s ? `assigned strategy '${s.name}' to` : 'unassigned the strategy of'} ${n.peers} device(s), ${n.users} user(s), ${n.groups} device group(s)`,
      );
      return c.json({ strategy: s?.guid ?? null, ...counts });
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/strategies',
      tag: 'strategies',
      summary:
        'Create a strategy: `name`, `options` (client option key → string value), `enabled` (default true).',
      access: { area: 'strategy', level: 'rw' },
      body: CreateStrategyBody,
      response: StrategyRow,
    },
    async (c) => {
      const body = await readBody(c, CreateStrategyBody);
      if (await store.strategies.getByName(body.name))
        throw new HttpError(409, `a strategy named '${body.name}' already exists`);
      const guid = await logged(
        c,
        (tx) => tx.strategies.create(body.name, body.options, body.enabled),
        `created strategy '${body.name}'`,
      );
      return c.json(strategyRow((await store.strategies.getByGuid(guid))!));
    },
  );

  r.add(
    {
      method: 'PATCH',
      path: '/api/strategies/{guid}',
      tag: 'strategies',
      summary: 'Rename a strategy and/or change options (a key set to null is removed).',
      access: { area: 'strategy', level: 'rw' },
      body: UpdateStrategyBody,
      response: StrategyRow,
    },
    async (c) => {
      // The body first; then the checks, the merge of the options and the write in one
      // transaction, from the strategy as it is now: a slow body must not leave a copy read before
      // it (another administrator's options dropped, a deleted strategy written to).
      const body = await readBody(c, UpdateStrategyBody);
      const guid = c.req.param('guid') ?? '';
      const { after } = await logged(
        c,
        async (tx) => {
          const s = await load(guid, tx);
          if (body.name !== undefined && body.name !== s.name) {
            if (s.name === DEFAULT_STRATEGY)
              throw new HttpError(400, `the '${DEFAULT_STRATEGY}' strategy cannot be renamed`);
            if (await tx.strategies.getByName(body.name))
              throw new HttpError(409, `a strategy named '${body.name}' already exists`);
          }
          let options: Record<string, string> | undefined;
          if (body.options) {
            options = JSON.parse(s.options) as Record<string, string>;
            for (const [k, v] of Object.entries(body.options)) {
              if (v === null) delete options[k];
              else options[k] = v;
            }
          }
          await tx.strategies.update(s.guid, { name: body.name, options });
          return { before: s, after: await load(guid, tx) };
        },
        ({ before: s }) =>
          `updated strategy '${s.name}'${body.name && body.name !== s.name ? ` (renamed to '${body.name}')` : ''}`,
      );
      return c.json(strategyRow(after));
    },
  );

  r.add(
    {
      method: 'DELETE',
      path: '/api/strategies/{guid}',
      tag: 'strategies',
      summary: `Delete a strategy; what it was assigned to falls back to the next level. '${DEFAULT_STRATEGY}' cannot be deleted.`,
      access: { area: 'strategy', level: 'rw' },
      response: Ok,
    },
    async (c) => {
      const s = await load(c.req.param('guid') ?? '');
      if (s.name === DEFAULT_STRATEGY)
        throw new HttpError(400, `the '${DEFAULT_STRATEGY}' strategy cannot be deleted`);
      await logged(
        c,
        async (tx) => {
          // Deleted meanwhile by another request: nothing to record.
          if (!(await tx.strategies.delete(s.guid)))
            throw new HttpError(404, `strategy not found: ${s.guid}`);
        },
        `deleted strategy '${s.name}'`,
      );
      return c.json({});
    },
  );
}
