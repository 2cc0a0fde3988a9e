import { openConfig, profileValues, readProfiles, readSecret } from '../src/cli/config';
import { closableQuestion } from '../src/cli/confirm';
import { AuthError, UsageError } from '../src/cli/errors';
import { opt, str, type VerbSpec } from '../src/cli/verb';

async function promptPassword(ctx: Parameters<VerbSpec['run']>[0]): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  // Ctrl-C or Ctrl-D (or stdin ending) closes the question: not logged in, exit 3, as for a
  // confirmation; never a silent exit 0.
  return closableQuestion(
    ctx.io,
    { color: ctx.out.stderrColor, closed: 'the password prompt was closed; not logged in' },
    ({ look, ...context }) => password({ message: 'Password:', mask: '*', ...look }, context),
  );
}

export const loginVerb: VerbSpec = {
  name: 'login',
  summary: 'Log in and save the session in a profile',
  description: `Log in with a user name and password and save the server URL and the session token in
the profile (--profile NAME, default: the current profile); the session replaces any token the
profile held (such as the API token \`serve --demo\` saved), and a profile named with --profile
becomes the current one. An administrator's session works for every command, and is needed for
\`rdadmin tokens\` and \`rdadmin settings\`. The password is asked on a terminal, or read from stdin
with --password-stdin; it is never accepted as a flag value.`,
  api: false,
  options: [
    opt('username', '<name>', 'user name'),
    opt('password_stdin', undefined, 'read the password from the first line of stdin'),
  ],
  examples: [
    'rdadmin login --url http://127.0.0.1:21114 --username admin',
    'printf "%s\\n" "$RD_PASSWORD" | rdadmin login --url https://rd.example.com --username ci --password-stdin',
  ],
  async run(ctx, o) {
    const url = ctx.config.url;
    const username = str(o['username']);
    if (!url) throw new UsageError('login needs --url URL (or RDADMIN_URL)');
    if (!username) throw new UsageError('login needs --username NAME');
    if (ctx.flags.dryRun) {
      // A login creates a session on the server and writes the profile: a dry run does neither.
      const profile =
        ctx.flags.profile ?? ctx.io.env['RDADMIN_PROFILE'] ?? (await readProfiles(ctx.io.env)).current;
      if (ctx.out.json) ctx.out.jsonValue({ url, username, profile, action: 'login', dry_run: true });
      ctx.out.info(
        `Dry run: would log in to ${url} as ${username} and save the session in profile '${profile}'; nothing was changed.`,
      );
      return;
    }
    let password: string;
    if (o['passwordStdin']) password = await readSecret('-', ctx.io, 'the password');
    else if (ctx.interactive) password = await promptPassword(ctx);
    else throw new UsageError('no terminal to ask for the password', 'pipe it in with --password-stdin');
    const { createApi } = await import('../src/client');
    const api = createApi({
      baseUrl: url,
      timeoutMs: ctx.config.timeoutMs,
      connections: 1,
      insecure: ctx.config.insecure,
      env: ctx.io.env,
    });
    try {
      const res = await api.auth.login(username, password).catch((err: unknown) => {
        if (err instanceof AuthError && err.status === 401)
          throw new AuthError(
            err.message,
            401,
            'check the user name and the password (a disabled user cannot log in)',
          );
        throw err;
      });
      const config = await openConfig(ctx.io.env);
      const profile = await config
        .update((file) => {
          const name = ctx.flags.profile ?? ctx.io.env['RDADMIN_PROFILE'] ?? file.currentProfile;
          file.profiles[name] = profileValues({
            ...file.profiles[name],
            url: url.replace(/\/+$/, ''),
            token: res.access_token,
          });
          if (ctx.flags.profile) file.currentProfile = name;
          return name;
        })
        .catch(async (err: unknown) => {
          // Not saved: the session is ended rather than left open with its token nowhere.
          const session = createApi({
            baseUrl: url,
            token: res.access_token,
            timeoutMs: ctx.config.timeoutMs,
            connections: 1,
            insecure: ctx.config.insecure,
            env: ctx.io.env,
          });
          await session.auth.logout().catch(() => undefined);
          await session.close();
          throw err;
        });
      if (ctx.out.json) ctx.out.jsonValue({ profile, url, user: res.user });
      else {
        ctx.out.success(
          `Logged in to ${url} as ${res.user.name}${res.user.is_admin ? ' (administrator)' : ''}; saved in profile '${profile}'.`,
        );
        if (!res.user.is_admin)
          ctx.out.warn('this user is not an administrator: admin commands will be refused');
      }
    } finally {
      await api.close();
    }
  },
};

export const logoutVerb: VerbSpec = {
  name: 'logout',
  summary: 'End the saved session and remove its token from the profile',
  api: false,
  examples: ['rdadmin logout', 'rdadmin logout --profile staging'],
  async run(ctx) {
    // Read first: with nothing to forget, or in a dry run, the config file is not opened for writing.
    const saved = await readProfiles(ctx.io.env);
    const named = ctx.flags.profile ?? ctx.io.env['RDADMIN_PROFILE'];
    const profile = named ?? saved.current;
    if (named !== undefined && !saved.profiles[named])
      throw new UsageError(`no profile named '${named}'`, 'list them with `rdadmin config list`');
    const p = saved.profiles[profile] ?? {};
    if (!p.token) {
      if (ctx.out.json) ctx.out.jsonValue({ profile, action: 'logout', had_token: false });
      ctx.out.info(`Profile '${profile}' holds no token; nothing to do.`);
      return;
    }
    if (ctx.flags.dryRun) {
      if (ctx.out.json) ctx.out.jsonValue({ profile, url: p.url ?? null, action: 'logout', dry_run: true });
      ctx.out.info(
        `Dry run: would end the session of profile '${profile}' and remove its token; nothing was changed.`,
      );
      return;
    }
    if (p.url) {
      const { createApi } = await import('../src/client');
      const api = createApi({
        baseUrl: p.url,
        token: p.token,
        timeoutMs: ctx.config.timeoutMs,
        connections: 1,
        env: ctx.io.env,
      });
      // An API token has no session to end (403): forgetting it locally is all there is to do.
      await api.auth.logout().catch(() => undefined);
      await api.close();
    }
    const config = await openConfig(ctx.io.env);
    await config.update((file) => {
      const now = file.profiles[profile];
      if (now) file.profiles[profile] = profileValues({ ...now, token: undefined });
    });
    if (ctx.out.json) ctx.out.jsonValue({ profile, action: 'logout', had_token: true });
    ctx.out.success(`Logged out; profile '${profile}' no longer holds a token.`);
  },
};
