import { z } from 'zod';
import { groupNameProblem } from './access';
import { Guid, listOf } from './common';

// User groups and device groups (pro-admin-api.md §3, §4, §9 rows 10–20), and the client's
// `GET /api/device-group/accessible`.

/** One access-rule entry as Pro sends and takes it: `{type, name}` (0 user group, 1 device group, 2 user). */
export const RuleEntrySchema = z.looseObject({
  type: z.number({ error: 'must be a number (0 user group, 1 device group, 2 user)' }).int(),
  name: z.string({ error: 'must be a string' }),
});
export type RuleEntryRow = z.infer<typeof RuleEntrySchema>;

export const UserGroupRow = z.looseObject({
  guid: z.string(),
  name: z.string(),
  note: z.string().nullish(),
  allowed_incomings: z.array(RuleEntrySchema).nullish(),
  allowed_outgoings: z.array(RuleEntrySchema).nullish(),
  user_count: z.number().nullish(),
});
export type UserGroupRow = z.infer<typeof UserGroupRow>;
export const UserGroupList = listOf(UserGroupRow);

export const DeviceGroupRow = z.looseObject({
  guid: z.string(),
  name: z.string(),
  note: z.string().nullish(),
  allowed_incomings: z.array(RuleEntrySchema).nullish(),
  device_count: z.number().nullish(),
});
export type DeviceGroupRow = z.infer<typeof DeviceGroupRow>;
export const DeviceGroupList = listOf(DeviceGroupRow);

/** Rows of `GET /api/device-group/accessible` (the client reads `name`). */
export const AccessibleRow = z.looseObject({ guid: z.string().optional(), name: z.string() });
export type AccessibleRow = z.infer<typeof AccessibleRow>;
export const AccessibleList = listOf(AccessibleRow);

const GroupName = z
  .string({ error: 'must be a string' })
  .trim()
  .superRefine((s, ctx) => {
    const problem = groupNameProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const Note = z.string({ error: 'must be a string' }).max(2000, 'must be at most 2000 characters');
const Rules = z
  .array(z.object({ type: RuleEntrySchema.shape.type, name: z.string({ error: 'must be a string' }) }), {
    error: 'must be an array of {type, name}',
  })
  .max(1000, 'must have at most 1000 entries');

export const CreateUserGroupBody = z.strictObject({
  name: GroupName,
  note: Note.optional(),
  allowed_incomings: Rules.optional(),
  allowed_outgoings: Rules.optional(),
});
export type CreateUserGroupBody = z.infer<typeof CreateUserGroupBody>;

export const UpdateUserGroupBody = CreateUserGroupBody.partial();
export type UpdateUserGroupBody = z.infer<typeof UpdateUserGroupBody>;

export const CreateDeviceGroupBody = z.strictObject({
  name: GroupName,
  note: Note.optional(),
  allowed_incomings: Rules.optional(),
});
export type CreateDeviceGroupBody = z.infer<typeof CreateDeviceGroupBody>;

export const UpdateDeviceGroupBody = CreateDeviceGroupBody.partial();
export type UpdateDeviceGroupBody = z.infer<typeof UpdateDeviceGroupBody>;

export const GroupFilterQuery = z.object({ name: z.string().max(500).optional() });

/** `POST /api/user-groups/{guid}`: a bare JSON array of user GUIDs. */
export const UserGuidArray = z
  .array(Guid, { error: 'must be a JSON array of user GUIDs' })
  .min(1, 'must name at least one user GUID')
  .max(10_000);

/** `POST /api/device-groups/{guid}`, `DELETE …/devices`: a bare JSON array of device IDs (peer IDs). */
export const DeviceIdArray = z
  .array(z.string({ error: 'must be a device ID (string)' }).trim().min(1, 'must not be empty').max(200), {
    error: 'must be a JSON array of device IDs',
  })
  .min(1, 'must name at least one device ID')
  .max(10_000);

export const AddDevicesResult = z.looseObject({
  added: z.number().optional(),
  moved: z.array(z.looseObject({ id: z.string(), from: z.string() })).optional(),
});
export type AddDevicesResult = z.infer<typeof AddDevicesResult>;

export const RemoveDevicesResult = z.looseObject({ removed: z.number().optional() });

export const AddUsersResult = z.looseObject({
  added: z.number().optional(),
  moved: z.array(z.looseObject({ name: z.string(), from: z.string() })).optional(),
});
