import { type Kysely, type Migration, sql } from 'kysely';

// Migration 0015 started every existing device with strategy_keys '[]', but a device may already
// hold options a build before 0015 sent it (that build sent its strategy's options and remembered
// nothing). A key missing from strategy_keys is never sent empty, so such an option stayed on the
// device for good once the strategy no longer set it (unassigned, replaced, --unset, disabled):
// e.g. `enable-keyboard=N` and then `config_options: {}` forever. (0015 has shipped: migrations
// are never edited, so this one repairs what it left, on folders migrated before or not yet.)
//
// For each device still at '[]', the keys of the options of its effective strategy are recorded
// as sent, only where the device has had them: that strategy is enabled (a disabled one sends
// nothing) and the device has been online since the strategy last changed (its last_online is not
// before the strategy's updated_at). A build before 0015 answered every heartbeat whose
// `modified_at` was not the strategy's current handshake with all its options, the same handshake
// as now (the strategy's guid and revision), so such a device has received exactly these options.
// Keys of strategies a device was not (or no longer) subject to are never added: clearing a key
// the server never sent would wipe a setting made on the client. A device that has not been online
// since its strategy changed gets its options at its next heartbeat, which records them then.
//
// The effective strategy, copied here from StrategyRepo.resolve() as it is when this migration is
// written (a migration must not follow later changes of the app's code): the device's own
// strategy, else its user's, else its device group's, else the one named exactly 'Default'. A
// level naming a strategy that no longer exists does not count; the first that names an existing
// one decides, enabled or not (a disabled one leaves the device unmanaged, with nothing sent).
// Keys already recorded (not '[]') are left alone: the heartbeat has kept them since 0015.
export const m0018: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      UPDATE devices SET strategy_keys = e.keys
      FROM (
        SELECT d.guid AS device,
          (SELECT json_group_array(j.key) FROM json_each(s.options) AS j) AS keys
        FROM devices AS d
        LEFT JOIN users AS u ON u.guid = d.user_guid
        LEFT JOIN device_groups AS g ON g.guid = d.device_group_guid
        LEFT JOIN strategies AS sd ON sd.guid = d.strategy_guid
        LEFT JOIN strategies AS su ON su.guid = u.strategy_guid
        LEFT JOIN strategies AS sg ON sg.guid = g.strategy_guid
        JOIN strategies AS s ON s.guid = coalesce(
          sd.guid, su.guid, sg.guid, (SELECT guid FROM strategies WHERE name = 'Default'))
        WHERE d.strategy_keys = '[]'
          AND d.last_online IS NOT NULL
          AND s.enabled = 1
          AND s.updated_at <= d.last_online
          AND CASE WHEN json_valid(s.options) THEN json_type(s.options) END = 'object'
      ) AS e
      WHERE devices.guid = e.device AND e.keys <> '[]'`.execute(db);
  },
};
