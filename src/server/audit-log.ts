import type { Context } from 'hono';
import { clientIp } from './auth';
import type { AppDeps, AppEnv } from './context';

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
