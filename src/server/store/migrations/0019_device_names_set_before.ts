import { type Kysely, type Migration, sql } from 'kysely';

// Migration 0017 started every existing device with device_name_set = device_username_set = 0, so
// a name an administrator had set before it was replaced by the client's host name (or OS user) at
// the next system-info upload. The console log tells which names an administrator set: every
// assignment wrote, in the same transaction as the change (and in the same words since the first
// build with devices),
//   device <ID>: device name set to '<VALUE>'          (device username: likewise)
// followed by ` (rustdesk --assign)` when it came from the client's --assign, then by
// ` (API token '<NAME>')` when a token made it; since 0017 an empty value (or '-') writes
// `device <ID>: device name given back to the client` instead. A device ID holds no whitespace,
// so the ID is what lies between `device ` and the first `: `.
//
// A device's flag is set when the latest such record of that device (by log order) is a
// `set to '<VALUE>'` made while the device existed (not before its created_at: an earlier device
// with the same ID, deleted since), and the device still has exactly VALUE (a record that reads
// two ways, a value and a token name both holding quotes, counts for neither). Left at 0: a name
// the client has replaced since (a build before 0017 let the next upload do it: the
// administrator's name is gone already, and pinning the host name would be wrong), an empty or
// '-' value (that now means "give it back to the client"), and a rename whose record log
// retention has deleted (nothing tells).
export const m0019: Migration = {
  async up(db: Kysely<unknown>) {
    const records = await sql<{ id: number; detail: string; created_at: string }>`
      SELECT id, detail, created_at FROM audit_console
      WHERE typ = 2 AND iop = 12
        AND (detail LIKE 'device %: device name %' OR detail LIKE 'device %: device username %')
      ORDER BY id`.execute(db);
    const latest = new Map<string, { device: string; field: Field; detail: string; at: string }>();
    for (const r of records.rows) {
      const end = r.detail.indexOf(' ', 'device '.length);
      if (end < 0 || r.detail[end - 1] !== ':') continue;
      const device = r.detail.slice('device '.length, end - 1);
      const rest = r.detail.slice(end + 1);
      const field = FIELDS.find((f) => rest.startsWith(`${f.label} `));
      if (!device || !field) continue;
      latest.set(`${field.column}\n${device}`, { device, field, detail: r.detail, at: r.created_at });
    }
    for (const { device, field, detail, at } of latest.values()) {
      const row = (
        await sql<{ guid: string; value: string; flag: number; created_at: string }>`
          SELECT guid, ${sql.ref(field.column)} AS value, ${sql.ref(field.flag)} AS flag, created_at
          FROM devices WHERE id = ${device}`.execute(db)
      ).rows[0];
      if (row?.flag !== 0 || at < row.created_at) continue;
      if (row.value.trim() === '' || row.value.trim() === '-') continue;
      if (valueSet(detail, `device ${device}: ${field.label} set to '`) !== row.value) continue;
      await sql`UPDATE devices SET ${sql.ref(field.flag)} = 1 WHERE guid = ${row.guid}`.execute(db);
    }
  },
};

interface Field {
  label: string;
  column: string;
  flag: string;
}

const FIELDS: Field[] = [
  { label: 'device name', column: 'device_name', flag: 'device_name_set' },
  { label: 'device username', column: 'device_username', flag: 'device_username_set' },
];

/** What may follow the value's closing quote: the --assign mark, then the API token's name. */
const SUFFIX = /^(?: \(rustdesk --assign\))?(?: \(API token '[\s\S]*'\))?$/;

/**
 * The VALUE of a record `<head>VALUE'<suffix>`, or undefined when it is not one or reads two ways
 * (a value and a token name may both hold quotes: `a' (API token 'b` would otherwise pass for `a`).
 */
function valueSet(detail: string, head: string): string | undefined {
  if (!detail.startsWith(head)) return undefined;
  let found: string | undefined;
  for (let i = detail.indexOf("'", head.length); i >= 0; i = detail.indexOf("'", i + 1)) {
    if (!SUFFIX.test(detail.slice(i + 1))) continue;
    if (found !== undefined) return undefined;
    found = detail.slice(head.length, i);
  }
  return found;
}
