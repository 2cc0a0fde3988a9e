import { CliError, Exit, LookupError, UsageError } from '../src/cli/errors';
import { ifExistsOn, ifExistsOpt, reportGone } from '../src/cli/if-exists';
import { type AreaSpec, opt, str } from '../src/cli/verb';
import { AREAS, type Area, formatPermissions, LEVELS, parsePermissions } from '../src/wire/scopes';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };
/** The longest lifetime the server takes (CreateTokenBody's expires_in). */
const MAX_LIFETIME_S = 10 * 365 * 86400;

/** `30d`, `12h`, `90m`, `3600s`, `2w`; a bare number means days. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhdw]?)$/i.exec(text.trim());
  if (!m || Number(m[1]) <= 0) {
    throw new UsageError(
      `invalid --expires-in '${text}'`,
      'use a number with a unit: 90m, 12h, 30d, 2w (a bare number means days)',
    );
  }
  const seconds = Number(m[1]) * UNITS[(m[2] || 'd').toLowerCase()]!;
  if (seconds > MAX_LIFETIME_S)
    throw new UsageError(
      `invalid --expires-in '${text}': at most 10 years (3650d)`,
      'leave --expires-in out for a token that does not expire',
    );
  return seconds;
}

/** `30d` for 2592000: the largest unit that divides the lifetime (what the user typed, near enough). */
function formatDuration(seconds: number): string {
  const [unit, size] = Object.entries(UNITS)
    .sort(([, a], [, b]) => b - a)
    .find(([, size]) => seconds % size === 0)!;
  return `${seconds / size}${unit}`;
}

/** The commands each permission area opens, for --help (a 403 names the permission and sends users there). */
const AREA_COMMANDS: Record<Area, string> = {
  device: 'devices',
  user: 'users',
  device_group: 'device-groups',
  user_group: 'user-groups',
  address_book: 'ab',
  audit_log: 'audits',
  strategy: 'strategies',
};

const PERMISSIONS_HELP = `--permissions takes AREA:LEVEL pairs separated by commas; a later pair wins,
and an area not named gets none.
  AREA          what it covers
${AREAS.map((a) => `  ${a.padEnd(12)}  rdadmin ${AREA_COMMANDS[a]}`).join('\n')}
  all           every area above
  LEVEL         ${LEVELS.join(', ')}: no access, read (view, list), read and change`;

export const tokensArea: AreaSpec = {
  name: 'tokens',
  aliases: ['token'],
  summary: 'Create, list and revoke scoped API tokens (needs an administrator session: rdadmin login)',
  description: `API tokens carry a permission per area: ${AREAS.join(', ')}; each none, r (read) or
rw (read and write). The token is shown once, at creation; the server keeps only its SHA-256.
Managing tokens needs an administrator's session (rdadmin login), not an API token.`,
  verbs: [
    {
      name: 'create',
      summary: 'Create an API token',
      description: `Create an API token; it is shown once.\n\n${PERMISSIONS_HELP}`,
      options: [
        opt('name', '<name>', 'a unique name for the token'),
        opt(
          'permissions',
          '<list>',
          `AREA:LEVEL,… e.g. user:rw,device:r; AREA: ${AREAS.join(', ')} or all; LEVEL: ${LEVELS.join(', ')}`,
        ),
        opt('expires_in', '<duration>', 'lifetime: 90m, 12h, 30d, 2w (default: never expires)'),
      ],
      examples: [
        'rdadmin tokens create --name ci --permissions user:rw,user_group:r --expires-in 30d',
        'rdadmin tokens create --name dashboards --permissions all:r --json',
      ],
      async run(ctx, o) {
        const name = str(o['name'])?.trim();
        if (!name) throw new UsageError('tokens create needs --name NAME');
        const permsText = str(o['permissions']);
        if (!permsText) throw new UsageError('tokens create needs --permissions (e.g. user:rw,device:r)');
        let permissions: ReturnType<typeof parsePermissions>;
        try {
          permissions = parsePermissions(permsText);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const expiresIn = str(o['expiresIn']) ? parseDuration(str(o['expiresIn'])!) : undefined;
        if (ctx.flags.dryRun) {
          // Names are unique among live tokens: the same refusal the server would give, by a read.
          const { data } = await ctx.api.auth.listTokens();
          if (data.some((x) => x.name === name))
            throw new CliError(`a token named '${name}' already exists`, Exit.failed);
          if (ctx.out.json)
            ctx.out.jsonValue({
              name,
              permissions,
              expires_in_seconds: expiresIn ?? null,
              action: 'create',
              dry_run: true,
            });
          ctx.out.info(
            `Dry run: would create token '${name}' (${formatPermissions(permissions)}), ${expiresIn ? `expiring ${formatDuration(expiresIn)} after creation` : 'never expiring'}; nothing was changed.`,
          );
          return;
        }
        const t = await ctx.api.auth.createToken(name, permissions, expiresIn);
        if (ctx.out.json) {
          ctx.out.jsonValue(t);
          return;
        }
        ctx.out.success(
          `Created token '${t.name}' (${formatPermissions(t.permissions)})${t.expires_at ? `, expires ${t.expires_at}` : ''}. It is shown only now:`,
        );
        ctx.out.data(t.token);
      },
    },
    {
      name: 'list',
      aliases: ['view'],
      summary: 'List API tokens not revoked, expired ones marked (never their secrets)',
      examples: ['rdadmin tokens list', 'rdadmin tokens list --json'],
      async run(ctx) {
        const { data } = await ctx.api.auth.listTokens();
        if (ctx.out.json) {
          ctx.out.jsonValue(data);
          return;
        }
        const n = await ctx.out.table(
          [
            { header: 'NAME', value: (t) => t.name },
            { header: 'PERMISSIONS', value: (t) => formatPermissions(t.permissions) },
            { header: 'OWNER', value: (t) => t.owner },
            { header: 'CREATED', value: (t) => t.created_at },
            {
              header: 'EXPIRES',
              value: (t) =>
                !t.expires_at
                  ? 'never'
                  : Date.parse(t.expires_at) <= Date.now()
                    ? `${t.expires_at} (expired)`
                    : t.expires_at,
            },
            { header: 'LAST USED', value: (t) => t.last_used_at ?? 'never' },
          ],
          data,
        );
        if (n === 0) ctx.out.info('No API tokens.');
      },
    },
    {
      name: 'revoke',
      aliases: ['delete'],
      summary: 'Revoke an API token by name',
      description: `Revoke an API token by its exact name. A name that is not there is an error (exit 1);
with --if-exists it is reported as already gone ("Token 'X' is not there; nothing to revoke."), exit 0
(--json: "existed": false; a token revoked then has "existed": true), so a teardown job can run again.`,
      options: [opt('name', '<name>', 'the token name'), ifExistsOpt()],
      examples: ['rdadmin tokens revoke --name ci', 'rdadmin tokens revoke --name ci --if-exists --json'],
      async run(ctx, o) {
        const name = str(o['name']);
        if (!name) throw new UsageError('tokens revoke needs --name NAME');
        const on = ifExistsOn(o);
        const existed = on ? { existed: true } : {};
        const { data } = await ctx.api.auth.listTokens();
        const t = data.find((x) => x.name === name);
        if (!t && on) {
          reportGone(ctx, `Token '${name}'`, 'revoke', { name, guid: null, revoked: false });
          return;
        }
        if (!t) {
          throw new LookupError(
            `no token named '${name}'`,
            data.length ? `tokens: ${data.map((x) => x.name).join(', ')}` : 'there are no tokens',
          );
        }
        if (ctx.flags.dryRun) {
          if (ctx.out.json)
            ctx.out.jsonValue({ name, guid: t.guid, action: 'revoke', ...existed, dry_run: true });
          ctx.out.info(`Dry run: would revoke token '${name}'; nothing was changed.`);
          return;
        }
        await ctx.api.auth.revokeToken(t.guid);
        if (ctx.out.json) ctx.out.jsonValue({ name, guid: t.guid, revoked: true, ...existed });
        else ctx.out.success(`Revoked token '${name}'.`);
      },
    },
  ],
};
