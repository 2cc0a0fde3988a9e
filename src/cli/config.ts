import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InterruptedError, UsageError } from './errors';
import type { IO } from './io';

// Profiles live in $RDADMIN_CONFIG_DIR/config.json (else $XDG_CONFIG_HOME/rdadmin, else
// ~/.config/rdadmin), written with mode 0600 since they hold tokens.

export interface Profile {
  url?: string;
  token?: string;
  timeout?: number;
  concurrency?: number;
  insecure?: boolean;
  ca?: string;
}
export const PROFILE_KEYS = ['url', 'token', 'timeout', 'concurrency', 'insecure', 'ca'] as const;

/**
 * Requests in flight at once for bulk work against a server without batches (Pro). Across a link
 * with 10 ms round trips 1,000 disables took 3.7 s at 4, 2.1 s at 8 and 1.3 s at 16 (on loopback
 * 4 and 8 do not differ); 8 keeps a small server's load modest, and a server that asks to slow
 * down (429) is waited for.
 */
export const DEFAULT_CONCURRENCY = 8;
export type ProfileKey = (typeof PROFILE_KEYS)[number];

interface ConfigShape {
  currentProfile: string;
  profiles: Record<string, Profile>;
}

export interface ConfigStore {
  path: string;
  currentProfile(): string;
  setCurrentProfile(name: string): void;
  profiles(): Record<string, Profile>;
  getProfile(name: string): Profile;
  setProfile(name: string, p: Profile): void;
}

export async function openConfig(env: IO['env']): Promise<ConfigStore> {
  const { default: Conf } = await import('conf');
  let conf: InstanceType<typeof Conf<ConfigShape>>;
  try {
    conf = new Conf<ConfigShape>({
      projectName: 'rdadmin',
      projectSuffix: '',
      configName: 'config',
      configFileMode: 0o600,
      ...(env['RDADMIN_CONFIG_DIR'] ? { cwd: env['RDADMIN_CONFIG_DIR'] } : {}),
      defaults: { currentProfile: 'default', profiles: {} },
    });
  } catch (err) {
    throw unreadable(configFilePath(env), err);
  }
  return {
    path: conf.path,
    currentProfile: () => conf.get('currentProfile') || 'default',
    setCurrentProfile: (name) => conf.set('currentProfile', name),
    profiles: () => conf.get('profiles') ?? {},
    getProfile: (name) => conf.get('profiles')?.[name] ?? {},
    setProfile: (name, p) => {
      const all = { ...(conf.get('profiles') ?? {}) };
      all[name] = Object.fromEntries(
        Object.entries(p).filter(([, v]) => v !== undefined && v !== ''),
      ) as Profile;
      conf.set('profiles', all);
    },
  };
}

/**
 * The file conf keeps the profiles in: $RDADMIN_CONFIG_DIR/config.json, else the per-user config
 * folder conf finds with env-paths (which reads the process environment): XDG_CONFIG_HOME or
 * ~/.config on Linux, ~/Library/Preferences on macOS, %APPDATA%/rdadmin/Config on Windows.
 */
export function configFilePath(env: IO['env']): string {
  const dir = env['RDADMIN_CONFIG_DIR'];
  if (dir) return resolve(dir, 'config.json');
  const home = homedir();
  const pe = process.env;
  if (process.platform === 'darwin') return resolve(home, 'Library', 'Preferences', 'rdadmin', 'config.json');
  if (process.platform === 'win32')
    return resolve(pe['APPDATA'] || join(home, 'AppData', 'Roaming'), 'rdadmin', 'Config', 'config.json');
  return resolve(pe['XDG_CONFIG_HOME'] || join(home, '.config'), 'rdadmin', 'config.json');
}

/**
 * The profiles, read straight from conf's JSON file: every API command needs them, and loading
 * conf (with its schema validator) costs more start-up time than the rest of the command line.
 * Writers still go through openConfig(). A missing file means no profiles.
 */
export async function readProfiles(
  env: IO['env'],
): Promise<{ current: string; profiles: Record<string, Profile>; path: string }> {
  const path = configFilePath(env);
  let data: unknown = {};
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(path, err);
  }
  const { currentProfile, profiles } = (data ?? {}) as Partial<ConfigShape>;
  if (
    typeof data !== 'object' ||
    data === null ||
    Array.isArray(data) ||
    (currentProfile !== undefined && typeof currentProfile !== 'string') ||
    (profiles !== undefined && (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)))
  ) {
    throw new UsageError(
      `${path} does not hold rdadmin's profiles ({"currentProfile": …, "profiles": {…}})`,
      'fix it, or move it away to start afresh',
    );
  }
  return { current: currentProfile || 'default', profiles: profiles ?? {}, path };
}

/** The config file exists but cannot be read or parsed. */
function unreadable(path: string, err: unknown): UsageError {
  const code = (err as NodeJS.ErrnoException).code;
  return err instanceof SyntaxError
    ? new UsageError(`${path} is not valid JSON: ${err.message}`, 'fix it, or move it away to start afresh')
    : new UsageError(`cannot read ${path}: ${code ?? (err as Error).message}`);
}

/**
 * What a profile value must be, when it is not that ('a string', …); undefined when it is. The
 * one rule for `config set` and for a hand-edited file (which may hold "false" for insecure, which
 * must not turn TLS checks off, or a string for a number).
 */
export function profileValueProblem(key: ProfileKey, v: unknown): string | undefined {
  switch (key) {
    case 'insecure':
      return typeof v === 'boolean' ? undefined : 'true or false';
    case 'timeout':
      return typeof v === 'number' && v > 0 && v <= 3600 ? undefined : 'a number of seconds from 1 to 3600';
    case 'concurrency':
      return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 64
        ? undefined
        : 'a whole number from 1 to 64';
    default:
      return typeof v === 'string' ? undefined : 'a string';
  }
}

/** The profile `name` as the file holds it, each value checked (profileValueProblem). */
function checkedProfile(path: string, name: string, raw: unknown): Profile {
  const bad = (key: string, what: string) =>
    new UsageError(
      `${path}: profile '${name}': ${key} must be ${what}`,
      `set it with rdadmin config set ${key} VALUE --profile ${name}`,
    );
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('the profile', 'an object');
  const p = raw as Record<string, unknown>;
  for (const key of PROFILE_KEYS) {
    const problem = p[key] === undefined ? undefined : profileValueProblem(key, p[key]);
    if (problem) throw bad(key, problem);
  }
  return p as Profile;
}

export interface GlobalFlags {
  url?: string;
  token?: string;
  tokenFile?: string;
  profile?: string;
  json?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  all?: boolean;
  color?: boolean;
  timeout?: string;
  concurrency?: string;
  /** false with --no-batch. */
  batch?: boolean;
  insecure?: boolean;
  ca?: string;
  debug?: boolean;
}

export interface ResolvedConfig {
  profile: string;
  /** Whether the profile is in the config file (a new one may be created by login / config set). */
  profileExists: boolean;
  url?: string;
  token?: string;
  /** Where the token came from, for messages (never the token itself). */
  tokenSource?: string;
  timeoutMs: number;
  concurrency: number;
  insecure: boolean;
  ca?: string;
  /** Rows per page when listing (RDADMIN_PAGE_SIZE, default 100). */
  pageSize: number;
}

function positiveNumber(name: string, raw: string | number | undefined, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new UsageError(`${name} must be a number between 1 and ${max} (got '${raw}')`);
  return n;
}

async function readStdin(io: IO): Promise<string> {
  const { stdin, interrupt } = io;
  const chunks: Buffer[] = [];
  // A signal ends the wait: a terminal, or a pipe whose writer never ends it, would hold the process.
  const stopHearing = interrupt?.on(() => (stdin as { destroy?: () => void }).destroy?.());
  try {
    for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  } catch (err) {
    if (!interrupt?.signal) throw err;
  } finally {
    stopHearing?.();
  }
  if (interrupt?.signal) throw new InterruptedError(interrupt.signal);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a secret from a file, or from stdin for `-`; only its first line counts. */
export async function readSecret(file: string, io: IO, what: string): Promise<string> {
  let text: string;
  try {
    text = file === '-' ? await readStdin(io) : await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${what} from ${file}: ${code ?? (err as Error).message}`,
      code === 'ENOENT'
        ? `no such file: check the path (relative to ${process.cwd()}), or pass - to read it from stdin`
        : code === 'EACCES'
          ? 'the file is not readable by this user'
          : undefined,
    );
  }
  const secret = text.split(/\r?\n/)[0]?.trim() ?? '';
  if (!secret) throw new UsageError(`${what} from ${file === '-' ? 'stdin' : file} is empty`);
  return secret;
}

/** flag > environment > profile > default. The config file is read only when something is missing. */
export async function resolveConfig(
  flags: GlobalFlags,
  io: IO,
  o: { ignoreFile?: boolean } = {},
): Promise<ResolvedConfig> {
  const env = io.env;
  if (flags.token !== undefined && flags.tokenFile !== undefined) {
    throw new UsageError('--token and --token-file both give the token: pass one of them');
  }
  let token = flags.token;
  let tokenSource = token ? '--token' : undefined;
  if (!token && flags.tokenFile) {
    token = await readSecret(flags.tokenFile, io, 'the token');
    tokenSource = '--token-file';
  }
  if (!token && env['RDADMIN_TOKEN']) {
    token = env['RDADMIN_TOKEN'];
    tokenSource = 'RDADMIN_TOKEN';
  }
  const url = flags.url ?? env['RDADMIN_URL'];
  let profileName = flags.profile ?? env['RDADMIN_PROFILE'];
  let profile: Profile = {};
  let profileExists = false;
  const needProfile =
    !url ||
    !token ||
    flags.profile !== undefined ||
    env['RDADMIN_PROFILE'] !== undefined ||
    flags.timeout === undefined;
  if (needProfile && !o.ignoreFile) {
    const file = await readProfiles(env);
    profileName ??= file.current;
    profile = checkedProfile(file.path, profileName, file.profiles[profileName]);
    profileExists = file.profiles[profileName] !== undefined;
  }
  if (!token && profile.token) {
    token = profile.token;
    tokenSource = `profile '${profileName}'`;
  }
  return {
    profile: profileName ?? 'default',
    profileExists,
    url: url ?? profile.url,
    token,
    tokenSource,
    timeoutMs:
      1000 *
      (positiveNumber('--timeout', flags.timeout, 3600) ??
        positiveNumber('RDADMIN_TIMEOUT', env['RDADMIN_TIMEOUT'], 3600) ??
        profile.timeout ??
        30),
    concurrency: Math.floor(
      positiveNumber('--concurrency', flags.concurrency, 64) ??
        positiveNumber('RDADMIN_CONCURRENCY', env['RDADMIN_CONCURRENCY'], 64) ??
        profile.concurrency ??
        DEFAULT_CONCURRENCY,
    ),
    insecure: flags.insecure ?? profile.insecure ?? false,
    pageSize: Math.floor(positiveNumber('RDADMIN_PAGE_SIZE', env['RDADMIN_PAGE_SIZE'], 1000) ?? 100),
    ca: flags.ca ?? env['RDADMIN_CA'] ?? profile.ca,
  };
}
