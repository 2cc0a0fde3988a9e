import { z } from 'zod';

export const SettingsBody = z
  .object({
    require_deployment: z.boolean({ error: 'must be true or false' }).optional(),
    online_timeout: z.number().int().min(10).max(3600).optional(),
  })
  .strict();

export const SettingsView = z.looseObject({
  require_deployment: z.boolean(),
  online_timeout: z.number(),
});
