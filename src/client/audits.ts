import { AuditAlarmRow, AuditConnRow, AuditConsoleRow, AuditFileRow } from '../wire/audits';
import { listOf } from '../wire/common';
import { parseJsonLossless } from '../wire/json-lossless';
import { paginate } from './paginate';
import type { Query, Transport } from './transport';

export type AuditKind = 'conn' | 'file' | 'alarm' | 'console';

/** Query parameters of /api/audits/{kind}; filters are sent as given (apply `wildcard()` first). */
export interface AuditQuery {
  remote?: string;
  conn_type?: number;
  device?: string;
  typ?: number;
  iop?: number;
  operator?: string;
  /** UTC `YYYY-MM-DD HH:MM:SS.mmm`: lower bound, inclusive (as the scripts send it). */
  created_at?: string;
  /** UTC upper bound, exclusive (this server; a Pro server may ignore it). */
  created_before?: string;
}

/** A row as the server sent it; large integers (session_id) arrive as bigints, every digit kept. */
export type AuditRow = Record<string, unknown>;

const ROWS = { conn: AuditConnRow, file: AuditFileRow, alarm: AuditAlarmRow, console: AuditConsoleRow };

/** One typed function per audit listing (pro-admin-api.md §9, rows 47–50). */
export function auditsApi(t: Transport, prefetch = 0) {
  return {
    /** One page, as audits.py reads it. */
    async page(kind: AuditKind, q: AuditQuery, current: number, pageSize: number) {
      const body = await t.call('GET', `/api/audits/${kind}`, {
        query: { ...(q as Query), current, pageSize },
        schema: listOf(ROWS[kind]),
        parse: parseJsonLossless,
      });
      return { data: (body?.data ?? []) as AuditRow[], total: body?.total ?? 0 };
    },
    /** Every page, streamed. */
    all(kind: AuditKind, q: AuditQuery, pageSize: number): AsyncGenerator<AuditRow> {
      return paginate(t, `/api/audits/${kind}`, q as Query, ROWS[kind], {
        pageSize,
        parse: parseJsonLossless,
        prefetch,
        // Newest first: a record added meanwhile cannot hide another (see PageOptions.reread).
        reread: false,
      }) as AsyncGenerator<AuditRow>;
    },
  };
}
export type AuditsApi = ReturnType<typeof auditsApi>;
