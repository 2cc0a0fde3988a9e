import { LoginAlarm } from '../wire/audit-labels';

// Login protection: failed logins are counted per account and per client IP. Too many within a
// minute or an hour throttles further attempts (HTTP 429 until the window has room again), and
// crossing a limit raises one of Pro's login alarms (pro-admin-api.md §8.3): 3 over 30 consecutive
// failures, 4 many within one minute, 5 many within one hour. State is kept in memory: a restart
// forgets it, which only ever errs on the side of letting a user in.

export const LOGIN_LIMITS = {
  /** Failures within 60 s that throttle the key for the rest of that minute (alarm 4). */
  perMinute: 6,
  /** Failures within an hour that throttle the key until the oldest is an hour old (alarm 5). */
  perHour: 20,
  /** Consecutive failures (no success between) beyond which alarm 3 is raised, and every such run after. */
  consecutive: 30,
};
export type LoginLimits = typeof LOGIN_LIMITS;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const MAX_KEYS = 10_000;

interface Track {
  /** Failure times (ms), oldest first, none older than an hour. */
  failures: number[];
  consecutive: number;
}

export interface Block {
  key: string;
  /** When the key may try again (ms since the epoch). */
  until: number;
}

export interface FailureReport {
  /** Alarm types newly reached by this failure (each at most once). */
  alarms: number[];
  /** Failures in the last minute / hour and the consecutive run, for the worst key. */
  lastMinute: number;
  lastHour: number;
  consecutive: number;
}

export class LoginGuard {
  private readonly tracks = new Map<string, Track>();

  constructor(
    private readonly clock: () => Date,
    private readonly limits: LoginLimits = LOGIN_LIMITS,
  ) {}

  private track(key: string, now: number, create: boolean): Track | undefined {
    let t = this.tracks.get(key);
    if (t) {
      while (t.failures.length && t.failures[0]! <= now - HOUR) t.failures.shift();
    } else if (create) {
      if (this.tracks.size >= MAX_KEYS) {
        const oldest = this.tracks.keys().next().value;
        if (oldest !== undefined) this.tracks.delete(oldest);
      }
      t = { failures: [], consecutive: 0 };
    }
    if (t) {
      // Keep the map in least-recently-used order: the first key is the one to evict.
      this.tracks.delete(key);
      this.tracks.set(key, t);
    }
    return t;
  }

  /** The latest moment one of these keys is throttled until, or undefined when none is. */
  blocked(keys: readonly string[]): Block | undefined {
    const now = this.clock().getTime();
    let worst: Block | undefined;
    for (const key of keys) {
      const t = this.track(key, now, false);
      if (!t) continue;
      const hour = t.failures;
      const minute = hour.filter((ts) => ts > now - MINUTE);
      let until = 0;
      if (minute.length >= this.limits.perMinute)
        until = Math.max(until, minute[minute.length - this.limits.perMinute]! + MINUTE);
      if (hour.length >= this.limits.perHour)
        until = Math.max(until, hour[hour.length - this.limits.perHour]! + HOUR);
      if (until > now && (!worst || until > worst.until)) worst = { key, until };
    }
    return worst;
  }

  /** Counts a failed login against every key; reports the alarms it raises. */
  fail(keys: readonly string[]): FailureReport {
    const now = this.clock().getTime();
    const alarms = new Set<number>();
    const report: FailureReport = { alarms: [], lastMinute: 0, lastHour: 0, consecutive: 0 };
    for (const key of keys) {
      const t = this.track(key, now, true)!;
      t.failures.push(now);
      t.consecutive++;
      const lastMinute = t.failures.filter((ts) => ts > now - MINUTE).length;
      const lastHour = t.failures.length;
      if (lastMinute === this.limits.perMinute) alarms.add(LoginAlarm.perMinute);
      if (lastHour === this.limits.perHour) alarms.add(LoginAlarm.perHour);
      const c = this.limits.consecutive;
      if (t.consecutive > c && (t.consecutive - 1) % c === 0) alarms.add(LoginAlarm.consecutive);
      report.lastMinute = Math.max(report.lastMinute, lastMinute);
      report.lastHour = Math.max(report.lastHour, lastHour);
      report.consecutive = Math.max(report.consecutive, t.consecutive);
    }
    report.alarms = [...alarms].sort((a, b) => a - b);
    return report;
  }

  /** A successful login ends the consecutive run of its keys. */
  succeed(keys: readonly string[]): void {
    const now = this.clock().getTime();
    for (const key of keys) {
      const t = this.track(key, now, false);
      if (t) t.consecutive = 0;
    }
  }
}
