import { type Kysely, type Migration, sql } from 'kysely';

// Access rules between groups: ONE edge set, "source may access target", shown from both sides
// (a user group's "access to" and the target's "accessed from" are the same rows). Sources are a
// user group (type 0) or a user (type 2); targets a user group (0) or a device group (1). Each end
// has one foreign-key column per kind, so deleting a group or a user removes its rules.
export const m0003: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE access_rules (
        src_type INTEGER NOT NULL,
        src_user_group TEXT REFERENCES user_groups(guid) ON DELETE CASCADE,
        src_user TEXT REFERENCES users(guid) ON DELETE CASCADE,
        dst_type INTEGER NOT NULL,
        dst_user_group TEXT REFERENCES user_groups(guid) ON DELETE CASCADE,
        dst_device_group TEXT REFERENCES device_groups(guid) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        CHECK ((src_type = 0 AND src_user_group IS NOT NULL AND src_user IS NULL)
            OR (src_type = 2 AND src_user IS NOT NULL AND src_user_group IS NULL)),
        CHECK ((dst_type = 0 AND dst_user_group IS NOT NULL AND dst_device_group IS NULL)
            OR (dst_type = 1 AND dst_device_group IS NOT NULL AND dst_user_group IS NULL))
      )`.execute(db);
    await sql`
      CREATE UNIQUE INDEX access_rules_edge ON access_rules(
        src_type, coalesce(src_user_group, src_user), dst_type, coalesce(dst_user_group, dst_device_group)
      )`.execute(db);
    await sql`CREATE INDEX access_rules_src_user_group ON access_rules(src_user_group)`.execute(db);
    await sql`CREATE INDEX access_rules_src_user ON access_rules(src_user)`.execute(db);
    await sql`CREATE INDEX access_rules_dst_user_group ON access_rules(dst_user_group)`.execute(db);
    await sql`CREATE INDEX access_rules_dst_device_group ON access_rules(dst_device_group)`.execute(db);
  },
};
