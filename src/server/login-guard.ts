import { LoginAlarm } from '../wire/audit-labels';
import type { LoginTrack } from './store/login-throttle';

// Login protection: failed logins are counted per account and per client IP. Too many within a
// minute or an hour throttles further attempts (HTTP 429 until the window has room again), and
// crossing a limit raises one of Pro's login alarms (pro-admin-api.md §8.3): 3 over 30 consecutive
// failures, 4 many within one minute, 5 many within one hour. The counters live in memory and are
// written through to the database (`login_throttle`) as they change, so a restart does not give
// an attacker a fresh budget: the first login after start reads back the keys changed in the last
// KEEP_MS (at most MAX_KEYS of them, the most recent).

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
/** A step back of the clock larger than this settles every key at once (LoginGuard.now()). */
const STEP_MS = 1_000;
/** Keys unchanged for this long are not read back at start-up (and are deleted then). */
const KEEP_MS = 7 * 24 * HOUR;

/** Where the counters are kept across restarts (LoginThrottleRepo). */
export interface LoginTrackStore {
  load(before: number, limit: number): Promise<LoginTrack[]>;
  save(tracks: readonly LoginTrack[], dropped: readonly string[]): Promise<void>;
}

interface Track {
  /** Failure times (ms), oldest first, none older than an hour. */
  failures: number[];
  consecutive: number;
  /** When this key last changed (ms). */
  updatedAt: number;
  /**
   * Start times (ms) of the attempts on this key whose password is being checked (reserve()):
   * they count against the limits as failures would, so that parallel attempts cannot all be let
   * through before the first of them is counted. In memory only.
   */
  pending: number[];
}

/** An attempt let through by reserve(): settled by fail(), succeed() or release(), once. */
export interface Reservation {
  keys: readonly string[];
  /** When it was reserved (ms): its place in each key's pending list. */
  at: number;
  done: boolean;
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

/**
 * Brings a key's times back to `now` where they are later: the server's clock stepped back since
 * they were stamped (NTP correcting a clock that ran ahead). Such a failure was never aged out (only
 * those an hour before now are) and blocked until its own time plus the window: a step back of a
 * day turned the minute's throttle into a day's, for everyone behind that address, administrators
 * too, and the table kept it across a restart. Counted as failing now, it throttles for its window
 * at most. The times stay in order (a clamped time is the latest).
 */
function settle(t: Track, now: number): void {
  for (let i = t.failures.length - 1; i >= 0 && t.failures[i]! > now; i--) t.failures[i] = now;
  for (let i = 0; i < t.pending.length; i++) if (t.pending[i]! > now) t.pending[i] = now;
  if (t.updatedAt > now) t.updatedAt = now;
}

/** The longest an attempt waits for attempts in flight before it looks again. */
const SETTLE_WAIT_MS = 2_000;

export class LoginGuard {
  private readonly tracks = new Map<string, Track>();
  /** Attempts waiting for one in flight to be settled (reserve()). */
  private readonly waiting: (() => void)[] = [];
  /** Keys evicted from memory and not yet deleted from the store. */
  private dropped: string[] = [];
  private loaded: Promise<void> | undefined;
  /** The latest time the guard has read from its clock (see now()). */
  private latest = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: () => Date,
    private readonly limits: LoginLimits = LOGIN_LIMITS,
    private readonly store?: LoginTrackStore,
    /** Most keys kept in memory (and in the store); the least recently used goes first. */
    private readonly maxKeys = MAX_KEYS,
  ) {}

  /** Reads the stored counters back, once (a failed read is tried again on the next call). */
  private ready(): Promise<void> {
    if (!this.store) return Promise.resolve();
    this.loaded ??= this.store.load(this.now() - KEEP_MS, this.maxKeys).then(
      (rows) => {
        // Least recently changed first: the map's first key is the one to evict.
        for (const r of rows) {
          if (this.tracks.has(r.key)) continue; // changed here meanwhile: memory is newer
          const t = { failures: r.failures, consecutive: r.consecutive, updatedAt: r.updatedAt, pending: [] };
          settle(t, this.now());
          this.tracks.set(r.key, t);
        }
      },
      (err: unknown) => {
        this.loaded = undefined;
        throw err;
      },
    );
    return this.loaded;
  }

  /**
   * The clock's time. When it is well behind a time read before, the clock stepped back: every
   * key's times are brought back to it at once (settle()), so each key's throttle ends within its
   * window of the step, not of whenever that key is next tried (track() settles the smaller steps).
   */
  private now(): number {
    const now = this.clock().getTime();
    if (now < this.latest - STEP_MS) for (const t of this.tracks.values()) settle(t, now);
    this.latest = now;
    return now;
  }

  /** Writes the current counters of these keys (and forgets evicted ones) in the store. */
  private async persist(keys: readonly string[]): Promise<void> {
    if (!this.store) return;
    const tracks: LoginTrack[] = [];
    for (const key of new Set(keys)) {
      const t = this.tracks.get(key);
      if (t)
        tracks.push({ key, failures: [...t.failures], consecutive: t.consecutive, updatedAt: t.updatedAt });
    }
    const dropped = this.dropped.filter((k) => !this.tracks.has(k));
    this.dropped = [];
    await this.store.save(tracks, dropped);
  }

  private track(key: string, now: number, create: boolean): Track | undefined {
    let t = this.tracks.get(key);
    if (t) {
      settle(t, now);
      while (t.failures.length && t.failures[0]! <= now - HOUR) t.failures.shift();
    } else if (create) {
      if (this.tracks.size >= this.maxKeys) {
        // The least recently used key without attempts in flight (their reservations must stay
        // counted); there are at most as many of those as requests being answered.
        for (const [k, old] of this.tracks) {
          if (old.pending.length) continue;
          this.tracks.delete(k);
          this.dropped.push(k);
          break;
        }
      }
      t = { failures: [], consecutive: 0, updatedAt: now, pending: [] };
    }
    if (t) {
      // Keep the map in least-recently-used order: the first key is the one to evict.
      this.tracks.delete(key);
      this.tracks.set(key, t);
    }
    return t;
  }

  /** The latest moment one of these keys is throttled until, or undefined when none is. */
  async blocked(keys: readonly string[]): Promise<Block | undefined> {
    await this.ready();
    return this.blockOf(keys, this.now(), false);
  }

  /**
   * Lets an attempt through unless one of its keys is throttled: the attempt is counted at once
   * (pending) against every key, so that attempts checked in parallel count against the limits
   * before their passwords are checked (the check takes a hash, and the event loop answers other
   * attempts meanwhile). Settle it with fail(), succeed() or release(), once.
   */
  async reserve(keys: readonly string[]): Promise<{ block: Block } | { reservation: Reservation }> {
    await this.ready();
    for (;;) {
      // From the test to the count, synchronous: no other attempt is checked in between.
      const now = this.now();
      // Throttled by failures: refused.
      const block = this.blockOf(keys, now, false);
      if (block) return { block };
      if (!this.blockOf(keys, now, true)) {
        for (const key of keys) this.track(key, now, true)!.pending.push(now);
        return { reservation: { keys: [...keys], at: now, done: false } };
      }
      // Only attempts still being checked stand in the way (ten correct logins at once from one
      // office): wait until one of them is settled, then look again. They settle within a hash;
      // the wait is bounded all the same.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, SETTLE_WAIT_MS);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Ends a reservation without counting anything (the attempt neither failed nor succeeded). */
  release(r: Reservation): void {
    if (r.done) return;
    r.done = true;
    // Attempts that waited for this one look again (reserve()), after this release.
    const woken = this.waiting.splice(0);
    queueMicrotask(() => {
      for (const wake of woken) wake();
    });
    for (const key of r.keys) {
      const t = this.tracks.get(key);
      if (!t) continue;
      // Its time may have been settled (clock stepped back): then it is one of the latest.
      let i = t.pending.indexOf(r.at);
      if (i === -1) i = t.pending.length - 1;
      if (i >= 0) t.pending.splice(i, 1);
      // A key that holds nothing else was made for the reservation: successful logins of many
      // users must not push the keys with failures out of memory.
      if (!t.pending.length && !t.failures.length && t.consecutive === 0) this.tracks.delete(key);
    }
  }

  /** With `pending`, attempts in flight count as failures at the time they started. */
  private blockOf(keys: readonly string[], now: number, pending = true): Block | undefined {
    let worst: Block | undefined;
    for (const key of keys) {
      const t = this.track(key, now, false);
      if (!t) continue;
      const hour =
        pending && t.pending.length ? [...t.failures, ...t.pending].sort((a, b) => a - b) : t.failures;
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

  /**
   * Counts a failed login against every key (stored before it answers); reports the alarms it
   * raises. Given a reservation, it ends it (its pending count becomes this failure).
   */
  async fail(attempt: readonly string[] | Reservation): Promise<FailureReport> {
    const keys = Array.isArray(attempt) ? (attempt as readonly string[]) : (attempt as Reservation).keys;
    await this.ready();
    // Released and counted in one synchronous step: no other attempt is let through in between.
    if (!Array.isArray(attempt)) this.release(attempt as Reservation);
    const now = this.now();
    const alarms = new Set<number>();
    const report: FailureReport = { alarms: [], lastMinute: 0, lastHour: 0, consecutive: 0 };
    for (const key of keys) {
      const t = this.track(key, now, true)!;
      t.failures.push(now);
      t.consecutive++;
      t.updatedAt = now;
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
    await this.persist(keys);
    return report;
  }

  /** A successful login ends the consecutive run of its keys (and its reservation, if given). */
  async succeed(attempt: readonly string[] | Reservation): Promise<void> {
    const keys = Array.isArray(attempt) ? (attempt as readonly string[]) : (attempt as Reservation).keys;
    await this.ready();
    // Released and counted in one synchronous step: no other attempt is let through in between.
    if (!Array.isArray(attempt)) this.release(attempt as Reservation);
    const now = this.now();
    const changed: string[] = [];
    for (const key of keys) {
      const t = this.track(key, now, false);
      if (t && t.consecutive !== 0) {
        t.consecutive = 0;
        t.updatedAt = now;
        changed.push(key);
      }
    }
    if (changed.length) await this.persist(changed);
  }
}
