import { type RawBuilder, sql } from 'kysely';

// The access-rule edge set (access_rules: source → target) read from the source side: "the targets
// a rule from this user, or from this user's group, reaches". One SQL text for every query that
// needs it, in the two forms the store uses: a Kysely fragment and fixed SQL with `?` parameters.

/** Who asks: the user and the user's group. */
export interface RuleSource {
  userGuid: string;
  groupGuid: string;
}

/** The kind of target: 0 user groups, 1 device groups (access_rules.dst_type). */
const TARGET = {
  userGroups: { type: 0, column: 'dst_user_group' },
  deviceGroups: { type: 1, column: 'dst_device_group' },
} as const;
export type RuleTarget = keyof typeof TARGET;

/** The text around each parameter, and the parameters (group, then user). */
function parts(target: RuleTarget): string[] {
  const t = TARGET[target];
  return [
    `SELECT ar.${t.column} FROM access_rules ar WHERE ar.dst_type = ${t.type}
      AND ((ar.src_type = 0 AND ar.src_user_group = `,
    `) OR (ar.src_type = 2 AND ar.src_user = `,
    '))',
  ];
}

/** `SELECT <target guid> …` as a Kysely fragment (for `… IN (${ruleTargets(…)})`). */
export function ruleTargets(target: RuleTarget, who: RuleSource): RawBuilder<unknown> {
  // sql.raw() only for this module's constant text; the GUIDs are bound parameters.
  const [a, b, c] = parts(target) as [string, string, string];
  return sql`${sql.raw(a)}${who.groupGuid}${sql.raw(b)}${who.userGuid}${sql.raw(c)}`;
}

/** The same subquery as fixed SQL: its text with `?` and its parameters, in order. */
export function ruleTargetsFixed(target: RuleTarget, who: RuleSource): { text: string; params: string[] } {
  return { text: parts(target).join('?'), params: [who.groupGuid, who.userGuid] };
}
