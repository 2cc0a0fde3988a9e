import { z } from 'zod';
import { Guid } from './common';

export const STRATEGY_LEVELS = ['device', 'user', 'device_group', 'default'] as const;

export const StrategyRow = z.looseObject({
  guid: z.string(),
  name: z.string(),
  enabled: z.boolean().nullish(),
  options: z.record(z.string(), z.string()).nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
});
export type StrategyRow = z.infer<typeof StrategyRow>;

/** GET /api/strategies answers a bare array (Pro); an object with `data` is accepted too. */
export const StrategyListBody = z.union([
  z.array(StrategyRow),
  z.looseObject({ data: z.array(StrategyRow) }),
]);

const OptionKey = z
  .string()
  .min(1, 'option names must not be empty')
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'option names hold only letters, digits, _ . -');
const OptionValue = z.string().max(10_000);

export const StrategyName = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  // As user, group and book names: a line break in a name would forge a line of a listing.
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

export const CreateStrategyBody = z.object({
  name: StrategyName,
  options: z.record(OptionKey, OptionValue).optional().default({}),
  enabled: z.boolean().optional().default(true),
});

/** `options`: keys set to a string are set, keys set to null are removed. */
export const UpdateStrategyBody = z
  .object({
    name: StrategyName.optional(),
    options: z.record(OptionKey, OptionValue.nullable()).optional(),
  })
  .strict()
  .refine((b) => b.name !== undefined || b.options !== undefined, 'give name and/or options to change');

export const StatusBody = z.boolean({ error: 'the body must be the JSON literal true or false' });

const GuidArray = z.array(Guid).max(10_000).optional().default([]);
export const AssignStrategyBody = z.object({
  strategy: Guid.optional(),
  peers: GuidArray,
  users: GuidArray,
  groups: GuidArray,
});

export const AssignResult = z.looseObject({
  strategy: z.string().nullish(),
  peers: z.number(),
  users: z.number(),
  groups: z.number(),
});

export const EffectiveResult = z.looseObject({
  device: z.object({ guid: z.string(), id: z.string() }),
  strategy: z
    .object({
      guid: z.string(),
      name: z.string(),
      enabled: z.boolean(),
      options: z.record(z.string(), z.string()),
    })
    .nullable(),
  level: z.enum(STRATEGY_LEVELS),
  managed: z.boolean(),
  chain: z.record(z.string(), z.string().nullable()),
});
export type EffectiveResult = z.infer<typeof EffectiveResult>;
