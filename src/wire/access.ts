// Access rules between groups (server-model.md §1.2): entries `{type, name}` with Pro's type
// numbers. Kept free of zod: the CLI validates `--accessed-from` / `--access-to` with it before
// loading anything, and the server uses the same tables for its messages.

/** The user group that always exists: new users land here, and it can be neither deleted nor renamed. */
export const DEFAULT_USER_GROUP = 'Default';

export const RuleType = { userGroup: 0, deviceGroup: 1, user: 2 } as const;
export type RuleTypeNumber = (typeof RuleType)[keyof typeof RuleType];

export interface RuleEntry {
  type: number;
  name: string;
}

export const RULE_TYPE_LABEL: Record<number, string> = {
  0: 'user group',
  1: 'device group',
  2: 'user',
};

/** The short spelling of each type in the friendlier form `user-group:Admins,user:john`. */
export const RULE_KIND: Record<number, string> = { 0: 'user-group', 1: 'device-group', 2: 'user' };

const KIND_ALIASES: Record<string, number> = {
  'user-group': 0,
  user_group: 0,
  usergroup: 0,
  ug: 0,
  '0': 0,
  'device-group': 1,
  device_group: 1,
  devicegroup: 1,
  dg: 1,
  '1': 1,
  user: 2,
  u: 2,
  '2': 2,
};

/**
 * Which entry types each list accepts. "Accessed from" names who may connect (user groups, users);
 * "access to" names what a user group may reach (user groups, device groups).
 */
export const INCOMING_TYPES: readonly number[] = [RuleType.userGroup, RuleType.user];
export const OUTGOING_TYPES: readonly number[] = [RuleType.userGroup, RuleType.deviceGroup];

export function describeTypes(types: readonly number[]): string {
  return types.map((t) => `${t} (${RULE_TYPE_LABEL[t]})`).join(' or ');
}

export function formatRule(r: RuleEntry): string {
  return `${RULE_KIND[r.type] ?? r.type}:${r.name}`;
}

export function formatRules(rules: readonly RuleEntry[] | null | undefined): string {
  return (rules ?? []).map(formatRule).join(', ');
}

export const GROUP_NAME_MAX = 100;

/** Why a group name cannot be used, or undefined. Commas are refused: lists of names are comma-separated. */
export function groupNameProblem(name: string): string | undefined {
  const n = name.trim();
  if (!n) return 'must not be empty';
  if (n.length > GROUP_NAME_MAX) return `must be at most ${GROUP_NAME_MAX} characters`;
  if (/[\u0000-\u001f\u007f]/.test(n)) return 'must not contain control characters';
  if (n.includes(',')) return 'must not contain a comma (comma lists of names could not address it)';
  return undefined;
}

/**
 * Parses a rule list given on the command line, either as the scripts' JSON
 * (`[{"type":0,"name":"Admins"}]`) or as `user-group:Admins,user:john`. `[]` is an empty list
 * (it clears the rules on update). Throws an Error naming the flag and the bad entry.
 */
export function parseRuleList(text: string, flag: string, allowed: readonly number[]): RuleEntry[] {
  const t = text.trim();
  const expect = `expected a JSON array like '[{"type":${allowed[0]},"name":"…"}]' or ${allowed
    .map((a) => `${RULE_KIND[a]}:NAME`)
    .join(',')}`;
  if (!t) throw new Error(`${flag} is empty: ${expect}; pass '[]' to clear the list`);
  let entries: RuleEntry[];
  const json = t.startsWith('[') || t.startsWith('{');
  if (json) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (err) {
      throw new Error(`${flag} is not valid JSON (${(err as Error).message}): ${expect}`);
    }
    if (!Array.isArray(v)) throw new Error(`${flag} must be a JSON array: ${expect}`);
    entries = v.map((e, i) => {
      const where = `${flag} entry ${i + 1} (${JSON.stringify(e)})`;
      if (e === null || typeof e !== 'object' || Array.isArray(e))
        throw new Error(`${where} is not an object {"type", "name"}`);
      const o = e as Record<string, unknown>;
      const extra = Object.keys(o).filter((k) => k !== 'type' && k !== 'name');
      if (extra.length) throw new Error(`${where} has unknown field(s) ${extra.join(', ')}`);
      if (typeof o['type'] !== 'number' || !Number.isInteger(o['type']))
        throw new Error(`${where}: "type" must be ${describeTypes(allowed)}`);
      if (typeof o['name'] !== 'string' || !o['name'].trim())
        throw new Error(`${where}: "name" must be a non-empty string`);
      return { type: o['type'], name: o['name'].trim() };
    });
  } else {
    entries = t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((item) => {
        const colon = item.indexOf(':');
        const kind = colon < 0 ? '' : item.slice(0, colon).trim().toLowerCase();
        const name = colon < 0 ? '' : item.slice(colon + 1).trim();
        const type = KIND_ALIASES[kind];
        if (colon < 0 || type === undefined || !name)
          throw new Error(`${flag} entry '${item}' is not KIND:NAME: ${expect}`);
        return { type, name };
      });
  }
  entries.forEach((e, i) => {
    if (!allowed.includes(e.type)) {
      const shown = json ? JSON.stringify({ type: e.type, name: e.name }) : formatRule(e);
      throw new Error(
        `${flag} entry ${i + 1} (${shown}): type ${e.type}${
          RULE_TYPE_LABEL[e.type] ? ` (${RULE_TYPE_LABEL[e.type]})` : ''
        } is not allowed here; ${flag} takes ${describeTypes(allowed)}`,
      );
    }
  });
  const seen = new Set<string>();
  return entries.filter((e) => {
    const key = `${e.type}:${e.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
