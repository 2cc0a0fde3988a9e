import { z } from 'zod';
import {
  AB_NAME_MAX,
  AB_NOTE_MAX,
  ALIAS_MAX,
  COLOR_MAX,
  PEER_ID_MAX,
  PEER_PASSWORD_MAX,
  TAG_NAME_MAX,
} from './ab-rules';
import { Guid, listOf, PageQuery } from './common';

// Address books (pro-admin-api.md §6 and §9 rows 26–42; server-model.md §1.6 and §2.2).

const noControl = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);

function text(max: number) {
  return z
    .string({ error: 'must be a string' })
    .max(max, `must be at most ${max} characters`)
    .refine(noControl, 'must not contain control characters');
}

function name(max: number) {
  return z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine(noControl, 'must not contain control characters');
}

const Note = z
  .string({ error: 'must be a string' })
  .max(AB_NOTE_MAX, `must be at most ${AB_NOTE_MAX} characters`);

export const AbName = name(AB_NAME_MAX);
export const PeerId = name(PEER_ID_MAX);
export const TagName = name(TAG_NAME_MAX);
const Password = z
  .string({ error: 'must be a string' })
  .max(PEER_PASSWORD_MAX, `must be at most ${PEER_PASSWORD_MAX} characters`);

/** A 32-bit ARGB colour; a signed 32-bit value (as some clients send it) is taken as unsigned. */
export const Color = z
  .number({ error: 'must be a 32-bit ARGB integer' })
  .int('must be a 32-bit ARGB integer')
  .min(-0x80000000, 'must be a 32-bit ARGB integer')
  .max(COLOR_MAX, 'must be at most 0xFFFFFFFF (4294967295)')
  .transform((n) => n >>> 0);

export const RuleValueSchema = z.union([z.literal(1), z.literal(2), z.literal(3)], {
  error: 'must be 1 (read), 2 (read/write) or 3 (full control)',
});

// ---- responses (tolerant: a newer Pro may add fields) ----

export const AbProfileRow = z.looseObject({
  guid: z.string(),
  name: z.string(),
  owner: z.string().nullish(),
  note: z.string().nullish(),
  rule: z.number().nullish(),
  info: z.looseObject({ password: z.string().nullish() }).nullish(),
});
export type AbProfileRow = z.infer<typeof AbProfileRow>;
export const AbProfileList = listOf(AbProfileRow);

export const AbPeerRow = z.looseObject({
  id: z.string(),
  alias: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  note: z.string().nullish(),
  password: z.string().nullish(),
  hash: z.string().nullish(),
  username: z.string().nullish(),
  hostname: z.string().nullish(),
  platform: z.string().nullish(),
});
export type AbPeerRow = z.infer<typeof AbPeerRow>;
export const AbPeerList = listOf(AbPeerRow);
/** A peer in a book's recycle bin (rdadmin serve; Pro keeps its bin to the web console). */
export const AbRecycledRow = AbPeerRow.extend({ deleted_at: z.string() });
export type AbRecycledRow = z.infer<typeof AbRecycledRow>;

export const AbTagRow = z.looseObject({ name: z.string(), color: z.number().nullish() });
export type AbTagRow = z.infer<typeof AbTagRow>;
export const AbTagList = z.array(AbTagRow);

export const AbRuleRow = z.looseObject({
  guid: z.string(),
  user: z.string().nullish(),
  group: z.string().nullish(),
  rule: z.number(),
});
export type AbRuleRow = z.infer<typeof AbRuleRow>;
export const AbRuleList = listOf(AbRuleRow);

export const PersonalAb = z.looseObject({ guid: z.string() });
export const AbSettings = z.looseObject({ max_peer_one_ab: z.number() });
export const CreatedGuid = z.looseObject({ guid: z.string() });
/**
 * A create's answer as a client reads it: rdadmin serve answers `{guid}`; Pro may answer a blank
 * body, `{}` or `null` (pro-admin-api.md §1.5 C, §1.6 "Result: {}"). A 2xx without `{"error"}` is
 * a success either way; the GUID is kept when the answer holds one, else it is undefined.
 */
export const CreatedAnswer = z
  .looseObject({ guid: z.string().min(1) })
  .nullish()
  .catch(undefined);

// ---- requests ----

const Info = z.object({ password: Password.nullish() });

export const AddSharedBody = z.object({
  name: AbName,
  note: Note.nullish(),
  info: Info.nullish(),
});

export const UpdateSharedBody = z.object({
  guid: Guid,
  name: AbName.optional(),
  note: Note.nullish(),
  /** The new owner's user name. */
  owner: z.string({ error: 'must be a user name' }).trim().min(1, 'must not be empty').optional(),
  info: Info.nullish(),
});

export const GuidArray = z
  .array(Guid, { error: 'must be a JSON array of GUIDs' })
  .min(1, 'must hold at least one GUID')
  .max(10_000);

/** A peer as scripts and clients send it; `null` means "not given", `""` / `[]` mean empty. */
export const PeerBody = z.object({
  id: PeerId,
  alias: text(ALIAS_MAX).nullish(),
  tags: z.array(TagName, { error: 'must be a list of tag names' }).max(200).nullish(),
  note: Note.nullish(),
  password: Password.nullish(),
  hash: text(1000).nullish(),
  username: text(200).nullish(),
  hostname: text(200).nullish(),
  platform: text(100).nullish(),
});
export type PeerBody = z.infer<typeof PeerBody>;

export const PeerIdArray = z
  .array(PeerId, { error: 'must be a JSON array of peer IDs' })
  .min(1, 'must hold at least one peer ID')
  .max(10_000);

export const TagBody = z.object({ name: TagName, color: Color.nullish() });
export const TagRenameBody = z.object({ old: TagName, new: TagName });
export const TagNameArray = z
  .array(TagName, { error: 'must be a JSON array of tag names' })
  .min(1, 'must hold at least one tag name')
  .max(1000);

export const AddRuleBody = z.object({
  /** The address book. */
  guid: Guid,
  rule: RuleValueSchema,
  /** A user name, for a user rule. */
  user: z.string({ error: 'must be a user name' }).trim().min(1, 'must not be empty').nullish(),
  /** A user-group name, for a group rule; neither user nor group: everyone. */
  group: z.string({ error: 'must be a user-group name' }).trim().min(1, 'must not be empty').nullish(),
});

export const UpdateRuleBody = z.object({
  /** The rule. */
  guid: Guid,
  rule: RuleValueSchema,
});

export const AbSharedQuery = PageQuery.extend({ name: z.string().max(500).optional() });
export const AbPeersQuery = PageQuery.extend({
  ab: Guid,
  id: z.string().max(500).optional(),
  alias: z.string().max(500).optional(),
});
export const AbRulesQuery = PageQuery.extend({ ab: Guid });
export const AbRecycleQuery = PageQuery.extend({ ab: Guid });

// ---- the legacy address book (clients before the personal/shared books; server-model.md §2.2) ----

/** `POST /api/ab`: the whole address book as one JSON string. */
export const LegacyAbBody = z.object({
  data: z.string({ error: 'must be a string holding the address book as JSON ({tags, peers, tag_colors})' }),
});

export const LegacyAbPeer = z.object({
  id: PeerId,
  alias: text(ALIAS_MAX).nullish(),
  tags: z.array(TagName, { error: 'must be a list of tag names' }).max(200).nullish(),
  note: Note.nullish(),
  hash: text(1000).nullish(),
  username: text(200).nullish(),
  hostname: text(200).nullish(),
  platform: text(100).nullish(),
});

/** What `data` holds once parsed; `tag_colors` is itself a JSON string of {tag: ARGB colour}. */
export const LegacyAbData = z.object({
  tags: z.array(TagName, { error: 'must be a list of tag names' }).max(1000).nullish(),
  peers: z.array(LegacyAbPeer, { error: 'must be a list of peers' }).max(10_000).nullish(),
  tag_colors: z.string({ error: 'must be a string holding {tag: colour} as JSON' }).nullish(),
});

export const LegacyTagColors = z.record(TagName, Color);

/** `GET /api/ab`, `POST /api/ab/get`: the personal book in the legacy form. */
export const LegacyAb = z.looseObject({ data: z.string(), licensed_devices: z.number() });
