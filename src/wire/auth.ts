import { z } from 'zod';
import { AREAS, LEVELS } from './scopes';

/** POST /api/login, the body a RustDesk client (and `rdadmin login`) sends. */
export const LoginBody = z.looseObject({
  username: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(200),
  password: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(1000),
  id: z.string().max(200).optional(),
  uuid: z.string().max(500).optional(),
  type: z.string().optional(),
  autoLogin: z.boolean().optional(),
  deviceInfo: z
    .looseObject({ os: z.string().optional(), type: z.string().optional(), name: z.string().optional() })
    .optional(),
});

export const UserPayload = z.looseObject({
  name: z.string(),
  display_name: z.string().nullish(),
  email: z.string().nullish(),
  note: z.string().nullish(),
  status: z.number(),
  is_admin: z.boolean(),
  info: z.record(z.string(), z.unknown()),
});

export const LoginResult = z.looseObject({
  type: z.literal('access_token'),
  access_token: z.string(),
  user: UserPayload,
});

/**
 * Pro's answer to the password of an account with a second factor (server-model.md §1.1): no
 * session yet; `tfa_type` says which code the next step needs (`tfa_check`: an authenticator app's,
 * `email_check`: one sent by email), `secret` ties that step to this one.
 */
export const LoginSecondStep = z.looseObject({
  type: z.literal('email_check'),
  tfa_type: z.string().nullish(),
});

/** What a client reads from POST /api/login: a session, or the request for a second factor. */
export const LoginAnswer = z.discriminatedUnion('type', [LoginResult, LoginSecondStep]);

const LevelSchema = z.enum(LEVELS, { error: 'must be none, r or rw' });
export const PermissionsSchema = z
  .object(
    Object.fromEntries(AREAS.map((a) => [a, LevelSchema.optional()])) as Record<
      (typeof AREAS)[number],
      z.ZodOptional<typeof LevelSchema>
    >,
  )
  .strict();

export const CreateTokenBody = z.object({
  name: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(100),
  permissions: PermissionsSchema,
  /** Lifetime in seconds; absent or 0 means the token does not expire. */
  expires_in: z
    .number()
    .int()
    .min(0)
    .max(10 * 365 * 86400)
    .optional(),
});

export const TokenRow = z.looseObject({
  guid: z.string(),
  name: z.string(),
  owner: z.string(),
  permissions: z.record(z.string(), z.string()),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
});
export type TokenRow = z.infer<typeof TokenRow>;
export const TokenCreated = TokenRow.extend({ token: z.string() });
