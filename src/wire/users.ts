import { z } from 'zod';
import { Guid, GuidList, listOf } from './common';
import { PASSWORD_MAX, PASSWORD_MIN, PASSWORD_RULE } from './rules';

/** User status as Pro sends it: 1 enabled, 0 disabled, -1 unverified (invited, not yet accepted). */
export const UserStatus = { disabled: 0, enabled: 1, unverified: -1 } as const;

export const UserInfo = z.looseObject({
  email_verification: z.boolean().optional(),
  email_alarm_notification: z.boolean().optional(),
  login_device_whitelist: z.array(z.unknown()).optional(),
  other: z.record(z.string(), z.string()).optional(),
});

export const UserRow = z.looseObject({
  guid: z.string(),
  name: z.string(),
  display_name: z.string().nullish(),
  email: z.string().nullish(),
  note: z.string().nullish(),
  status: z.number().int(),
  is_admin: z.boolean().nullish(),
  group_name: z.string().nullish(),
  info: UserInfo.nullish(),
  /** rdadmin serve only (not Pro): a user who never accepted an invitation, until when its link
   *  works (null when none is left). */
  invitation_expires_at: z.string().nullish(),
});
export type UserRow = z.infer<typeof UserRow>;
export const UserList = listOf(UserRow);

export const USER_NAME_MAX = 100;
export { PASSWORD_MAX, PASSWORD_MIN, PASSWORD_RULE } from './rules';

const Name = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'must not be empty')
  .max(USER_NAME_MAX, `must be at most ${USER_NAME_MAX} characters`)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');
const Email = z.string().trim().max(254).email('must be an email address');
const Note = z.string().max(2000, 'must be at most 2000 characters');

export const CreateUserBody = z.object({
  name: Name,
  password: z
    .string({ error: 'must be a string' })
    .min(PASSWORD_MIN, `must be ${PASSWORD_RULE}`)
    .max(PASSWORD_MAX, `must be ${PASSWORD_RULE}`),
  group_name: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty'),
  email: z.union([Email, z.literal('')]).optional(),
  note: Note.optional(),
  is_admin: z.boolean().optional(),
  display_name: z.string().max(200).optional(),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const InviteUserBody = z.object({
  email: Email,
  name: Name,
  group_name: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty'),
  note: Note.optional(),
  /** rdadmin serve only: replace an invitation whose link still works (the link then stops working). */
  renew: z.boolean({ error: 'must be true or false' }).optional(),
});
export type InviteUserBody = z.infer<typeof InviteUserBody>;

export const InviteResult = z.looseObject({
  guid: z.string().optional(),
  invitation_url: z.string().optional(),
  email_sent: z.boolean().optional(),
  expires_at: z.string().nullish(),
  /** rdadmin serve only: the user was invited before and never accepted; the earlier link ended. */
  renewed: z.boolean().optional(),
});

export const AcceptInviteBody = z.object({
  password: z
    .string({ error: 'must be a string' })
    .min(PASSWORD_MIN, `must be ${PASSWORD_RULE}`)
    .max(PASSWORD_MAX, `must be ${PASSWORD_RULE}`),
});

export const TotpEnforceBody = z.object({
  user_guids: GuidList,
  enforce: z.boolean({ error: 'must be true or false' }),
  url: z.string().max(2000).optional().default(''),
});

export const LoginVerificationBody = z.object({
  user_guids: GuidList,
  type: z.enum(['email', '2fa'], { error: "must be 'email' or '2fa'" }),
});

export const UserGuidsBody = z.object({ user_guids: GuidList });

export const UserFilterQuery = z.object({
  name: z.string().max(500).optional(),
  group_name: z.string().max(500).optional(),
  status: z.coerce.number().int().min(-1).max(1).optional(),
  accessible: z.string().optional(),
});

export { Guid };
