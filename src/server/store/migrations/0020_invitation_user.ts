import { type Kysely, type Migration, sql } from 'kysely';

// A user's invitations by user: the users listing says until when a user who never accepted theirs
// could (`invitation_expires_at`), enabling such a user checks it, and inviting them again replaces
// it. Without the index each of those read every invitation ever made (so did the foreign key's
// cascade when a user is deleted). Expiry second: the newest is read from the index alone.
export const m0020: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE INDEX invitations_user ON invitations(user_guid, expires_at)`.execute(db);
  },
};
