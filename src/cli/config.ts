import { readFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { makeFolders } from '../folders';
import {
  type LockHolder,
  releaseLock,
  runningRdadmin,
  tryLock,
  type Verdict,
  WRITING_GRACE_MS,
} from '../lock-file';
import { CliError, Exit, InterruptedError, UsageError } from './errors';
import type { IO } from './io';

// Profiles live in $RDADMIN_CONFIG_DIR/config.json (else $XDG_CONFIG_HOME/rdadmin, else
// ~/.config/rdadmin), written with mode 0600 since they hold tokens, each change with
// config.json.lock held (openConfig()).

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

/** What config.json holds; for a change, as it is at that moment (the current profile defaulted). */
export interface ConfigFile {
  currentProfile: string;
  profiles: Record<string, Profile>;
}

/**
 * Writes the profiles. Each change is made to the file as it is at that moment, with
 * config.json.lock held: commands changing it at the same time (CI jobs on one runner logging in to
 * profiles of their own) each keep their change, as a change made to what was read earlier would
 * not. Reading needs no lock (readProfiles(): the file is replaced whole, never written in place).
 */
export interface ConfigStore {
  path: string;
  /**
   * Changes the file: `change` edits what it holds now (it may throw, and nothing is written); the
   * result is written to a new file (mode 0600) that then takes the config file's place.
   */
  update<T>(change: (file: ConfigFile) => T): Promise<T>;
  setCurrentProfile(name: string): Promise<void>;
  /** Replaces the profile `name` (an undefined or empty value is left out). */
  setProfile(name: string, p: Profile): Promise<void>;
}

/** `p` without its undefined and empty values (a key set to undefined is removed from the profile). */
export function profileValues(p: Profile): Profile {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined && v !== '')) as Profile;
}

/** How long a change waits for another command's change at most (each takes milliseconds). */
const CONFIG_LOCK_WAIT_MS = 10_000;
/** A lock older than this is stale whoever it names: no change takes so long (a pid since reused, another machine). */
const CONFIG_LOCK_STALE_MS = 30_000;

function configLockVerdict(h: LockHolder): Verdict {
  if (h.age > CONFIG_LOCK_STALE_MS) return 'stale';
  if (h.pid === undefined) return h.age < WRITING_GRACE_MS ? 'wait' : 'stale';
  // A process on another machine sharing the folder: only its lock's age tells.
  if (h.host !== undefined && h.host !== hostname()) return 'held';
  return h.pid !== process.pid && runningRdadmin(h.pid) ? 'held' : 'stale';
}

/** Runs `fn` (synchronous: the lock is held only while it runs) with `${path}.lock` held. */
async function withConfigLock<T>(path: string, fn: () => T, waitMs = CONFIG_LOCK_WAIT_MS): Promise<T> {
  const lock = `${path}.lock`;
  const content = `${process.pid} ${hostname()}\n`;
  const attempt = () => {
    try {
      makeFolders(dirname(path));
      return tryLock(lock, content, configLockVerdict);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(
        `cannot change ${path}: ${code ?? (err as Error).message}`,
        `its folder must be writable by this user (${lock} is made there while it changes)`,
      );
    }
  };
  const deadline = Date.now() + waitMs;
  for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
    const r = attempt();
    if (r === true) break;
    if (Date.now() >= deadline) {
      const who = r.verdict === 'busy' || r.holder.pid === undefined ? '' : ` (pid ${r.holder.pid})`;
      throw new CliError(
        `${path} is being changed by another rdadmin${who} for more than ${waitMs / 1000} s: nothing was saved`,
        Exit.failed,
        `try again; if no other rdadmin is running, delete ${lock}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())));
  }
  try {
    return fn();
  } finally {
    releaseLock(lock, content);
  }
}

/** The config file, for changing it (reading it is readProfiles()); `lockWaitMs` is for tests. */
export async function openConfig(env: IO['env'], o: { lockWaitMs?: number } = {}): Promise<ConfigStore> {
  const path = configFilePath(env);
  const update = async <T>(change: (file: ConfigFile) => T): Promise<T> => {
    // Loaded before the lock is taken: the lock is held only for reading, changing and writing.
    const { default: Conf } = await import('conf');
    return withConfigLock(
      path,
      () => {
        let conf: InstanceType<typeof Conf<ConfigFile>>;
        let data: Partial<ConfigFile>;
        try {
          conf = new Conf<ConfigFile>({
            projectName: 'rdadmin',
            projectSuffix: '',
            configName: 'config',
            configFileMode: 0o600,
            ...(env['RDADMIN_CONFIG_DIR'] ? { cwd: env['RDADMIN_CONFIG_DIR'] } : {}),
            defaults: { currentProfile: 'default', profiles: {} },
          });
          data = conf.store; // read now, with the lock held
        } catch (err) {
          throw unreadable(path, err);
        }
        const { current, profiles } = checkedShape(path, data);
        const file: ConfigFile = { currentProfile: current, profiles: { ...profiles } };
        const result = change(file);
        // conf writes a temporary file (with the mode) and renames it over config.json.
        conf.store = { ...data, currentProfile: file.currentProfile, profiles: file.profiles };
        return result;
      },
      o.lockWaitMs,
    );
  };
  return {
    path,
    update,
    setCurrentProfile: (name) =>
      update((file) => {
        file.currentProfile = name;
      }),
    setProfile: (name, p) =>
      update((file) => {
        file.profiles[name] = profileValues(p);
      }),
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
 * Writers go through openConfig(). No lock is taken: a write replaces the file whole. A missing
 * file means no profiles.
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
  return { ...checkedShape(path, data), path };
}

/** The current profile and the profiles of the file's contents `data`, if it holds them. */
function checkedShape(path: string, data: unknown): { current: string; profiles: Record<string, Profile> } {
  const { currentProfile, profiles } = (data ?? {}) as Partial<ConfigFile>;
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
  return { current: currentProfile || 'default', profiles: profiles ?? {} };
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
      return typeof v === 'number' && v >= 1 && v <= 3600 ? undefined : 'a number of seconds from 1 to 3600';
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
  /** Where `ca` came from (`--ca`, `RDADMIN_CA`, `profile 'x'`), for messages about the file. */
  caSource?: string;
  /** Rows per page when listing (RDADMIN_PAGE_SIZE, default 100). */
  pageSize: number;
}

function positiveNumber(name: string, raw: string | number | undefined, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 1 || n > max)
    throw new UsageError(`${name} must be a number between 1 and ${max} (got '${raw}')`);
  return n;
}

/** A count (--concurrency, RDADMIN_PAGE_SIZE): as positiveNumber, and whole, as `config set` has it. */
function wholeNumber(name: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${name} must be a whole number from 1 to ${max} (got '${raw}')`);
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

/**
 * The longest token or password taken (rdadmin serve's session and API tokens are 47 characters):
 * a longer one comes from a wrong file, and as a header the server (431) or a proxy would refuse it.
 */
export const MAX_SECRET_CHARS = 4096;

/**
 * Reads a secret from a file, or from stdin for `-`: its first line that is not blank, without the
 * spaces around it (an editor or `echo >>` may leave a blank line first); the lines after it are
 * not read.
 */
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
  const from = file === '-' ? 'stdin' : file;
  const secret = text.trimStart().split(/\r?\n/, 1)[0]?.trim() ?? '';
  if (!secret) throw new UsageError(`${what} from ${from} is empty`);
  if (secret.length > MAX_SECRET_CHARS) {
    throw new UsageError(
      `${what} from ${from} is too long: ${secret.length} characters on its first line (at most ${MAX_SECRET_CHARS})`,
      'is it the right file? It must hold the secret alone, on one line',
    );
  }
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
  // Without the blanks around it, as a token file is read: CI secret variables often end in a
  // line break. A break inside the value is still refused.
  const fromEnv = env['RDADMIN_TOKEN']?.trim();
  if (!token && fromEnv) {
    token = fromEnv;
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
  const ca = flags.ca ?? env['RDADMIN_CA'] ?? profile.ca;
  const caSource =
    flags.ca !== undefined
      ? '--ca'
      : env['RDADMIN_CA'] !== undefined
        ? 'RDADMIN_CA'
        : `profile '${profileName}'`;
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
    concurrency:
      wholeNumber('--concurrency', flags.concurrency, 64) ??
      wholeNumber('RDADMIN_CONCURRENCY', env['RDADMIN_CONCURRENCY'], 64) ??
      profile.concurrency ??
      DEFAULT_CONCURRENCY,
    insecure: flags.insecure ?? profile.insecure ?? false,
    pageSize: wholeNumber('RDADMIN_PAGE_SIZE', env['RDADMIN_PAGE_SIZE'], 1000) ?? 100,
    ca,
    ...(ca ? { caSource } : {}),
  };
}

/** A certificate in PEM, as TLS reads a CA file. */
const PEM_CERT =
  /-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----[\s\S]*?-----END (?:TRUSTED |X509 )?CERTIFICATE-----/g;

/**
 * Refuses (usage error, naming the file) a CA file's text that holds no readable certificate: a
 * key, a DER file, any other file. TLS would take it without a word and then fail every
 * connection as if the server's certificate were at fault.
 */
export async function checkCaText(text: string, file: string, from: string): Promise<void> {
  const hint = `the CA file (${from}) must hold the PEM certificate ("-----BEGIN CERTIFICATE-----") of the CA that signed the server's certificate, or the server's self-signed certificate itself; not a key, not DER`;
  const blocks = text.match(PEM_CERT);
  if (!blocks) throw new UsageError(`the CA file ${file} (${from}) holds no certificate`, hint);
  const { X509Certificate } = await import('node:crypto');
  // (OpenSSL's TRUSTED CERTIFICATE carries more than X509Certificate reads: left to TLS.)
  for (const pem of blocks.filter((b) => b.startsWith('-----BEGIN CERTIFICATE-----'))) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new UsageError(
        `the CA file ${file} (${from}) holds a certificate that cannot be read: ${(err as Error).message}`,
        hint,
      );
    }
  }
}
