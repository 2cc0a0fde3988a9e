import { z } from 'zod';
import { listOf } from './common';

import { ASSIGN_TYPES } from './rules';

export { ASSIGN_TYPES, type AssignType } from './rules';

export const DeviceRow = z.looseObject({
  guid: z.string(),
  id: z.string(),
  // Known so that rows keep the server's key order (see fast-rows.ts), not read by rdadmin.
  uuid: z.string().nullish(),
  info: z
    .looseObject({
      device_name: z.string().nullish(),
      username: z.string().nullish(),
      os: z.string().nullish(),
    })
    .nullish(),
  status: z.number().int().nullish(),
  is_online: z.boolean().nullish(),
  last_online: z.string().nullish(),
  user_name: z.string().nullish(),
  group_name: z.string().nullish(),
  device_group_name: z.string().nullish(),
  strategy_name: z.string().nullish(),
  note: z.string().nullish(),
  created_at: z.string().nullish(),
});
export type DeviceRow = z.infer<typeof DeviceRow>;
export const DeviceList = listOf(DeviceRow);

const Filter = z.string().max(500).optional();
export const DeviceFilterQuery = z.object({
  id: Filter,
  device_name: Filter,
  user_name: Filter,
  group_name: Filter,
  device_group_name: Filter,
  device_username: Filter,
});

/** GET /api/peers as RustDesk clients call it: `accessible` (present, empty) and `status=1`. */
export const PeersQuery = z.object({
  accessible: z.string().max(100).optional(),
  status: z.coerce.number().int().min(0).max(1).optional(),
});

export const AssignBody = z.object({
  type: z.enum(ASSIGN_TYPES, { error: `must be one of ${ASSIGN_TYPES.join(', ')}` }),
  value: z.string({ error: 'must be a string' }).max(2000),
});

/** A RustDesk connection id (an i32 the client counts up from 1). */
const ConnId = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be a connection id (a whole number from 1)')
  .max(2147483647, 'must be a connection id (a 32-bit integer)');

/** POST /api/devices/{guid}/disconnect: the connections to drop (all live ones when omitted). */
export const DisconnectBody = z.strictObject({
  conns: z.array(ConnId).min(1, 'must name at least one connection').max(1000).optional(),
});

/** What a disconnect queued: the connection ids the device will be told to drop. */
export const DisconnectAnswer = z.object({ conns: z.array(z.number().int()) });

const PeerId = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[^\s/\\?#%]+$/, 'must not contain spaces or / \\ ? # %');
const Opt = z.string().max(2000).optional();

/** POST /api/heartbeat from a RustDesk client (every 15 s idle, 3 s with connections). */
export const HeartbeatBody = z.looseObject({
  id: PeerId,
  uuid: z.string().max(500).optional().default(''),
  ver: z.number().optional(),
  modified_at: z.union([z.number(), z.string()]).optional(),
  conns: z.array(z.number().int()).max(1000).optional(),
});

/** POST /api/sysinfo: system info plus optional `preset-*` keys. */
export const SysinfoBody = z.looseObject({
  id: PeerId,
  uuid: z.string().max(500).optional().default(''),
  version: Opt,
  cpu: Opt,
  memory: Opt,
  os: Opt,
  hostname: Opt,
  username: Opt,
  'preset-user-name': Opt,
  'preset-strategy-name': Opt,
  'preset-device-group-name': Opt,
  'preset-note': Opt,
  'preset-device-name': Opt,
  'preset-device-username': Opt,
  'preset-address-book-name': Opt,
  'preset-address-book-tag': Opt,
  'preset-address-book-alias': Opt,
  'preset-address-book-password': Opt,
  'preset-address-book-note': Opt,
});
export type SysinfoBody = z.infer<typeof SysinfoBody>;

/** POST /api/devices/cli: `rustdesk --assign --token T …`. */
export const CliAssignBody = z.looseObject({
  id: PeerId,
  uuid: z.string().max(500).optional(),
  user_name: Opt,
  strategy_name: Opt,
  address_book_name: Opt,
  address_book_tag: Opt,
  address_book_alias: Opt,
  address_book_password: Opt,
  address_book_note: Opt,
  device_group_name: Opt,
  note: Opt,
  device_username: Opt,
  device_name: Opt,
});
export type CliAssignBody = z.infer<typeof CliAssignBody>;

/** POST /api/devices/deploy: `rustdesk --deploy --token T`. */
export const DeployBody = z.looseObject({
  id: z.string().max(100).optional(),
  uuid: z.string().max(500).optional(),
  pk: z.string().max(1000).optional(),
});
