import type { z } from 'zod';
import { ApiError } from '../cli/errors';
import {
  AssignResult,
  CreateStrategyBody,
  EffectiveResult,
  StrategyListBody,
  StrategyRow,
  type StrategyRow as StrategyRowT,
  UpdateStrategyBody,
} from '../wire/strategies';
import { checkInput, type FlagNames } from './input';
import { path, type Transport } from './transport';

/** Strategies (pro-admin-api.md §9 rows 43–46) and the create/update/delete/effective routes. */
export function strategiesApi(t: Transport) {
  return {
    /** A create or an update as the server checks it (see checkInput); a usage error otherwise. */
    checkCreate(body: { name: string; options: Record<string, string> }, flags?: FlagNames) {
      const { name, options } = checkInput(CreateStrategyBody, body, flags);
      return { name, options };
    },
    checkUpdate(patch: z.input<typeof UpdateStrategyBody>, flags?: FlagNames) {
      return checkInput(UpdateStrategyBody, patch, flags);
    },
    /**
     * Every strategy. A server always has one (Default): an empty body (which strategies.py prints
     * as `null`) is a fault, reported as for any listing, never "no strategies".
     */
    async list(): Promise<StrategyRowT[]> {
      const body = await t.call('GET', '/api/strategies', { schema: StrategyListBody.nullable() });
      if (body === null)
        throw new ApiError(
          'the server answered HTTP 200 with null where the strategies were expected',
          200,
          'is --url the RustDesk console (port 21114), and not a proxy or web page?',
        );
      return Array.isArray(body) ? body : body.data;
    },
    get(guid: string) {
      return t.call('GET', path`/api/strategies/${guid}`, { schema: StrategyRow });
    },
    setStatus(guid: string, enabled: boolean) {
      return t.call('PUT', path`/api/strategies/${guid}/status`, { body: enabled });
    },
    assign(strategy: string | undefined, peers: string[], users: string[], groups: string[]) {
      return t.call('POST', '/api/strategies/assign', {
        body: { ...(strategy ? { strategy } : {}), peers, users, groups },
        schema: AssignResult.partial().passthrough().nullish(),
      });
    },
    create(name: string, options: Record<string, string>) {
      return t.call('POST', '/api/strategies', {
        body: { name, options },
        schema: StrategyRow,
        serveOnly: true,
      });
    },
    update(guid: string, patch: { name?: string; options?: Record<string, string | null> }) {
      return t.call('PATCH', path`/api/strategies/${guid}`, {
        body: patch,
        schema: StrategyRow,
        serveOnly: true,
      });
    },
    delete(guid: string) {
      return t.call('DELETE', path`/api/strategies/${guid}`, { serveOnly: true });
    },
    effective(peer: string) {
      return t.call('GET', '/api/strategies/effective', {
        query: { peer },
        schema: EffectiveResult,
        serveOnly: true,
      });
    },
  };
}
