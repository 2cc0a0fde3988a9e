import { z } from 'zod';
import { parseTimeText, TIME_FORMATS } from './audit-time';
import { listOf, PageQuery } from './common';
import { stringifyJson } from './json-lossless';

// Audit logs: what stock RustDesk clients post (server-model.md §2.2), and the admin listings of
// pro-admin-api.md §9 rows 47–50.

export const U64_MAX = 18446744073709551615n;

const U64_RULE = `must be an unsigned 64-bit integer (0 to ${U64_MAX})`;

/**
 * An unsigned 64-bit integer, as a decimal string with every digit. Accepts a bigint (from the
 * lossless JSON parser), a safe integer, or a digit string.
 */
export const U64 = z
  .union([z.bigint(), z.number(), z.string()], {
    error: (issue) => (issue.input === undefined ? 'is required' : U64_RULE),
  })
  .transform((v, ctx) => {
    let b: bigint | undefined;
    if (typeof v === 'bigint') b = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
    else if (typeof v === 'string' && /^\d{1,20}$/.test(v)) b = BigInt(v);
    if (b === undefined || b < 0n || b > U64_MAX) {
      ctx.addIssue({ code: 'custom', message: U64_RULE });
      return z.NEVER;
    }
    return b.toString();
  });

/** The longest note a connection record takes (the client's note field stops at 256). */
export const NOTE_MAX = 2000;

const DeviceId = z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(100);
const Uuid = z.string({ error: 'must be a string' }).max(500).optional();
const Nonce = z.string({ error: 'must be a string' }).min(1).max(200).optional();
const ConnId = z.number({ error: 'must be a number' }).int('must be a whole number');
/** The longest `info` a client's audit record keeps (as JSON text, in either form). */
export const INFO_MAX = 65_536;
/**
 * `info` is a JSON string in what clients post; an object is taken as well and kept as text (its
 * large integers, bigints from the lossless parser, with every digit), under the same cap as the
 * string: otherwise the body limit alone bounded what one unauthenticated post stores.
 */
const InfoText = z
  .union([
    z.string().max(INFO_MAX, `must be at most ${INFO_MAX} characters`),
    z.record(z.string(), z.unknown()),
  ])
  .transform((v, ctx) => {
    if (typeof v === 'string') return v;
    const text = stringifyJson(v);
    if (text.length > INFO_MAX) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${INFO_MAX} characters as JSON text` });
      return z.NEVER;
    }
    return text;
  });

/** POST /api/audit/conn: one event of a connection (new / authorised / close). */
export const AuditConnBody = z.looseObject({
  id: DeviceId,
  uuid: Uuid,
  conn_id: ConnId,
  session_id: U64.optional(),
  nonce: Nonce,
  action: z.string().max(20).optional(),
  ip: z.string().max(100).optional(),
  peer: z
    .array(z.union([z.string().max(200), z.number()]))
    .max(4)
    .optional(),
  type: z.number().int().min(0).max(255).optional(),
  primary_auth: z.number().int().min(0).max(255).optional(),
  two_factor: z.number().int().min(0).max(255).optional(),
  conn_audit_ref: z.string().max(200).optional(),
});
export type AuditConnBody = z.infer<typeof AuditConnBody>;

/**
 * POST /api/audit/conn with a `note`: the note the controlling user types in the session's toolbar
 * ("Note"), posted by the controlling client without a token, uuid, conn_id or nonce
 * (ui_session_interface.rs send_note). `id` is the controlled device, `session_id` the session.
 */
export const AuditSessionNoteBody = z.looseObject({
  id: DeviceId,
  session_id: U64,
  note: z.string({ error: 'must be a string' }).max(NOTE_MAX, `must be at most ${NOTE_MAX} characters`),
});
export type AuditSessionNoteBody = z.infer<typeof AuditSessionNoteBody>;

/** POST /api/audit/file: one file transfer. */
export const AuditFileBody = z.looseObject({
  id: DeviceId,
  uuid: Uuid,
  peer_id: z.union([z.string().max(200), z.number()]).optional(),
  conn_id: ConnId.optional(),
  type: z.number().int().min(0).max(255),
  path: z.string().max(4096).optional(),
  is_file: z.boolean().optional(),
  info: InfoText.optional(),
  nonce: Nonce,
});
export type AuditFileBody = z.infer<typeof AuditFileBody>;

/** POST /api/audit/alarm: one alarm raised by a client. */
export const AuditAlarmBody = z.looseObject({
  id: DeviceId,
  uuid: Uuid,
  typ: z.number().int().min(0).max(255),
  info: InfoText.optional(),
  conn_id: ConnId.optional(),
  nonce: Nonce,
  conn_audit_ref: z.string().max(200).optional(),
});
export type AuditAlarmBody = z.infer<typeof AuditAlarmBody>;

/** PUT /api/audit: the controlling user's note on a connection. */
export const AuditNoteBody = z.object({
  guid: z.string().min(1).max(200),
  note: z.string().max(NOTE_MAX, `must be at most ${NOTE_MAX} characters`),
});

/** GET /api/audit/conn/active: the live connection a controlling client asks about. */
export const ActiveConnQuery = z.object({
  id: DeviceId,
  session_id: U64,
  conn_type: z.coerce.number().int().min(0).max(255).optional(),
});

const TimeBound = z
  .string()
  .max(64)
  .refine((v) => parseTimeText(v) !== undefined, `must be a UTC time: ${TIME_FORMATS}`)
  .optional();
const Like = z.string().max(500).optional();
const Code = z.coerce
  .number({ error: 'must be a whole number' })
  .int('must be a whole number')
  .min(0)
  .max(255);

/** `created_at` (lower bound, inclusive, as the scripts send it) and `created_before` (upper, exclusive). */
const TimeQuery = { created_at: TimeBound, created_before: TimeBound };

export const AuditConnQuery = z.object({
  remote: Like,
  conn_type: Code.optional(),
  ...TimeQuery,
});
export const AuditFileQuery = z.object({ remote: Like, ...TimeQuery });
export const AuditAlarmQuery = z.object({ device: Like, typ: Code.optional(), ...TimeQuery });
export const AuditConsoleQuery = z.object({
  operator: Like,
  typ: Code.optional(),
  iop: Code.optional(),
  ...TimeQuery,
});
export { PageQuery };

// Rows as listed. Pro sends `created_at` / `end_time` as Unix seconds; other fields are tolerated.
const Time = z.union([z.number(), z.string()]).nullish();
const Text = z.union([z.string(), z.number()]).nullish();
const Int = z.number().nullish();

export const AuditConnRow = z.looseObject({
  guid: z.string().nullish(),
  device_id: Text,
  device_name: Text,
  peer_id: Text,
  peer_name: Text,
  ip: Text,
  conn_id: Int,
  session_id: z.union([z.number(), z.bigint(), z.string()]).nullish(),
  conn_type: Int,
  primary_auth: Int,
  two_factor: Int,
  note: Text,
  created_at: Time,
  end_time: Time,
});
export type AuditConnRow = z.infer<typeof AuditConnRow>;

export const AuditFileRow = z.looseObject({
  guid: z.string().nullish(),
  device_id: Text,
  device_name: Text,
  peer_id: Text,
  peer_name: Text,
  conn_id: Int,
  type: Int,
  path: Text,
  is_file: z.boolean().nullish(),
  num: Int,
  ip: Text,
  info: z.unknown().optional(),
  created_at: Time,
});
export type AuditFileRow = z.infer<typeof AuditFileRow>;

export const AuditAlarmRow = z.looseObject({
  guid: z.string().nullish(),
  typ: Int,
  device_id: Text,
  device_name: Text,
  ip: Text,
  info: z.unknown().optional(),
  conn_id: Int,
  created_at: Time,
});
export type AuditAlarmRow = z.infer<typeof AuditAlarmRow>;

export const AuditConsoleRow = z.looseObject({
  guid: z.string().nullish(),
  typ: Int,
  iop: Int,
  operator: Text,
  ip: Text,
  detail: Text,
  created_at: Time,
});
export type AuditConsoleRow = z.infer<typeof AuditConsoleRow>;

export const AuditConnList = listOf(AuditConnRow);
export const AuditFileList = listOf(AuditFileRow);
export const AuditAlarmList = listOf(AuditAlarmRow);
export const AuditConsoleList = listOf(AuditConsoleRow);
