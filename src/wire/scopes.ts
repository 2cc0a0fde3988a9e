// API-token permissions: one level per area, as in Pro's Settings → Tokens dialog.

export const AREAS = [
  'device',
  'user',
  'device_group',
  'user_group',
  'address_book',
  'audit_log',
  'strategy',
] as const;
export type Area = (typeof AREAS)[number];

export const LEVELS = ['none', 'r', 'rw'] as const;
export type Level = (typeof LEVELS)[number];
export type Permissions = Record<Area, Level>;

const RANK: Record<Level, number> = { none: 0, r: 1, rw: 2 };

export function allows(granted: Level, needed: Exclude<Level, 'none'>): boolean {
  return RANK[granted] >= RANK[needed];
}

export function noPermissions(): Permissions {
  return Object.fromEntries(AREAS.map((a) => [a, 'none'])) as Permissions;
}

export function isArea(v: string): v is Area {
  return (AREAS as readonly string[]).includes(v);
}

export function isLevel(v: string): v is Level {
  return (LEVELS as readonly string[]).includes(v);
}

/**
 * Parses `user:rw,device:r` (or `all:r`, `all:rw`, later entries win) into a full permission map.
 * Throws an Error whose message names the bad entry.
 */
export function parsePermissions(text: string): Permissions {
  const out = noPermissions();
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('no permissions given (example: user:rw,device:r or all:r)');
  for (const entry of entries) {
    const [area, level, extra] = entry.split(':').map((s) => s.trim());
    if (!area || !level || extra !== undefined || !isLevel(level)) {
      throw new Error(`invalid permission '${entry}': expected AREA:LEVEL with LEVEL one of none, r, rw`);
    }
    if (area === 'all') {
      for (const a of AREAS) out[a] = level;
    } else if (isArea(area)) {
      out[area] = level;
    } else {
      throw new Error(
        `invalid permission '${entry}': unknown area '${area}' (areas: all, ${AREAS.join(', ')})`,
      );
    }
  }
  return out;
}

export function formatPermissions(p: Partial<Permissions>): string {
  const parts = AREAS.filter((a) => p[a] && p[a] !== 'none').map((a) => `${a}:${p[a]}`);
  return parts.length ? parts.join(',') : 'none';
}
