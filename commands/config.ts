import { resolve } from 'node:path';
import {
  openConfig,
  PROFILE_KEYS,
  type Profile,
  type ProfileKey,
  profileValueProblem,
  profileValues,
  readProfiles,
  readSecret,
  resolveConfig,
} from '../src/cli/config';
import type { Ctx } from '../src/cli/context';
import { UsageError } from '../src/cli/errors';
import { shownUrl } from '../src/cli/output';
import { checkServerUrl } from '../src/cli/server-url';
import type { AreaSpec } from '../src/cli/verb';

/** The value as the profile keeps it, checked by the same rule as a profile read from the file. */
function coerce(key: ProfileKey, value: string): Profile[ProfileKey] {
  const typed =
    key === 'timeout' || key === 'concurrency'
      ? value.trim() === ''
        ? Number.NaN
        : Number(value)
      : key === 'insecure'
        ? ({ true: true, false: false } as Record<string, boolean>)[value]
        : value;
  const problem = profileValueProblem(key, typed);
  if (problem) throw new UsageError(`${key} must be ${problem}`);
  if (key === 'url') checkServerUrl(value);
  // The CA file is read by commands run from anywhere: kept as an absolute path.
  if (key === 'ca') return resolve(value);
  return typed as Profile[ProfileKey];
}

/**
 * The profile a change would go to (--profile, else RDADMIN_PROFILE, else the current one) and whether
 * it exists, read without changing the config: a change writes config.json (with conf's defaults
 * when the file is missing), which a dry run must not do.
 */
async function peekProfile(ctx: Ctx, name?: string): Promise<{ profile: string; exists: boolean }> {
  const r = await resolveConfig({ profile: name ?? ctx.flags.profile }, ctx.io);
  return { profile: r.profile, exists: r.profileExists };
}

export const configArea: AreaSpec = {
  name: 'config',
  summary: 'Profiles: saved server URLs, tokens and defaults',
  description: `Profiles are kept in config.json (mode 0600) under $RDADMIN_CONFIG_DIR, else
$XDG_CONFIG_HOME/rdadmin, else ~/.config/rdadmin. Precedence: flag > environment > profile.`,
  verbs: [
    {
      name: 'list',
      summary: 'List profiles (tokens are never shown)',
      api: false,
      examples: ['rdadmin config list', 'rdadmin config list --json'],
      async run(ctx) {
        // Read only: a change through the config store would write config.json when it is missing.
        const config = await readProfiles(ctx.io.env);
        const current = config.current;
        const profiles = Object.entries(config.profiles).map(([name, p]) => ({
          name,
          current: name === current,
          url: p.url ? shownUrl(p.url) : null, // a password in the URL is not shown
          token: p.token ? 'set' : 'not set',
          timeout: p.timeout ?? null,
          concurrency: p.concurrency ?? null,
          insecure: p.insecure ?? null,
          ca: p.ca ?? null,
        }));
        if (ctx.out.json) {
          ctx.out.jsonValue({ path: config.path, current, profiles });
          return;
        }
        const n = await ctx.out.table(
          [
            { header: '', value: (p) => (p.current ? '*' : '') },
            { header: 'PROFILE', value: (p) => p.name },
            { header: 'URL', value: (p) => p.url ?? '' },
            { header: 'TOKEN', value: (p) => p.token },
            { header: 'TLS', value: (p) => (p.insecure ? 'insecure' : p.ca ? `ca ${p.ca}` : '') },
          ],
          profiles,
        );
        if (n === 0)
          ctx.out.info(
            `No profiles yet (${config.path}). Create one with rdadmin login or rdadmin config set.`,
          );
      },
    },
    {
      name: 'use',
      summary: 'Make a profile the current one',
      api: false,
      args: ['<name>'],
      examples: ['rdadmin config use staging'],
      async run(ctx, o) {
        const [name] = o['_args'] as string[];
        if (ctx.flags.dryRun) {
          if (!(await peekProfile(ctx, name)).exists)
            throw new UsageError(`no profile named '${name}'`, 'list them with `rdadmin config list`');
          if (ctx.out.json) ctx.out.jsonValue({ profile: name, action: 'use', dry_run: true });
          ctx.out.info(`Dry run: would make '${name}' the current profile; nothing was changed.`);
          return;
        }
        const config = await openConfig(ctx.io.env);
        await config.update((file) => {
          if (!file.profiles[name!]) {
            throw new UsageError(
              `no profile named '${name}'`,
              `profiles: ${Object.keys(file.profiles).join(', ') || 'none'}`,
            );
          }
          file.currentProfile = name!;
        });
        if (ctx.out.json) ctx.out.jsonValue({ profile: name, action: 'use' });
        ctx.out.success(`Current profile: ${name}.`);
      },
    },
    {
      name: 'set',
      summary: `Set a profile value: ${PROFILE_KEYS.join(', ')}`,
      description: `Set a value in the profile (--profile NAME, else the current one; created if new).
For the token, give - as VALUE to read it from stdin instead of the command line.`,
      api: false,
      args: ['<key>', '<value>'],
      examples: [
        'rdadmin config set url https://rd.example.com',
        'rdadmin config set token - < token.txt',
        'rdadmin config set concurrency 2 --profile staging',
      ],
      async run(ctx, o) {
        const [key, raw] = o['_args'] as string[];
        if (!(PROFILE_KEYS as readonly string[]).includes(key!)) {
          throw new UsageError(`unknown key '${key}'`, `keys: ${PROFILE_KEYS.join(', ')}`);
        }
        const k = key as ProfileKey;
        const value = k === 'token' && raw === '-' ? await readSecret('-', ctx.io, 'the token') : raw!;
        if (k === 'token' && raw !== '-')
          ctx.out.warn(
            'a token on the command line is kept in shell history; prefer: rdadmin config set token -',
          );
        const coerced = coerce(k, value);
        // What is shown of the value: never a token, and a URL without its password.
        const shown = k === 'token' ? undefined : k === 'url' ? shownUrl(value) : coerced;
        const doc = (profile: string) => ({
          profile,
          key: k,
          ...(shown === undefined ? {} : { value: shown }),
        });
        const to = shown === undefined ? '' : ` to ${shown}`;
        if (ctx.flags.dryRun) {
          const { profile, exists } = await peekProfile(ctx);
          if (ctx.out.json) ctx.out.jsonValue({ ...doc(profile), action: 'set', dry_run: true });
          ctx.out.info(
            `Dry run: would set ${k}${to} in profile '${profile}'${exists ? '' : ' (a new profile)'}; nothing was changed.`,
          );
          return;
        }
        const config = await openConfig(ctx.io.env);
        const profile = await config.update((file) => {
          const name = ctx.flags.profile ?? ctx.io.env['RDADMIN_PROFILE'] ?? file.currentProfile;
          file.profiles[name] = profileValues({ ...file.profiles[name], [k]: coerced });
          return name;
        });
        if (ctx.out.json) ctx.out.jsonValue({ ...doc(profile), action: 'set' });
        ctx.out.success(`Set ${k} in profile '${profile}'${to}.`);
      },
    },
  ],
};
