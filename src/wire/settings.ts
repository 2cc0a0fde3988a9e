import { z } from 'zod';

export const SettingsBody = z
  .object({
    require_deployment: z.boolean({ error: 'must be true or false' }).optional(),
    online_timeout: z.number().int().min(10).max(3600).optional(),
    log_retention_days: z.number().int('must be whole days').min(0).max(100_000).optional(),
    only_admin_unassigned: z.boolean({ error: 'must be true or false' }).optional(),
    only_admin_access_logs: z.boolean({ error: 'must be true or false' }).optional(),
    max_peer_one_ab: z.number().int('must be a whole number').min(0).max(1_000_000).optional(),
    non_admin_share_other_groups: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .strict();

export const SettingsView = z.looseObject({
  require_deployment: z.boolean(),
  online_timeout: z.number(),
  log_retention_days: z.number().optional(),
  only_admin_unassigned: z.boolean().optional(),
  only_admin_access_logs: z.boolean().optional(),
  max_peer_one_ab: z.number().optional(),
  non_admin_share_other_groups: z.boolean().optional(),
});
