import { type Kysely, type Migration, sql } from 'kysely';
import { foldLike } from '../like';

// A device's folded ID, name and username end at a NUL, as SQLite's LIKE reads them (foldLike()).
// Before, they kept the text after it, and the trigram index (migration 0007) indexed that too: a
// `%abc%` filter answered by the index alone listed a device whose "abc" came only after a NUL,
// which its LIKE does not match. Only rows holding a NUL change; the index follows through its
// update trigger.
export const m0022: Migration = {
  async up(db: Kysely<unknown>) {
    const held = (column: string) => sql`instr(CAST(${sql.ref(column)} AS BLOB), x'00') > 0`;
    const rows = await sql<{ r: number; id: string; name: string | null; username: string | null }>`
      SELECT rowid AS r, id, device_name AS name, device_username AS username FROM devices
      WHERE ${held('id_fold')} OR ${held('device_name_fold')} OR ${held('device_username_fold')}`.execute(db);
    for (const d of rows.rows)
      await sql`UPDATE devices SET id_fold = ${foldLike(d.id)}, device_name_fold = ${foldLike(d.name ?? '')},
        device_username_fold = ${foldLike(d.username ?? '')} WHERE rowid = ${d.r}`.execute(db);
  },
};
