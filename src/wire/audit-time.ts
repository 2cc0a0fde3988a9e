// Times of the audit filters and listings, as pure functions of an explicit time zone (the CLI
// passes the viewer's zone, the server UTC), so they can be tested for any zone without touching
// process.env.TZ. Zod-free: the CLI parses flags with it before loading anything else.

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** A parsed time text: an exact instant (it named its offset) or a wall-clock time in some zone. */
export type ParsedTime = { kind: 'instant'; ms: number } | { kind: 'wall'; wall: WallClock };

export const TIME_FORMATS =
  "'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.fff]]', or ISO 8601 with T and an offset ('2025-07-01T12:00:00+02:00', '…Z')";

const TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

function utcMs(w: WallClock): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms);
}

/**
 * Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]][Z|±HH[:MM]]`. Fractions are kept to the
 * millisecond (further digits are cut). Returns undefined for anything else, including dates that
 * do not exist (2025-02-30, 25:00).
 */
export function parseTimeText(text: string): ParsedTime | undefined {
  const m = TIME_RE.exec(text.trim());
  if (!m) return undefined;
  const wall: WallClock = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    ms: m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0,
  };
  if (wall.year < 1970 || wall.hour > 23 || wall.minute > 59 || wall.second > 59) return undefined;
  const check = new Date(utcMs(wall));
  if (check.getUTCMonth() !== wall.month - 1 || check.getUTCDate() !== wall.day) return undefined;
  const zone = m[8];
  if (zone === undefined) return { kind: 'wall', wall };
  if (zone === 'Z' || zone === 'z') return { kind: 'instant', ms: utcMs(wall) };
  const digits = zone.slice(1).replace(':', '');
  const oh = Number(digits.slice(0, 2));
  const om = Number(digits.slice(2) || '0');
  if (oh > 23 || om > 59) return undefined;
  const offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  return { kind: 'instant', ms: utcMs(wall) - offset * 60_000 };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when the runtime knows this IANA zone name (`Europe/Berlin`, `UTC`). */
export function isValidZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock shown in `zone` at instant `ms` (milliseconds kept from `ms`). */
export function wallClockAt(ms: number, zone: string): WallClock {
  const offset = hourOffset(ms, zone);
  if (offset === null) return zoneWallClock(ms, zone);
  const d = new Date(ms + offset);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
  };
}

const HOUR_MS = 3_600_000;
/** `zone|UTC hour` → the zone's offset (ms) throughout that hour, or null when it changes in it. */
const hourOffsets = new Map<string, number | null>();

/**
 * The offset of `zone` during the UTC hour holding `ms`, when it is the same at the hour's first
 * and last millisecond (no zone changes its offset twice within an hour); null otherwise. Asking
 * Intl for every record of a listing cost about 6 µs each (a third of the CLI's time writing a
 * 300,000-record log as CSV); listings are in time order, so a few hours cover many records.
 */
function hourOffset(ms: number, zone: string): number | null {
  const hour = Math.floor(ms / HOUR_MS);
  const key = `${zone}|${hour}`;
  let offset = hourOffsets.get(key);
  if (offset === undefined) {
    const start = hour * HOUR_MS;
    const first = utcMs(zoneWallClock(start, zone)) - start;
    const last = utcMs(zoneWallClock(start + HOUR_MS - 1, zone)) - (start + HOUR_MS - 1);
    offset = first === last ? first : null;
    if (hourOffsets.size >= 4096) hourOffsets.clear();
    hourOffsets.set(key, offset);
  }
  return offset;
}

/** wallClockAt() asking Intl directly, for every instant (tests hold the reused offsets to it). */
export function zoneWallClock(ms: number, zone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts['year']!,
    month: parts['month']!,
    day: parts['day']!,
    hour: parts['hour']! % 24,
    minute: parts['minute']!,
    second: parts['second']!,
    ms: ((ms % 1000) + 1000) % 1000,
  };
}

/** The UTC offset in force in `zone` at instant `ms`, in minutes (Berlin in July: 120). */
export function offsetMinutesAt(ms: number, zone: string): number {
  return Math.round((utcMs(wallClockAt(ms, zone)) - ms) / 60_000);
}

/**
 * The instant at which `zone`'s clocks show `wall`, with the offset in force on that date (D-24).
 * A time skipped by a spring-forward change is moved forward by the gap (02:30 → 03:30); a time
 * that happens twice on a fall-back night is taken the first time (as Python and Temporal do).
 */
export function wallClockToUtc(wall: WallClock, zone: string): number {
  const local = utcMs(wall);
  const before = offsetMinutesAt(local - 86_400_000, zone);
  const after = offsetMinutesAt(local + 86_400_000, zone);
  const valid = [...new Set([before, after])]
    .map((o) => local - o * 60_000)
    .filter((t) => offsetMinutesAt(t, zone) * 60_000 === local - t);
  if (valid.length) return Math.min(...valid);
  return local - before * 60_000;
}

/** Resolves a parsed time: an instant stays as it is, a wall-clock time is read in `zone`. */
export function resolveTime(t: ParsedTime, zone: string): number {
  return t.kind === 'instant' ? t.ms : wallClockToUtc(t.wall, zone);
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SS` as shown in `zone`. */
export function formatWallClock(ms: number, zone: string): string {
  const w = wallClockAt(ms, zone);
  return `${w.year}-${p2(w.month)}-${p2(w.day)} ${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)}`;
}

/** `+02:00`, `-05:30`, `+00:00`. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${p2(Math.floor(a / 60))}:${p2(a % 60)}`;
}

/** The `created_at` filter value the scripts send: UTC `YYYY-MM-DD HH:MM:SS.mmm` (ms kept). */
export function toFilterTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
