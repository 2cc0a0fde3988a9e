import type { Ctx } from '../src/cli/context';
import {
  type Difference,
  firstOf,
  type IfNotExists,
  ifNotExists,
  shellWord,
  shown,
} from '../src/cli/if-not-exists';
import type { PeerFields } from '../src/client/ab';
import { exactRows } from '../src/client/resolve';
import type { AbPeerRow, AbProfileRow } from '../src/wire/ab';
import { formatColor, permissionLabel } from '../src/wire/ab-rules';

// --if-not-exists of the address-book creates (add-ab, add-peer, add-tag, add-rule): how each
// finds the record it would create, what its --json prints for one that exists, and which values
// given differ from it (see src/cli/if-not-exists.ts).

type Opts = Record<string, unknown>;

/** A book as ab.ts selected it. */
interface BookRef {
  guid: string;
  label: string;
}

/** How the book was named on the command line (ab.ts bookChoice). */
interface Choice {
  name?: string;
  guid?: string;
  personal: boolean;
}

/** The flag that names the book as it was chosen, for a command line to copy. */
function bookFlag(choice: Choice, book: BookRef): string {
  if (choice.personal) return '--personal';
  if (choice.name !== undefined) return `--ab-name ${shellWord(choice.name)}`;
  return `--ab-guid ${shellWord(book.guid)}`;
}

export function addAbOnce(
  ctx: Ctx,
  o: Opts,
  body: { name: string; note?: string; info?: { password: string } },
): IfNotExists {
  return ifNotExists(ctx, o, {
    what: `Shared address book '${body.name}'`,
    find: () =>
      firstOf(
        exactRows(
          body.name,
          (p) => ctx.api.ab.listShared(p),
          (b) => b.name,
        ),
      ),
    json: (b) => ({ ok: true, guid: b.guid, name: b.name }),
    differs: (b: AbProfileRow) => {
      const out: Difference[] = [];
      const update = `rdadmin ab update-ab --ab-guid ${b.guid}`;
      if (body.note !== undefined && (b.note ?? '') !== body.note)
        out.push({ field: 'note', have: shown(b.note), given: shown(body.note), how: `${update} --note …` });
      const password = body.info?.password;
      if (password && (b.info?.password ?? '') !== password)
        out.push({ field: 'another shared password than given', how: `${update} --password-stdin` });
      return out;
    },
  });
}

export function addPeerOnce(
  ctx: Ctx,
  o: Opts,
  s: { choice: Choice; book: BookRef; id: string; fields: PeerFields },
): IfNotExists {
  const { book, id, fields } = s;
  const update = `rdadmin ab update-peer ${bookFlag(s.choice, book)} --peer-id ${shellWord(id)}`;
  return ifNotExists(ctx, o, {
    what: `Peer '${id}' in ${book.label}`,
    find: () =>
      firstOf(
        exactRows(
          id,
          (p) => ctx.api.ab.listPeers(book.guid, { id: p }),
          (p) => p.id,
        ),
      ),
    json: () => ({ ok: true, ab: book.guid, id, action: 'add-peer' }),
    differs: (p: AbPeerRow) => {
      const out: Difference[] = [];
      for (const k of ['alias', 'note'] as const) {
        const given = fields[k];
        if (given !== undefined && (p[k] ?? '') !== given)
          out.push({ field: k, have: shown(p[k]), given: shown(given), how: `${update} --${k} …` });
      }
      const tags = (list: readonly string[] | null | undefined) => [...new Set(list ?? [])].sort().join(',');
      if (fields.tags !== undefined && tags(p.tags) !== tags(fields.tags))
        out.push({
          field: 'tags',
          have: `[${(p.tags ?? []).join(', ')}]`,
          given: `[${fields.tags.join(', ')}]`,
          how: `${update} --tags …`,
        });
      if (fields.password && (p.password ?? '') !== fields.password)
        out.push({ field: 'another password than given', how: `${update} --password-stdin` });
      return out;
    },
  });
}

/** `color`: the one given with --tag-color (undefined: automatic, not compared). */
export function addTagOnce(
  ctx: Ctx,
  o: Opts,
  s: { choice: Choice; book: BookRef; name: string; color: number | undefined },
): IfNotExists {
  const { book, name, color } = s;
  return ifNotExists(ctx, o, {
    what: `Tag '${name}' in ${book.label}`,
    find: async () => (await ctx.api.ab.tags(book.guid)).find((t) => t.name === name),
    json: (t) => ({
      ok: true,
      ab: book.guid,
      name,
      color: t.color,
      ...(typeof t.color === 'number' ? { color_hex: formatColor(t.color) } : {}),
    }),
    differs: (t): Difference[] =>
      color === undefined || t.color === color
        ? []
        : [
            {
              field: 'colour',
              have: typeof t.color === 'number' ? formatColor(t.color) : '(none)',
              given: formatColor(color),
              how: `rdadmin ab update-tag ${bookFlag(s.choice, book)} --tag-name ${shellWord(name)} --tag-color ${formatColor(color)}`,
            },
          ],
  });
}

export function addRuleOnce(
  ctx: Ctx,
  o: Opts,
  s: {
    book: BookRef;
    type: 'user' | 'group' | 'everyone';
    user?: string;
    group?: string;
    perm: number;
    /** "user 'alice'", "everyone" */
    target: string;
  },
): IfNotExists {
  const { book, type, perm } = s;
  const user = type === 'user' ? s.user?.trim() : undefined;
  const group = type === 'group' ? s.group?.trim() : undefined;
  return ifNotExists(ctx, o, {
    what: `Rule for ${s.target} in ${book.label}`,
    // One rule per target and book: a user rule names the user, a group rule the group, and the
    // everyone rule neither.
    find: async () => {
      for await (const r of ctx.api.ab.listRules(book.guid))
        if ((r.user || undefined) === user && (r.group || undefined) === group) return r;
      return undefined;
    },
    json: (r) => ({
      ok: true,
      guid: r.guid,
      ab: book.guid,
      type,
      ...(type === 'user' ? { user: s.user } : {}),
      ...(type === 'group' ? { group: s.group } : {}),
      rule: r.rule,
      rule_label: permissionLabel(r.rule),
    }),
    differs: (r): Difference[] =>
      r.rule === perm
        ? []
        : [
            {
              field: 'permission',
              have: permissionLabel(r.rule),
              given: permissionLabel(perm),
              how: `rdadmin ab update-rule --rule-guid ${r.guid} --rule-permission ${permissionLabel(perm)}`,
            },
          ],
  });
}
