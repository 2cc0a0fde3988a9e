import type { Ctx } from '../src/cli/context';
import { csvLine } from '../src/cli/csv';
import { UsageError } from '../src/cli/errors';
import type { Column } from '../src/cli/output';
import { parseTimestamp } from '../src/cli/time';
import { type AreaSpec, type OptSpec, opt, selector, str, type VerbSpec } from '../src/cli/verb';
import type { AuditKind, AuditQuery, AuditRow } from '../src/client/audits';
import { wildcard } from '../src/client/filters';
import {
  ALARM_TYPE_LABEL,
  CONN_TYPE_LABEL,
  CONSOLE_OP_LABEL,
  CONSOLE_TYPE_LABEL,
  codeOf,
  FILE_DIRECTION_LABEL,
  label,
  NOT_LOGGED_IN,
  PRIMARY_AUTH_LABEL,
  TWO_FACTOR_LABEL,
} from '../src/wire/audit-labels';
import {
  formatOffset,
  formatWallClock,
  isValidZone,
  offsetMinutesAt,
  parseTimeText,
  resolveTime,
  TIME_FORMATS,
  toFilterTime,
} from '../src/wire/audit-time';
import { stringifyJson } from '../src/wire/json-lossless';

// Mirrors audits.py: view-conn, view-file, view-alarm, view-console with its flags and labels.
// Fixes D-24 (times: ISO 8601 input read with the offset in force on that date, fractions kept,
// bad input refused, --days-ago with --created-at refused, output in the viewer's zone or UTC,
// raw values under --json) and D-25 (--all pages through everything, streaming; --until; type and
// operation filters; --page-size bounds; --format csv).

const MAX_PAGE_SIZE = 1000; // the server's cap (src/wire/common.ts MAX_PAGE_SIZE)
const DAY_MS = 86_400_000;

type Format = 'table' | 'tsv' | 'csv' | 'json';
const FORMATS: Format[] = ['table', 'tsv', 'csv', 'json'];

interface TimeStyle {
  zone: string;
  utc: boolean;
  /** ISO 8601 with offset (piped and CSV output) rather than `YYYY-MM-DD HH:MM:SS` (tables). */
  iso: boolean;
}

// --- input ------------------------------------------------------------------------------------

function intFlag(flag: string, raw: unknown, min: number, max: number): number | undefined {
  const v = str(raw);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got '${v}')`);
  return Number(v);
}

function codeFlag(flag: string, raw: unknown, table: Record<number, string>): number | undefined {
  const v = str(raw);
  if (v === undefined) return undefined;
  const code = codeOf(table, v);
  if (code === undefined || code > 255) {
    const known = Object.entries(table)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    throw new UsageError(`invalid ${flag} '${v}'`, `give a number or a name: ${known}`);
  }
  return code;
}

/** The viewer's time zone: TZ when set and known, else the system's. */
export function viewerZone(ctx: Ctx): string {
  const tz = ctx.io.env['TZ']?.replace(/^:/, '');
  // TZ set but empty is UTC (POSIX); so is a system zone Intl cannot use (Etc/Unknown in containers).
  if (tz === '') return 'UTC';
  const found = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const system = found && isValidZone(found) ? found : 'UTC';
  if (tz) {
    if (isValidZone(tz)) return tz;
    ctx.out.warn(`TZ='${tz}' is not a time zone this system knows; using ${system}`);
  }
  return system;
}

function timeFlag(flag: string, raw: unknown, zone: string): number | undefined {
  const v = str(raw);
  if (v === undefined) return undefined;
  const t = parseTimeText(v);
  const year = /^\s*(\d{4})-\d/.exec(v)?.[1];
  if (!t && year !== undefined && Number(year) < 1970)
    throw new UsageError(
      `invalid ${flag} '${v}': before 1970`,
      'audit records have Unix times, none earlier than 1970-01-01; give a later time',
    );
  if (!t)
    throw new UsageError(
      `invalid ${flag} '${v}'`,
      `use ${TIME_FORMATS}; a time without an offset is read in ${zone}, with the offset in force on that date`,
    );
  return resolveTime(t, zone);
}

interface Plan {
  format: Format;
  time: TimeStyle;
  all: boolean;
  current: number;
  pageSize: number;
  query: AuditQuery;
  /** Checks repeated on each row, in case a server ignores the filters that go beyond audits.py. */
  untilMs?: number;
  typ?: number;
  iop?: number;
}

function planFor(ctx: Ctx, kind: AuditKind, o: Record<string, unknown>): Plan {
  const zone = viewerZone(ctx);
  const utc = o['utc'] === true;
  let format = str(o['format']) as Format | undefined;
  if (format !== undefined && !FORMATS.includes(format))
    throw new UsageError(`invalid --format '${format}'`, `use one of: ${FORMATS.join(', ')}`);
  if (ctx.out.json && format !== undefined && format !== 'json')
    throw new UsageError(`--json and --format ${format} contradict each other: give one of them`);
  format ??= ctx.out.json ? 'json' : ctx.out.stdoutIsTTY ? 'table' : 'tsv';

  const all = ctx.flags.all === true;
  const current = intFlag('--current', o['current'], 1, 1_000_000_000);
  if (all && current !== undefined)
    throw new UsageError('--all reads every page: it cannot be combined with --current');
  const pageSize =
    intFlag('--page-size', o['pageSize'], 1, MAX_PAGE_SIZE) ?? (all ? ctx.config.pageSize : 10);

  const daysAgo = intFlag('--days-ago', o['daysAgo'], 0, 100_000);
  if (daysAgo !== undefined && str(o['createdAt']) !== undefined)
    throw new UsageError('--days-ago and --created-at both set the lower time bound: give only one of them');
  const from =
    // Reaching back before 1970 is every record (the server takes no earlier time).
    daysAgo !== undefined
      ? Math.max(0, Date.now() - daysAgo * DAY_MS)
      : timeFlag('--created-at', o['createdAt'], zone);
  const until = timeFlag('--until', o['until'], zone);
  if (from !== undefined && until !== undefined && until <= from)
    throw new UsageError(
      `--until (${new Date(until).toISOString()}) must be later than the lower bound (${new Date(from).toISOString()})`,
    );

  const query: AuditQuery = {};
  const like = (v: unknown) => (str(v) === undefined ? undefined : wildcard(str(v)!));
  let typ: number | undefined;
  let iop: number | undefined;
  if (kind === 'conn') {
    query.remote = like(o['remote']);
    query.conn_type = codeFlag('--conn-type', o['connType'], CONN_TYPE_LABEL);
  } else if (kind === 'file') {
    query.remote = like(o['remote']);
  } else if (kind === 'alarm') {
    query.device = like(o['device']);
    typ = codeFlag('--type', o['type'], ALARM_TYPE_LABEL);
    query.typ = typ;
  } else {
    query.operator = like(o['operator']);
    typ = codeFlag('--type', o['type'], CONSOLE_TYPE_LABEL);
    iop = codeFlag('--operation', o['operation'], CONSOLE_OP_LABEL);
    query.typ = typ;
    query.iop = iop;
  }
  if (from !== undefined) query.created_at = toFilterTime(from);
  if (until !== undefined) query.created_before = toFilterTime(until);
  for (const k of Object.keys(query) as (keyof AuditQuery)[]) if (query[k] === undefined) delete query[k];
  return {
    format,
    time: { zone, utc, iso: format !== 'table' },
    all,
    current: current ?? 1,
    pageSize,
    query,
    untilMs: until,
    typ,
    iop,
  };
}

// --- output -----------------------------------------------------------------------------------

/** Milliseconds of a row time: Unix seconds (Pro's form), or a timestamp text (UTC unless it says). */
function timeMs(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v * 1000;
  return typeof v === 'string' ? parseTimestamp(v) : undefined;
}

function showTime(v: unknown, s: TimeStyle): string {
  if (v === null || v === undefined) return '';
  const ms = timeMs(v);
  if (ms === undefined) return String(v);
  const zone = s.utc ? 'UTC' : s.zone;
  const wall = formatWallClock(ms, zone);
  if (!s.iso) return wall;
  const off = offsetMinutesAt(ms, zone);
  return `${wall.replace(' ', 'T')}${s.utc || off === 0 ? 'Z' : formatOffset(off)}`;
}

function duration(start: unknown, end: unknown): string {
  const a = timeMs(start);
  const b = timeMs(end);
  if (a === undefined) return '';
  if (end === null || end === undefined) return 'open';
  if (b === undefined) return '';
  let s = Math.max(0, Math.round((b - a) / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}h ${p2(m)}m ${p2(s)}s` : m ? `${m}m ${p2(s)}s` : `${s}s`;
}

const text = (v: unknown) =>
  v === null || v === undefined ? '' : typeof v === 'object' ? stringifyJson(v) : String(v);
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

function withName(id: unknown, name: unknown): string {
  const i = text(id);
  const n = text(name);
  return n && n !== i ? `${i} (${n})` : i;
}

function columnsFor(kind: AuditKind, t: TimeStyle): Column<AuditRow>[] {
  const time = (key: string) => (r: AuditRow) => showTime(r[key], t);
  switch (kind) {
    case 'conn':
      return [
        { header: 'START', value: time('created_at') },
        { header: 'END', value: time('end_time') },
        { header: 'DURATION', value: (r) => duration(r['created_at'], r['end_time']) },
        {
          header: 'TYPE',
          value: (r) => ('conn_type' in r ? label(CONN_TYPE_LABEL, num(r['conn_type'])) : NOT_LOGGED_IN),
        },
        { header: 'DEVICE', value: (r) => withName(r['device_id'], r['device_name']) },
        { header: 'PEER', value: (r) => withName(r['peer_id'], r['peer_name']) },
        { header: 'IP', value: (r) => text(r['ip']) },
        {
          header: 'AUTH',
          value: (r) => {
            const p = label(PRIMARY_AUTH_LABEL, num(r['primary_auth']));
            const f = num(r['two_factor']) ? label(TWO_FACTOR_LABEL, num(r['two_factor'])) : '';
            return f ? `${p} + ${f}` : p;
          },
        },
        { header: 'NOTE', value: (r) => text(r['note']) },
        { header: 'SESSION', value: (r) => text(r['session_id']) },
        // What `rdadmin devices disconnect --conn` takes (an open connection has no END).
        { header: 'CONN', value: (r) => text(r['conn_id']) },
      ];
    case 'file':
      return [
        { header: 'TIME', value: time('created_at') },
        { header: 'DEVICE', value: (r) => withName(r['device_id'], r['device_name']) },
        { header: 'PEER', value: (r) => withName(r['peer_id'], r['peer_name']) },
        { header: 'DIRECTION', value: (r) => label(FILE_DIRECTION_LABEL, num(r['type'])) },
        { header: 'PATH', value: (r) => text(r['path']) },
        { header: 'FILES', value: (r) => (r['is_file'] === true ? '1' : text(r['num'])) },
        { header: 'IP', value: (r) => text(r['ip']) },
      ];
    case 'alarm':
      return [
        { header: 'TIME', value: time('created_at') },
        { header: 'TYPE', value: (r) => label(ALARM_TYPE_LABEL, num(r['typ'])) },
        { header: 'DEVICE', value: (r) => withName(r['device_id'], r['device_name']) },
        { header: 'IP', value: (r) => text(r['ip']) },
        { header: 'INFO', value: (r) => text(r['info']) },
      ];
    case 'console':
      return [
        { header: 'TIME', value: time('created_at') },
        { header: 'TYPE', value: (r) => label(CONSOLE_TYPE_LABEL, num(r['typ'])) },
        { header: 'OPERATION', value: (r) => label(CONSOLE_OP_LABEL, num(r['iop'])) },
        { header: 'OPERATOR', value: (r) => text(r['operator']) },
        { header: 'IP', value: (r) => text(r['ip']) },
        { header: 'DETAIL', value: (r) => text(r['detail']) },
      ];
  }
}

const NOUNS: Record<AuditKind, string> = {
  conn: 'connection records',
  file: 'file transfer records',
  alarm: 'alarm records',
  console: 'console records',
};

/** The filters beyond audits.py, which a server may ignore (Pro's listings do not take them). */
const EXTRA_FILTERS = ['until', 'type', 'operation'] as const;
type ExtraFilter = (typeof EXTRA_FILTERS)[number];

/** What checked() found: the rows the server sent, those left out, the filters it did not apply. */
interface Checked {
  sent: number;
  dropped: number;
  /** Filters a row the server sent did not match: the server evidently does not apply them. */
  ignored: Set<ExtraFilter>;
}

/** Drops rows a server returned outside the filters audits.py does not have (a Pro server may ignore them). */
async function* checked(
  ctx: Ctx,
  p: Plan,
  rows: AsyncIterable<AuditRow> | AuditRow[],
  found: Checked = { sent: 0, dropped: 0, ignored: new Set() },
): AsyncGenerator<AuditRow> {
  for await (const r of rows) {
    found.sent++;
    const ms = timeMs(r['created_at']);
    const outside: ExtraFilter[] = [];
    if (p.untilMs !== undefined && ms !== undefined && ms >= p.untilMs) outside.push('until');
    if (p.typ !== undefined && typeof r['typ'] === 'number' && r['typ'] !== p.typ) outside.push('type');
    if (p.iop !== undefined && typeof r['iop'] === 'number' && r['iop'] !== p.iop) outside.push('operation');
    for (const f of outside) found.ignored.add(f);
    if (outside.length) found.dropped++;
    else yield r;
  }
  if (found.dropped)
    ctx.out.warn(
      `the server returned ${found.dropped} record(s) outside --until/--type/--operation (it may not support them); they were left out`,
    );
}

async function render(ctx: Ctx, kind: AuditKind, p: Plan, rows: AsyncIterable<AuditRow>): Promise<number> {
  const cols = columnsFor(kind, p.time);
  // Through the output's blocks: one system call per 64 KB, not per record (300,000 of them with --all).
  const w = (s: string) => ctx.out.text(s);
  let n = 0;
  if (p.format === 'json') {
    // Through text() too; an interrupted listing still ends its array (Output.endUnfinished).
    const arr = ctx.out.jsonArray({ stringify: (r) => stringifyJson(r), text: true });
    for await (const r of rows) {
      n++;
      arr.push(r);
    }
    arr.end();
    return n;
  }
  if (p.format === 'csv') {
    w(csvLine(cols.map((c) => c.header)));
    for await (const r of rows) {
      n++;
      w(csvLine(cols.map((c) => c.value(r))));
    }
    return n;
  }
  if (p.format === 'tsv') {
    for await (const r of rows) {
      n++;
      w(`${cols.map((c) => c.value(r).replace(/[\t\n\r]/g, ' ')).join('\t')}\n`);
    }
    return n;
  }
  return ctx.out.table(cols, rows);
}

function auditVerb(
  kind: AuditKind,
  spec: { name: string; summary: string; options: OptSpec[]; examples: string[]; description: string },
): VerbSpec {
  return {
    name: spec.name,
    summary: spec.summary,
    description: spec.description + COMMON_HELP,
    options: [...spec.options, ...COMMON_OPTIONS],
    examples: spec.examples,
    async run(ctx, o) {
      const p = planFor(ctx, kind, o);
      const where = p.time.utc ? 'UTC' : p.time.zone;
      if (p.all) {
        const n = await render(ctx, kind, p, checked(ctx, p, ctx.api.audits.all(kind, p.query, p.pageSize)));
        if (n === 0) ctx.out.info(`No ${NOUNS[kind]} match.`);
        else if (p.format === 'table') ctx.out.info(`${n} ${NOUNS[kind]}; times in ${where}.`);
        return;
      }
      const page = await ctx.api.audits.page(kind, p.query, p.current, p.pageSize);
      // A server that ignores a filter beyond audits.py pages and counts the log without it: its
      // `total` and pages are then not the matches, and only this page's matches can be told.
      const found: Checked = { sent: 0, dropped: 0, ignored: new Set() };
      const ignored = () => EXTRA_FILTERS.filter((f) => found.ignored.has(f));
      if (p.format === 'json') {
        const data: AuditRow[] = [];
        for await (const r of checked(ctx, p, page.data, found)) data.push(r);
        // audits.py's envelope; `total` stays the server's count (the pages to ask for), and
        // `client_side_filter` says when it is not the number of matches.
        const envelope = {
          data,
          total: page.total,
          current: p.current,
          pageSize: p.pageSize,
          ...(found.dropped
            ? {
                client_side_filter: {
                  not_applied_by_server: ignored(),
                  page_records: found.sent,
                  matching: data.length,
                },
              }
            : {}),
        };
        ctx.io.stdout.write(`${stringifyJson(envelope, 2)}\n`);
        return;
      }
      const n = await render(ctx, kind, p, checked(ctx, p, page.data, found));
      const pages = Math.max(1, Math.ceil(page.total / p.pageSize));
      if (n === 0 && page.total === 0) ctx.out.info(`No ${NOUNS[kind]} match.`);
      else if (p.format === 'table' || n === 0 || p.current * p.pageSize < page.total) {
        const more = p.current < pages ? `; next: --current ${p.current + 1}, everything: --all` : '';
        const by = ignored()
          .map((f) => `--${f}`)
          .join(' or ');
        const counts = found.dropped
          ? `${n} matching of the ${found.sent} records on page ${p.current} of ${pages} (the server counts ${page.total} ${NOUNS[kind]}: it does not filter by ${by})`
          : `Page ${p.current} of ${pages}: ${n} of ${page.total} ${NOUNS[kind]}`;
        ctx.out.info(`${counts}; times in ${where}${more}.`);
      }
    },
  };
}

const COMMON_OPTIONS: OptSpec[] = [
  opt(
    'page-size',
    '<n>',
    `records per page, 1–${MAX_PAGE_SIZE} (default 10; with --all, RDADMIN_PAGE_SIZE or 100)`,
  ),
  opt('current', '<n>', 'page number, from 1 (default 1)'),
  opt(
    'created-at',
    '<time>',
    "records from this time on: '2025-09-16 14:15:57', '2025-09-16', or ISO 8601 with an offset; local time unless an offset is given",
  ),
  opt('days-ago', '<n>', 'records from the last N days (N×24 hours); not together with --created-at'),
  opt('until', '<time>', 'records before this time (same forms as --created-at)'),
  opt('utc', undefined, 'show times in UTC instead of the local time zone (TZ)'),
  opt('format', '<format>', 'table (terminal), tsv (piped), csv (export), json (raw values, like --json)'),
];

const COMMON_HELP = [
  '',
  '',
  "Times: --created-at and --until take local times ('2025-07-01 12:00:00', '2025-07-01') converted with the UTC offset in force on that date (TZ decides the zone), or ISO 8601 with an offset ('2025-07-01T10:00:00Z').",
  '',
  'Output shows times in the local zone, or in UTC with --utc; --json prints the records exactly as the server sent them (Unix seconds, numeric codes). One page by default, like audits.py; --all pages through every record, streaming.',
].join('\n');

const remoteOpt = selector(
  'remote',
  '<peer_id>',
  "RustDesk ID of either side of the connection; a substring match unless it holds '%'",
);

export const auditsArea: AreaSpec = {
  name: 'audits',
  aliases: ['audit'],
  summary: 'View connection, file transfer, alarm and console audit logs (audits.py)',
  description:
    "View the audit logs, like audits.py: view-conn, view-file, view-alarm, view-console. Filters --remote, --device and --operator are substring matches (a value holding '%' is used as a LIKE pattern); records are listed newest first. Needs a token with Audit Log read permission (audit_log:r); against rdadmin serve, a user who is not an administrator may use their own session and sees their own records.",
  verbs: [
    auditVerb('conn', {
      name: 'view-conn',
      summary: 'View connection audits',
      description: `View connection audits: start, end, type (${Object.values(CONN_TYPE_LABEL).join(', ')}, or "${NOT_LOGGED_IN}" when authentication never succeeded), both sides, IP and authentication.`,
      options: [
        remoteOpt,
        opt(
          'conn-type',
          '<type>',
          '0 Remote Desktop, 1 File Transfer, 2 Port Transfer, 3 View Camera, 4 Terminal (number or name)',
        ),
      ],
      examples: [
        'rdadmin audits view-conn --remote 123456789 --days-ago 7',
        'rdadmin audits view-conn --conn-type 1 --created-at "2025-09-16 14:15:57" --page-size 50',
        'rdadmin audits view-conn --all --created-at 2025-07-01 --until 2025-08-01 --format csv > july.csv',
      ],
    }),
    auditVerb('file', {
      name: 'view-file',
      summary: 'View file transfer audits',
      description: 'View file transfer audits: time, both sides, direction, path and the number of files.',
      options: [remoteOpt],
      examples: [
        'rdadmin audits view-file --remote 123456789',
        'rdadmin audits view-file --days-ago 1 --utc --json',
      ],
    }),
    auditVerb('alarm', {
      name: 'view-alarm',
      summary: 'View alarm audits',
      description: `View alarm audits. Types: ${Object.entries(ALARM_TYPE_LABEL)
        .map(([k, v]) => `${k} ${v}`)
        .join('; ')}.`,
      options: [
        selector('device', '<device_id>', "the device's RustDesk ID; a substring match unless it holds '%'"),
        opt('type', '<type>', 'only this alarm type (number or name)'),
      ],
      examples: [
        'rdadmin audits view-alarm --device 123456789',
        'rdadmin audits view-alarm --type 4 --days-ago 1',
      ],
    }),
    auditVerb('console', {
      name: 'view-console',
      summary: 'View console audits (every change made, and logins)',
      description: `View console audits: who changed what, when, from which IP. Types: ${Object.entries(
        CONSOLE_TYPE_LABEL,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}. Operations: Pro's codes 0–22 (e.g. 0 User Login, 7 Disable Users).`,
      options: [
        selector('operator', '<username>', "the operator's user name; a substring match unless it holds '%'"),
        opt('type', '<type>', 'only this console type (number or name, e.g. 1 or "User Management")'),
        opt('operation', '<op>', 'only this operation (number or name, e.g. 7 or "Disable Users")'),
      ],
      examples: [
        'rdadmin audits view-console --operator admin --days-ago 1',
        'rdadmin audits view-console --operator admin --created-at "2025-07-01 12:00:00" --page-size 5 --current 2',
        'rdadmin audits view-console --operation "User Login" --all --format csv',
      ],
    }),
  ],
};
