// Tolerant timestamp handling for what servers send (D-9): ISO 8601 with or without fractional
// seconds and zone, or a space instead of `T`. A value without a zone is taken as UTC.

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Milliseconds since the epoch, or undefined when the text is not a timestamp. */
export function parseTimestamp(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = m;
  const ms = Number(`0.${frac || '0'}`) * 1000;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.floor(ms));
  if (
    Number(mo) < 1 ||
    Number(mo) > 12 ||
    Number(d) < 1 ||
    Number(d) > 31 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 60
  ) {
    return undefined;
  }
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
    t -= sign * offset * 60_000;
  }
  return Number.isFinite(t) ? t : undefined;
}

export type OfflineAge = { days: number } | { unreadable: string };

/**
 * Whole days a device has been offline: 0 while it is online or for a time in the future; a
 * device never seen online counts from its creation (or as offline forever without one).
 */
export function offlineDays(
  row: { is_online?: boolean | null; last_online?: string | null; created_at?: string | null },
  now: number,
): OfflineAge {
  if (row.is_online) return { days: 0 };
  const raw = row.last_online ?? null;
  const since =
    raw === null || raw === ''
      ? row.created_at
        ? parseTimestamp(row.created_at)
        : Number.NEGATIVE_INFINITY
      : parseTimestamp(raw);
  if (since === undefined) return { unreadable: String(raw ?? row.created_at) };
  if (since === Number.NEGATIVE_INFINITY) return { days: Number.POSITIVE_INFINITY };
  return { days: Math.max(0, Math.floor((now - since) / 86_400_000)) };
}
