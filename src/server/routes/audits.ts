import type { Context } from 'hono';
import { z } from 'zod';
import { parseTimeText, resolveTime } from '../../wire/audit-time';
import {
  ActiveConnQuery,
  AuditAlarmBody,
  AuditAlarmList,
  AuditAlarmQuery,
  AuditConnBody,
  AuditConnList,
  AuditConnQuery,
  AuditConsoleList,
  AuditConsoleQuery,
  AuditFileBody,
  AuditFileList,
  AuditFileQuery,
  AuditNoteBody,
  AuditSessionNoteBody,
  PageQuery,
} from '../../wire/audits';
import { parseJsonLossless, stringifyJson } from '../../wire/json-lossless';
import { clientIp } from '../auth';
import type { AppDeps, Principal } from '../context';
import { checkWellFormed, HttpError, parseWith, readBody, readQuery, readText } from '../http';
import type { RouteTable } from '../routes';
import type {
  AlarmRecord,
  ConnRecord,
  ConsoleRecord,
  FileRecord,
  NoteScope,
  Own,
  TimeRange,
} from '../store/audit-logs';
import { fold } from '../store/like';

// Audit logs. Clients post connection, file and alarm records (public routes: the device names
// itself with `id` + `uuid`, as stock clients do); administrators list them (endpoints 47–50),
// other users their own records.
// On the wire `created_at` / `end_time` are Unix seconds (numbers), as Pro sends them and as
// audits.py renders them; `session_id` is a JSON number with every digit of its 64 bits.

/** Reads a JSON body without rounding large integers (session_id is an unsigned 64-bit number). */
async function readLosslessValue(c: Context): Promise<unknown> {
  const text = await readText(c);
  let value: unknown = null;
  if (text.trim() !== '') {
    try {
      value = parseJsonLossless(text);
    } catch {
      throw new HttpError(400, 'request body is not valid JSON');
    }
    checkWellFormed(value, text, 'request body');
  }
  if (value === null) throw new HttpError(400, 'request body is required (a JSON object)');
  return value;
}

async function readLosslessBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  return parseWith(schema, await readLosslessValue(c), 'request body');
}

/**
 * How long after a connection closed the controlling client's in-session note may still land on
 * it: the note and the controlled side's close are posted by two machines, and may cross.
 */
export const SESSION_NOTE_AFTER_CLOSE_MS = 10 * 60_000;

/** A JSON answer whose bigints are written as plain numbers. */
function losslessJson(c: Context, value: unknown): Response {
  return c.body(stringifyJson(value), 200, { 'content-type': 'application/json; charset=UTF-8' });
}

function unixSeconds(iso: string | null): number | null {
  return iso === null ? null : Math.floor(Date.parse(iso) / 1000);
}

function asText(v: string | number | undefined): string {
  return v === undefined ? '' : String(v);
}

/** The `info` JSON text of file and alarm posts, read leniently (a bad one is still stored as sent). */
function infoObject(info: string | undefined): Record<string, unknown> {
  if (!info) return {};
  try {
    const v = JSON.parse(info) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function str(v: unknown, max = 200): string {
  return typeof v === 'string' ? v.slice(0, max) : typeof v === 'number' ? String(v) : '';
}

export function connRow(r: ConnRecord) {
  return {
    guid: r.guid,
    device_id: r.device_id,
    device_name: r.device_name ?? '',
    peer_id: r.peer_id,
    peer_name: r.peer_name,
    ip: r.ip,
    conn_id: r.conn_id,
    session_id: r.session_id === null ? null : BigInt(r.session_id),
    // Absent (not null) until the connection is authorised: audits.py shows "Not Logged In".
    ...(r.conn_type === null ? {} : { conn_type: r.conn_type }),
    primary_auth: r.primary_auth,
    two_factor: r.two_factor,
    note: r.note,
    created_at: unixSeconds(r.created_at),
    end_time: unixSeconds(r.end_time),
  };
}

export function fileRow(r: FileRecord) {
  return {
    guid: r.guid,
    device_id: r.device_id,
    device_name: r.device_name ?? '',
    peer_id: r.peer_id,
    peer_name: r.peer_name,
    conn_id: r.conn_id,
    type: r.type,
    path: r.path,
    is_file: r.is_file === 1,
    num: r.num,
    ip: r.ip,
    info: r.info,
    created_at: unixSeconds(r.created_at),
  };
}

export function alarmRow(r: AlarmRecord) {
  return {
    guid: r.guid,
    typ: r.typ,
    device_id: r.device_id,
    device_name: r.device_name ?? '',
    ip: r.ip,
    info: r.info,
    conn_id: r.conn_id,
    created_at: unixSeconds(r.created_at),
  };
}

export function consoleRow(r: ConsoleRecord) {
  return {
    guid: r.guid,
    typ: r.typ,
    iop: r.iop,
    operator: r.operator,
    ip: r.ip,
    detail: r.detail,
    created_at: unixSeconds(r.created_at),
  };
}

function timeRange(q: { created_at?: string; created_before?: string }): TimeRange {
  const iso = (v: string | undefined) =>
    v === undefined ? undefined : new Date(resolveTime(parseTimeText(v)!, 'UTC')).toISOString();
  return { from: iso(q.created_at), before: iso(q.created_before) };
}

const TIME_NOTE =
  '`created_at` is a lower bound (inclusive) and `created_before` an upper bound (exclusive), both UTC: `YYYY-MM-DD HH:MM:SS[.fff]` as the scripts send it, or ISO 8601 with an offset. Newest first; `created_at`/`end_time` in the answer are Unix seconds.';

const OWN_NOTE =
  'A session of a user who is not an administrator sees only its own records: connections and file transfers where one of its devices is either side, alarms of its devices and the login alarms of its account, its own console entries (none at all when the setting `only_admin_access_logs` is on: 403).';

/** The log listings: administrators and `audit_log:r` tokens read everything, other users their own. */
const LOG_READ = { area: 'audit_log', level: 'r', allowUserSession: true } as const;

export function registerAuditRoutes(r: RouteTable, deps: AppDeps): void {
  const { store } = deps;

  /**
   * What the caller may read of a log: everything (administrators, API tokens), or its own records
   * ("personal logs", server-model §1.8) for a session of a user who is not an administrator,
   * unless the setting only_admin_access_logs is on.
   */
  async function ownOf(c: Context): Promise<Own | undefined> {
    const p = c.get('principal') as Principal;
    if (p.kind !== 'session' || p.user.is_admin) return undefined;
    if (await store.settings.get('only_admin_access_logs'))
      throw new HttpError(
        403,
        'only administrators may read the audit logs (the setting only_admin_access_logs is on)',
      );
    return { userGuid: p.user.guid, nameFold: fold(p.user.name) };
  }

  /** For a session that is not an administrator's: the connection records it may note (NoteScope). */
  async function noteScope(c: Context): Promise<NoteScope | undefined> {
    const p = c.get('principal') as Principal;
    if (p.kind !== 'session' || p.user.is_admin) return undefined;
    const { session } = await store.auth.sessionAndUser(p.sessionHash!);
    return { userGuid: p.user.guid, deviceId: session?.device_id || null };
  }

  /**
   * Whether the posting device may post: it must be registered (a real client uploads its system
   * info and heartbeats before anyone connects to it), with the uuid it registered with (RustDesk
   * clients send it with every record, as with every heartbeat); 403 for another uuid. For an ID
   * that is not registered, the answer to give, and nothing is stored: without this check anyone
   * could fill the disk with records of made-up devices. The answer is what the client
   * (connection.rs post_audit_async) takes as a failure to retry, 10 s and 40 s later: a 200 with
   * `{"error"}` (a 4xx drops the record at once). So a client whose first heartbeat is still to
   * come (its sync starts 3 s after it does) stores its record on a retry.
   */
  async function unregistered(
    c: Context,
    id: string,
    uuid: string | undefined,
  ): Promise<Response | undefined> {
    const device = await store.devices.getById(id);
    if (!device) {
      return c.json(
        {
          error: `device '${id}' is not registered (no heartbeat or system info yet); audit record not stored`,
        },
        200,
      );
    }
    if (device.uuid && device.uuid !== (uuid ?? '')) {
      throw new HttpError(
        403,
        `device '${id}' is registered with ${uuid ? 'another' : 'a'} uuid; audit record refused`,
      );
    }
    return undefined;
  }

  const Empty = 'Empty body on success (also for a repeated nonce, which is stored once).';

  r.add(
    {
      method: 'POST',
      path: '/api/audit/conn',
      tag: 'audit (clients)',
      summary:
        "A connection event from the controlled device: `action: 'new'` (with `ip`) opens the record, `peer: [id, name]` + `type` marks it authorised, `action: 'close'` ends it. Events are joined by device `id`, `conn_id` and `session_id` (an unsigned 64-bit number, kept exactly). De-duplicated by `nonce`. Only from a registered device (heartbeat or system info first), with its uuid: another uuid is 403; an ID not registered is answered 200 `{\"error\"}` (the client tries again later) and nothing is stored. A body with `note` is the note the controlling user types during the session (`{id, session_id, note}`, from the controlling client, no token): it sets the note of device `id`'s connection with that session, if that connection is open or closed less than ten minutes ago; it never creates a record, and answers the same whether or not one matched.",
      access: 'public',
      body: z.union([AuditConnBody, AuditSessionNoteBody]),
      responseText: Empty,
    },
    async (c) => {
      const value = await readLosslessValue(c);
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'note' in value) {
        // The controlling client's note: it sends no token (so Pro takes it without one), has no
        // uuid of the controlled device (unregistered()) and ignores the answer. Knowing the session,
        // a random 64-bit number, is what allows it. Not a console change: nothing goes to the
        // console log.
        const n = parseWith(AuditSessionNoteBody, value, 'request body');
        const closedSince = new Date(deps.clock().getTime() - SESSION_NOTE_AFTER_CLOSE_MS).toISOString();
        await store.auditLogs.setSessionNote(n.id, n.session_id, n.note, closedSince);
        return c.body(null, 200);
      }
      const b = parseWith(AuditConnBody, value, 'request body');
      if (b.action !== undefined && b.action !== 'new' && b.action !== 'close')
        throw new HttpError(400, `request body field 'action' must be 'new' or 'close' (got '${b.action}')`);
      const refused = await unregistered(c, b.id, b.uuid);
      if (refused) return refused;
      const poster = {
        device_id: b.id,
        device_uuid: b.uuid ?? '',
        nonce: b.nonce,
        conn_id: b.conn_id,
        session_id: b.session_id,
      };
      if (b.action === 'new') {
        await store.auditLogs.connEvent({ ...poster, kind: 'new', ip: b.ip ?? clientIp(c) });
      } else if (b.action === 'close') {
        await store.auditLogs.connEvent({ ...poster, kind: 'close' });
      } else if (b.peer !== undefined) {
        await store.auditLogs.connEvent({
          ...poster,
          kind: 'auth',
          peer_id: asText(b.peer[0]).slice(0, 200),
          peer_name: asText(b.peer[1]).slice(0, 200),
          conn_type: b.type ?? null,
          primary_auth: b.primary_auth ?? null,
          two_factor: b.two_factor ?? null,
        });
      }
      // Older clients also post a bare {id, uuid, conn_id} while connected: nothing to record.
      return c.body(null, 200);
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/audit/file',
      tag: 'audit (clients)',
      summary:
        'A file transfer from the controlled device: `type` 0 it sent files, 1 it received them; `info` is a JSON string with `ip`, `name` (the controlling side), `num` and the ten largest `files` (at most 65,536 characters; an object is taken too, under the same cap as JSON text). De-duplicated by `nonce`. Only from a registered device, as for connection events.',
      access: 'public',
      body: AuditFileBody,
      responseText: Empty,
    },
    async (c) => {
      const b = await readLosslessBody(c, AuditFileBody);
      const refused = await unregistered(c, b.id, b.uuid);
      if (refused) return refused;
      const info = infoObject(b.info);
      const num = typeof info['num'] === 'number' && Number.isSafeInteger(info['num']) ? info['num'] : null;
      await store.auditLogs.fileEvent({
        device_id: b.id,
        device_uuid: b.uuid ?? '',
        nonce: b.nonce,
        peer_id: asText(b.peer_id).slice(0, 200),
        peer_name: str(info['name']),
        conn_id: b.conn_id ?? null,
        type: b.type,
        path: b.path ?? '',
        is_file: b.is_file ?? false,
        num,
        ip: str(info['ip'], 100),
        info: b.info ?? '',
      });
      return c.body(null, 200);
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/audit/alarm',
      tag: 'audit (clients)',
      summary:
        "An alarm raised by a client (`typ` 0–2 and 6–10, e.g. 0 IP whitelist, 1 over 30 consecutive access attempts, 2 many attempts within one minute; 3–5 are the server's own login alarms, refused with 400); `info` is a JSON string (at most 65,536 characters; an object is taken too, under the same cap as JSON text). De-duplicated by `nonce`. Only from a registered device, as for connection events.",
      access: 'public',
      body: AuditAlarmBody,
      responseText: Empty,
    },
    async (c) => {
      const b = await readLosslessBody(c, AuditAlarmBody);
      // 3–5 are the server's own login alarms (server-model §1.8), shown to the account they name:
      // posted by anyone, they would put forged alarms into that user's personal log.
      if (b.typ >= 3 && b.typ <= 5) {
        throw new HttpError(
          400,
          `alarm type ${b.typ} is a login alarm the server raises itself; clients post types 0–2 and 6–10`,
        );
      }
      const refused = await unregistered(c, b.id, b.uuid);
      if (refused) return refused;
      await store.auditLogs.alarmEvent({
        device_id: b.id,
        device_uuid: b.uuid ?? '',
        nonce: b.nonce,
        typ: b.typ,
        ip: str(infoObject(b.info)['ip'], 100),
        info: b.info ?? '',
        conn_id: b.conn_id ?? null,
        conn_audit_ref: b.conn_audit_ref ?? null,
      });
      return c.body(null, 200);
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/audit/conn/active',
      tag: 'audit (clients)',
      summary:
        "The GUID (a JSON string) of the live connection to device `id` with this `session_id` (and `conn_type`), so the controlling client can attach a note; JSON `null` while there is none (yet): the controlled device's report of the connection may arrive after the question, and the client asks again only after a 200 without a GUID. For a session that is not an administrator's, only among the connections it may note (see PUT /api/audit).",
      access: { area: 'audit_log', level: 'r', allowUserSession: true },
      query: ActiveConnQuery,
      response: z.string().nullable(),
    },
    async (c) => {
      const q = readQuery(c, ActiveConnQuery);
      const guid = await store.auditLogs.activeConn(q.id, q.session_id, q.conn_type, await noteScope(c));
      return c.json(guid ?? null);
    },
  );

  r.add(
    {
      method: 'PUT',
      path: '/api/audit',
      tag: 'audit (clients)',
      summary:
        "Set the note of a connection record (by its GUID). A session that is not an administrator's may note only the connections its own client controlled (the device ID it logged in from) or where one of its user's devices is either side; others answer 404, as if absent.",
      access: { area: 'audit_log', level: 'rw', allowUserSession: true },
      body: AuditNoteBody,
      response: z.object({}),
    },
    async (c) => {
      const b = await readBody(c, AuditNoteBody);
      if (!(await store.auditLogs.setNote(b.guid, b.note, await noteScope(c))))
        throw new HttpError(404, `connection record not found: ${b.guid}`);
      return c.json({});
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/audits/conn',
      tag: 'audits',
      summary: `Connection log. \`remote\` is a LIKE pattern on the RustDesk ID of either side (the controlled device or the controlling peer); \`conn_type\` 0 Remote Desktop, 1 File Transfer, 2 Port Transfer, 3 View Camera, 4 Terminal (a record without \`conn_type\` never got past authentication). ${TIME_NOTE} ${OWN_NOTE}`,
      access: LOG_READ,
      query: PageQuery.extend(AuditConnQuery.shape),
      response: AuditConnList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const q = readQuery(c, AuditConnQuery);
      const { rows, total } = await store.auditLogs.listConn(
        { remote: q.remote, conn_type: q.conn_type, own: await ownOf(c), ...timeRange(q) },
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      return losslessJson(c, { data: rows.map(connRow), total });
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/audits/file',
      tag: 'audits',
      summary: `File transfer log. \`remote\` is a LIKE pattern on the RustDesk ID of either side. ${TIME_NOTE} ${OWN_NOTE}`,
      access: LOG_READ,
      query: PageQuery.extend(AuditFileQuery.shape),
      response: AuditFileList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const q = readQuery(c, AuditFileQuery);
      const { rows, total } = await store.auditLogs.listFile(
        { remote: q.remote, own: await ownOf(c), ...timeRange(q) },
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      return losslessJson(c, { data: rows.map(fileRow), total });
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/audits/alarm',
      tag: 'audits',
      summary: `Alarm log. \`device\` is a LIKE pattern on the device's RustDesk ID; \`typ\` one alarm type (0–10; 3–5 are this server's login alarms). ${TIME_NOTE} ${OWN_NOTE}`,
      access: LOG_READ,
      query: PageQuery.extend(AuditAlarmQuery.shape),
      response: AuditAlarmList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const q = readQuery(c, AuditAlarmQuery);
      const { rows, total } = await store.auditLogs.listAlarm(
        { device: q.device, typ: q.typ, own: await ownOf(c), ...timeRange(q) },
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      return losslessJson(c, { data: rows.map(alarmRow), total });
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/audits/console',
      tag: 'audits',
      summary: `Console log: every change made through the admin API, and every login. \`operator\` is a case-insensitive LIKE pattern on the operator's name; \`typ\` (0 group, 1 user, 2 device, 3 address book) and \`iop\` (Pro's operation codes) select exactly. ${TIME_NOTE} ${OWN_NOTE}`,
      access: LOG_READ,
      query: PageQuery.extend(AuditConsoleQuery.shape),
      response: AuditConsoleList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const q = readQuery(c, AuditConsoleQuery);
      const { rows, total } = await store.auditLogs.listConsole(
        { operator: q.operator, typ: q.typ, iop: q.iop, own: await ownOf(c), ...timeRange(q) },
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      return losslessJson(c, { data: rows.map(consoleRow), total });
    },
  );
}
