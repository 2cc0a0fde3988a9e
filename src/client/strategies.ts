import {
  AssignResult,
  EffectiveResult,
  StrategyListBody,
  StrategyRow,
  type StrategyRow as StrategyRowT,
} from '../wire/strategies';
import { path, type Transport } from './transport';

/** Strategies (pro-admin-api.md §9 rows 43–46) and the create/update/delete/effective routes. */
export function strategiesApi(t: Transport) {
  return {
    async list(): Promise<StrategyRowT[]> {
      const body = await t.call('GET', '/api/strategies', { schema: StrategyListBody.nullish() });
      if (!body) return [];
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
