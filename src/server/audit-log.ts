import type { Context } from 'hono';
import { clientIp } from './auth';
import type { AppDeps, AppEnv } from './context';
import { inTransaction, type Store } from './store';

/** Records an admin mutation in the console log, attributed to the caller. */
export async function recordConsole(
  deps: AppDeps,
  c: Context<AppEnv>,
  typ: number,
  iop: number,
  detail: string,
): Promise<void> {
  const p = c.get('principal');
  const via = p?.kind === 'token' ? ` (API token '${p.tokenName}')` : '';
  await deps.store.audit.console({
    typ,
    iop,
    operatorGuid: p?.user.guid ?? null,
    operator: p?.user.name ?? '',
    ip: clientIp(c),
    detail: detail + via,
  });
}

/**
 * Makes a change and records it in the console log in one transaction: after a crash there is
 * either both or neither, never a change the log does not show. `change` gets the transaction's
 * store and must use only it (and do no slow work such as password hashing: the transaction holds
 * the connection). `detail`, one record per line, may be computed from what `change` returned.
 */
export function changeRecorded<T>(
  deps: AppDeps,
  c: Context<AppEnv>,
  typ: number,
  iop: number,
  change: (tx: Store) => Promise<T>,
  detail: string | string[] | ((result: T) => string | string[]),
): Promise<T> {
  return inTransaction(deps.store, async (tx) => {
    const result = await change(tx);
    for (const line of [typeof detail === 'function' ? detail(result) : detail].flat())
      await recordConsole({ ...deps, store: tx }, c, typ, iop, line);
    return result;
  });
}
