// Address-book rules shared by the CLI (early validation, views) and the server (kept free of zod
// so command modules can import them without loading it).

/** Sharing-rule permissions on the wire: 1 read, 2 read/write, 3 full control. */
export const RULE = { read: 1, readWrite: 2, full: 3 } as const;
export type RuleValue = 1 | 2 | 3;

/** The scripts' short labels (ab.py `--rule-permission`). */
export const RULE_LABEL: Record<number, string> = { 1: 'ro', 2: 'rw', 3: 'full' };
/** Long labels for messages. */
export const RULE_WORDS: Record<number, string> = {
  0: 'no',
  1: 'read-only',
  2: 'read/write',
  3: 'full control',
};

/** `ro`/`rw`/`full` (any case) or `1`/`2`/`3`; undefined for anything else. */
export function parsePermission(text: string): RuleValue | undefined {
  const t = text.trim().toLowerCase();
  const byLabel: Record<string, RuleValue> = { ro: 1, rw: 2, full: 3, '1': 1, '2': 2, '3': 3 };
  return byLabel[t];
}

/** Shows a permission the way ab.py does: ro/rw/full, anything else as its decimal string. */
export function permissionLabel(rule: number): string {
  return RULE_LABEL[rule] ?? String(rule);
}

/** Pro's tag palette, in order (ARGB, alpha FF); the auto colour picks from it. */
export const PALETTE: readonly (readonly [string, number])[] = [
  ['red', 0xffff0000],
  ['green', 0xff008000],
  ['blue', 0xff0000ff],
  ['orange', 0xffff9800],
  ['purple', 0xff9c27b0],
  ['grey', 0xff9e9e9e],
  ['cyan', 0xff00bcd4],
  ['lime', 0xffcddc39],
  ['teal', 0xff009688],
  ['pink', 0xfff48fb1],
  ['indigo', 0xff3f51b5],
  ['brown', 0xff795548],
];

/** Colour names understood by `--tag-color` and by the auto colour (yellow is named, not in the palette). */
export const NAMED_COLORS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(PALETTE),
  yellow: 0xffffff00,
};

export const COLOR_MAX = 0xffffffff;

/** `0xAARRGGBB`, eight upper-case hex digits (how ab.py shows a tag colour). */
export function formatColor(color: number): string {
  return `0x${(color >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/**
 * Parses a tag colour: `0xAARRGGBB` (hex, `0x`/`0X`), a decimal ARGB integer, `#RRGGBB` /
 * `#AARRGGBB`, or a colour name (red, green, …, yellow). Throws an Error naming the problem.
 */
export function parseColor(text: string): number {
  const t = text.trim();
  let n: number;
  if (/^0x[0-9a-f]{1,8}$/i.test(t)) n = Number.parseInt(t.slice(2), 16);
  else if (/^#[0-9a-f]{6}$/i.test(t)) n = 0xff000000 + Number.parseInt(t.slice(1), 16);
  else if (/^#[0-9a-f]{8}$/i.test(t)) n = Number.parseInt(t.slice(1), 16);
  else if (/^\d{1,10}$/.test(t)) n = Number(t);
  else if (NAMED_COLORS[t.toLowerCase()] !== undefined) n = NAMED_COLORS[t.toLowerCase()]!;
  else {
    throw new Error(
      `invalid colour '${text}': use 0xAARRGGBB (e.g. 0xFF00FF00), a decimal ARGB number, #RRGGBB, or a name (${Object.keys(NAMED_COLORS).join(', ')})`,
    );
  }
  if (n > COLOR_MAX) throw new Error(`invalid colour '${text}': larger than 0xFFFFFFFF`);
  return n;
}

function hslToArgb(h: number, s: number, l: number): number {
  const a = s * Math.min(l, 1 - l);
  const f = (k: number) => {
    const x = (k + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(x - 3, 9 - x, 1))));
  };
  return (0xff000000 + (f(0) << 16) + (f(8) << 8) + f(4)) >>> 0;
}

/**
 * The automatic colour of a new tag (D-17 fixed): the colour the name stands for (`red`, …) or
 * else the palette entry of (sum of code points mod 12), as ab.py and the client pick it; but when
 * that colour is already used in the book, the first unused palette colour, and once all twelve
 * are used, the colour farthest from every one the book uses (see farthestColor).
 */
export function autoTagColor(name: string, used: Iterable<number>): number {
  const taken = new Set<number>();
  for (const c of used) taken.add(c >>> 0);
  let sum = 0;
  for (const ch of name) sum += ch.codePointAt(0)!;
  const preferred = NAMED_COLORS[name.toLowerCase()] ?? PALETTE[sum % PALETTE.length]![1];
  if (!taken.has(preferred)) return preferred;
  for (const [, c] of PALETTE) if (!taken.has(c)) return c;
  return farthestColor(taken) ?? preferred;
}

/** The RGB channels of an ARGB colour. */
const rgb = (c: number): [number, number, number] => [(c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff];

/**
 * Of 360 candidate colours (hues a golden angle apart, three lightnesses), the first one farthest
 * (in RGB) from its nearest colour in `taken`: a tag made after the palette is used up looks unlike
 * every other tag of the book, whatever its name (names alike, such as auto1 and auto2, would
 * otherwise land on hues alike).
 */
function farthestColor(taken: ReadonlySet<number>): number | undefined {
  const used = [...taken].map(rgb);
  let best: number | undefined;
  let bestGap = -1;
  for (let i = 0; i < 360; i++) {
    const c = hslToArgb((i * 137.508) % 360, 0.65, [0.45, 0.6, 0.35][i % 3]!);
    if (taken.has(c)) continue;
    const [r, g, b] = rgb(c);
    let gap = Number.POSITIVE_INFINITY;
    for (const [ur, ug, ub] of used) gap = Math.min(gap, (r - ur) ** 2 + (g - ug) ** 2 + (b - ub) ** 2);
    if (gap > bestGap) {
      bestGap = gap;
      best = c;
    }
  }
  return best;
}

export const AB_NAME_MAX = 100;
export const AB_NOTE_MAX = 2000;
export const PEER_ID_MAX = 100;
export const TAG_NAME_MAX = 100;
export const ALIAS_MAX = 200;
export const PEER_PASSWORD_MAX = 256;

/** The personal book's name in messages (the client calls it "My address book"). */
export const PERSONAL_BOOK_NAME = 'My address book';
