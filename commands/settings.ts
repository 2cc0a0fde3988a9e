import { UsageError } from '../src/cli/errors';
import { visible } from '../src/cli/output';
import type { AreaSpec } from '../src/cli/verb';

const flag = (key: string) => (v: string) => {
  if (v !== 'true' && v !== 'false') throw new UsageError(`${key} must be true or false`);
  return v === 'true';
};

const KEYS: Record<string, (v: string) => unknown> = {
  require_deployment: flag('require_deployment'),
  only_admin_unassigned: flag('only_admin_unassigned'),
  only_admin_access_logs: flag('only_admin_access_logs'),
  non_admin_share_other_groups: flag('non_admin_share_other_groups'),
  online_timeout: (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 10 || n > 3600)
      throw new UsageError('online_timeout must be whole seconds from 10 to 3600');
    return n;
  },
  max_peer_one_ab: (v) => {
    if (!/^\d{1,7}$/.test(v) || Number(v) > 1_000_000)
      throw new UsageError('max_peer_one_ab must be a whole number of peers from 0 (no limit) to 1000000');
    return Number(v);
  },
  log_retention_days: (v) => {
    if (!/^\d{1,6}$/.test(v) || Number(v) > 100_000)
      throw new UsageError('log_retention_days must be whole days from 0 (keep everything) to 100000');
    return Number(v);
  },
};

export const settingsArea: AreaSpec = {
  name: 'settings',
  summary: 'Server settings of rdadmin serve (needs an administrator session)',
  description: `Settings of an rdadmin console server:
  require_deployment  true: new devices register only after \`rustdesk --deploy --token T\`
  online_timeout      seconds without a heartbeat after which a device is offline (default 45)
  log_retention_days  days the audit logs are kept, applied hourly; 0 keeps everything (default)
  only_admin_unassigned   true: devices with no user and no device group are for administrators
  only_admin_access_logs  true: users who are not administrators cannot read even their own logs
  max_peer_one_ab     the most peers one address book may hold; 0 = no limit (default)
  non_admin_share_other_groups  true: users who are not administrators may share their address
                      books with other user groups and with everyone (default: users and their
                      own group only)`,
  verbs: [
    {
      name: 'view',
      summary: 'Show the settings',
      examples: ['rdadmin settings view'],
      async run(ctx) {
        const s = await ctx.api.settings.get();
        if (ctx.out.json) ctx.out.jsonValue(s);
        // One setting a line: a line break or a tab in a value is shown escaped (--json keeps it).
        else for (const [k, v] of Object.entries(s)) ctx.out.data(`${visible(k)}\t${visible(String(v))}`);
      },
    },
    {
      name: 'set',
      summary: 'Change a setting',
      args: ['<key>', '<value>'],
      examples: [
        'rdadmin settings set require_deployment true',
        'rdadmin settings set log_retention_days 180',
        'rdadmin settings set only_admin_unassigned true',
        'rdadmin settings set only_admin_access_logs true',
        'rdadmin settings set non_admin_share_other_groups true',
      ],
      async run(ctx, o) {
        const [key, value] = o['_args'] as string[];
        const parse = KEYS[key!];
        if (!parse)
          throw new UsageError(`unknown setting '${key}'`, `settings: ${Object.keys(KEYS).join(', ')}`);
        const parsed = parse(value!);
        if (ctx.flags.dryRun) {
          // Reading the settings also checks the session, as the change would.
          const current: Record<string, unknown> = await ctx.api.settings.get();
          const previous = current[key!] ?? null;
          if (ctx.out.json) ctx.out.jsonValue({ key, value: parsed, previous, action: 'set', dry_run: true });
          ctx.out.info(
            `Dry run: would set ${key} to ${value} (now ${previous ?? 'not set'}); nothing was changed.`,
          );
          return;
        }
        const s = await ctx.api.settings.set({ [key!]: parsed });
        if (ctx.out.json) ctx.out.jsonValue(s);
        else ctx.out.success(`Set ${key} to ${value}.`);
      },
    },
  ],
};
