import { type Kysely, type Migration, sql } from 'kysely';

// A connection record by device and session: the client's in-session note (`POST /api/audit/conn`
// with {id, session_id, note}, unauthenticated) and its live-connection lookup
// (`GET /api/audit/conn/active`) find their record by these two. Without the index each read every
// record of the device through (device_id, conn_id): a device with a long history, asked with
// made-up session ids, cost a scan of that history per request.
export const m0021: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE INDEX audit_conn_device_session ON audit_conn(device_id, session_id)`.execute(db);
  },
};
