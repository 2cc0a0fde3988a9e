import { resolve } from 'node:path';
import {
  openConfig,
  profileValues,
  type ResolvedConfig,
  readProfiles,
  readSecret,
  resolveConfig,
} from '../src/cli/config';
import { closableQuestion } from '../src/cli/confirm';
import { type Ctx, tlsOptions } from '../src/cli/context';
import { AuthError, CliError, ErrorAnswer, InterruptedError, UsageError } from '../src/cli/errors';
import { checkServerUrl } from '../src/cli/server-url';
import { opt, str, type VerbSpec } from '../src/cli/verb';

/**
 * A client for login and logout (which make their own: they are not API commands), with the
 * timeout and the TLS options (--ca, RDADMIN_CA, --insecure, the profile's) any command would use.
 */
async function sessionApi(ctx: Ctx, config: ResolvedConfig, url: string, token?: string) {
  const [{ createApi }, tls] = await Promise.all([import('../src/client'), tlsOptions(config)]);
  return createApi({
    baseUrl: url,
    token,
    timeoutMs: config.timeoutMs,
    connections: 1,
    ...tls,
    env: ctx.io.env,
  });
}

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
the profile (--profile NAME, default: the current profile), with --ca FILE (as an absolute path) or
--insecure when given, since the next commands need them too; the session replaces any token the
profile held (such as the API token \`serve --demo\` saved). A profile named with --profile
becomes the current one only when there is no usable current profile (otherwise use --profile on
the next commands, or \`rdadmin config use NAME\`). An administrator's session works for every command, and is needed for
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
    checkServerUrl(url);
    // Saved with the session when given (a relative CA path as the absolute one it is now).
    const tls = {
      ...(ctx.config.ca ? { ca: resolve(ctx.config.ca) } : {}),
      ...(ctx.config.insecure ? { insecure: true } : {}),
    };
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
    const api = await sessionApi(ctx, ctx.config, url);
    try {
      const res = await api.auth.login(username, password).catch((err: unknown) => {
        throw loginRefused(err);
      });
      // No session yet: Pro asks for a second factor.
      if (res.type !== 'access_token') throw secondFactor(username, res.tfa_type);
      const config = await openConfig(ctx.io.env);
      let current = '';
      const profile = await config
        .update((file) => {
          const name = ctx.flags.profile ?? ctx.io.env['RDADMIN_PROFILE'] ?? file.currentProfile;
          // A profile named with --profile becomes current only when there is no usable current one:
          // switching would send the next command without --profile of every other job sharing this
          // config (a CI runner) to this server.
          if (ctx.flags.profile && !file.profiles[file.currentProfile]?.url) file.currentProfile = name;
          current = file.currentProfile;
          file.profiles[name] = profileValues({
            ...file.profiles[name],
            url: url.replace(/\/+$/, ''),
            token: res.access_token,
            // What it took to reach the server now, the next command takes too (and runs from anywhere).
            ...tls,
          });
          return name;
        })
        .catch(async (err: unknown) => {
          // Not saved: the session is ended rather than left open with its token nowhere.
          const session = await sessionApi(ctx, ctx.config, url, res.access_token);
          await session.auth.logout().catch(() => undefined);
          await session.close();
          throw err;
        });
      if (ctx.out.json)
        ctx.out.jsonValue({ profile, current: current === profile, url, user: res.user, ...tls });
      else {
        ctx.out.success(
          `Logged in to ${url} as ${res.user.name}${res.user.is_admin ? ' (administrator)' : ''}; saved in profile '${profile}'${tls.ca ? ` with the CA file ${tls.ca}` : ''}.`,
        );
        if (current !== profile)
          ctx.out.info(
            `The current profile stays '${current}': pass --profile ${profile} (or RDADMIN_PROFILE=${profile}) to use this one, or make it current with rdadmin config use ${profile}.`,
          );
        if (!res.user.is_admin)
          ctx.out.warn('this user is not an administrator: admin commands will be refused');
      }
      if (tls.insecure)
        ctx.out.warn(
          `profile '${profile}' keeps --insecure: its commands do not check the server's certificate (\`rdadmin config set insecure false\` turns the check back on)`,
        );
    } finally {
      await api.close();
    }
  },
};

const CREDENTIALS_HINT = 'check the user name and the password (a disabled user cannot log in)';

/**
 * A refused login as a wrong password is reported (exit 4, with the hint): a 401, or an `{"error"}`
 * on a 200, as Pro answers a failed login. A server asking to slow down (429) is not one.
 */
function loginRefused(err: unknown): unknown {
  if (err instanceof AuthError && err.status !== 403)
    return new AuthError(err.message, err.status, CREDENTIALS_HINT);
  if (err instanceof ErrorAnswer && err.status === 200)
    return new AuthError(`not authenticated: ${err.message}`, 200, CREDENTIALS_HINT);
  return err;
}

/** Pro asks for a second factor (TOTP, or a code by email), which `rdadmin login` cannot give. */
function secondFactor(username: string, tfaType: string | null | undefined): AuthError {
  const code =
    tfaType === 'tfa_check'
      ? 'a TOTP code from an authenticator app'
      : tfaType === 'email_check'
        ? 'a code sent by email'
        : 'a verification code';
  return new AuthError(
    `not logged in: user '${username}' needs a second factor (${code}) to log in, which rdadmin login does not support`,
    401,
    'use an API token instead (made in the web console, or with `rdadmin tokens create` on rdadmin serve), saved in the profile with `rdadmin config set token -` (the token on stdin)',
  );
}

/** How a logout ended: 'ended' by the server, 'gone' before it (401), or 'local' (--local). */
type LogoutEnd = 'ended' | 'gone' | 'local';
const SESSION: Record<LogoutEnd, string> = { ended: 'ended', gone: 'already ended', local: 'not ended' };

export const logoutVerb: VerbSpec = {
  name: 'logout',
  summary: 'End the saved session and remove its token from the profile',
  description: `Ends the session of the profile (--profile NAME, default: the current profile) on its
server, then removes the token from the profile. The token is removed only once the server has
ended the session, or answers that it has already ended (401: expired, logged out, ended by
\`users force-logout\`). When the server cannot be reached, or refuses (an API token has no session
to end: 403), the profile keeps the token and the command fails (exit 5, 4, …), so that the session
can still be ended. --local removes the token without asking the server: the session then stays
valid on it until it expires (30 days without use on rdadmin serve).`,
  api: false,
  options: [
    opt(
      'local',
      undefined,
      'remove the token from the profile without ending the session on the server (it stays valid there)',
    ),
  ],
  examples: [
    'rdadmin logout',
    'rdadmin logout --profile staging',
    'rdadmin logout --local --profile old-lab',
  ],
  async run(ctx, o) {
    const local = o['local'] === true;
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
    // The profile's values checked, with flags and environment over them (--ca, --insecure, --timeout).
    // (The token is the profile's: --token / --token-file are not read again.)
    const config = await resolveConfig(
      { ...ctx.flags, token: undefined, tokenFile: undefined, profile },
      ctx.io,
    );
    // The token's own server; --url or RDADMIN_URL only for a profile that names none.
    const url = p.url ?? ctx.config.url;
    if (!local) {
      if (!url)
        throw new UsageError(
          `profile '${profile}' has no server URL: its session cannot be ended`,
          'pass --url URL, or remove the token without ending the session: rdadmin logout --local',
        );
      try {
        checkServerUrl(url);
      } catch (err) {
        // A URL an older version saved (with user:pw@, say): the way out is the profile's.
        if (!(err instanceof UsageError) || !p.url) throw err;
        throw new UsageError(
          `profile '${profile}': ${err.message}`,
          `${err.hint ? `${err.hint}; ` : ''}fix the profile with \`rdadmin config set url URL --profile ${profile}\` and log out again, or remove the token without the server: \`rdadmin logout --local --profile ${profile}\``,
        );
      }
    }
    if (ctx.flags.dryRun) {
      if (ctx.out.json)
        ctx.out.jsonValue({
          profile,
          url: url ?? null,
          action: 'logout',
          ...(local ? { local } : {}),
          dry_run: true,
        });
      ctx.out.info(
        local
          ? `Dry run: would remove the token of profile '${profile}' without ending its session; nothing was changed.`
          : `Dry run: would end the session of profile '${profile}' and remove its token; nothing was changed.`,
      );
      return;
    }
    let end: LogoutEnd = 'local';
    let gone = '';
    if (!local) {
      const api = await sessionApi(ctx, config, url!, p.token);
      try {
        await api.auth.logout();
        end = 'ended';
      } catch (err) {
        // The token opens no session any more: removing it is what is left to do.
        if (err instanceof AuthError && err.status === 401) {
          end = 'gone';
          gone = err.message;
        } else throw notLoggedOut(err, profile);
      } finally {
        await api.close();
      }
    }
    const store = await openConfig(ctx.io.env);
    await store.update((file) => {
      const now = file.profiles[profile];
      if (now) file.profiles[profile] = profileValues({ ...now, token: undefined });
    });
    if (ctx.out.json)
      ctx.out.jsonValue({ profile, action: 'logout', had_token: true, session: SESSION[end] });
    if (end === 'local')
      ctx.out.warn(
        'the server was not told: the token stays valid there until it expires (`rdadmin users force-logout` ends the sessions of a user, `rdadmin tokens revoke` an API token)',
      );
    ctx.out.success(
      end === 'gone'
        ? `Logged out; profile '${profile}' no longer holds a token (the server had already ended the session: ${gone}).`
        : end === 'local'
          ? `Removed the token from profile '${profile}'.`
          : `Logged out; profile '${profile}' no longer holds a token.`,
    );
  },
};

/** The logout failed: the profile keeps its token, and the error says so and how to go on. */
function notLoggedOut(err: unknown, profile: string): unknown {
  if (!(err instanceof CliError) || err instanceof InterruptedError) return err;
  const local = 'rdadmin logout --local removes the token without ending the session';
  const hint =
    // Refused (403, or Pro's 200 `Permission denied`), not unauthenticated: an API token.
    err instanceof AuthError && err.status !== 401
      ? `profile '${profile}' keeps the token. An API token has no session to end: ${local}, and \`rdadmin tokens revoke\` (or the web console) revokes it`
      : `${err.hint ? `${err.hint}\nhint: ` : ''}profile '${profile}' keeps its token, so that the session can still be ended: run rdadmin logout again; ${local}`;
  return new CliError(`not logged out: ${err.message}`, err.exitCode, hint);
}
