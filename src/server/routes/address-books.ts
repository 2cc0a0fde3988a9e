import type { Context } from 'hono';
import { z } from 'zod';
import {
  AbPeersQuery,
  AbProfileList,
  AbRecycleQuery,
  AbRulesQuery,
  AbSettings,
  AbSharedQuery,
  AbTagList,
  AddRuleBody,
  AddSharedBody,
  CreatedGuid,
  GuidArray,
  LegacyAb,
  LegacyAbBody,
  LegacyAbData,
  LegacyTagColors,
  PeerBody,
  PeerIdArray,
  PersonalAb,
  TagBody,
  TagNameArray,
  TagRenameBody,
  UpdateRuleBody,
  UpdateSharedBody,
} from '../../wire/ab';
import { formatColor, RULE_WORDS } from '../../wire/ab-rules';
import { listOf } from '../../wire/common';
import { changeRecorded } from '../audit-log';
import type { AppDeps, AppEnv, Principal } from '../context';
import { checkWellFormed, HttpError, parseWith, readBody, readQuery, readText } from '../http';
import type { Handler, RouteSpec, RouteTable } from '../routes';
import type { Store } from '../store';
import {
  AddressBookError,
  type BookRecord,
  type PeerInput,
  type PeerRecord,
  type RuleRecord,
  type Viewer,
} from '../store/address-books';
import { ConsoleOp, ConsoleType } from '../store/audit';

type C = Context<AppEnv>;
type Need = 1 | 2 | 3;

const STATUS = { not_found: 404, conflict: 409, invalid: 400, full: 400 } as const;

/** What the RustDesk client expects from an address-book change: 200 and an empty body. */
const EMPTY = 'Empty body on success (the RustDesk client treats any other body as an error).';

const read = (allowUserSession = true) => ({ area: 'address_book', level: 'r', allowUserSession }) as const;
const write = { area: 'address_book', level: 'rw', allowUserSession: true } as const;

export function registerAddressBookRoutes(r: RouteTable, deps: AppDeps): void {
  const { store } = deps;
  const books = store.addressBooks;

  /** Store refusals become 4xx answers. */
  const guard =
    (fn: Handler): Handler =>
    async (c) => {
      try {
        return await fn(c);
      } catch (err) {
        if (err instanceof AddressBookError) throw new HttpError(STATUS[err.kind], err.message);
        throw err;
      }
    };

  const add = (spec: RouteSpec, fn: Handler) => r.add(spec, guard(fn));

  /** The client reads with POST what the scripts read with GET: both forms, one handler. */
  const addRead = (spec: Omit<RouteSpec, 'method'>, fn: Handler) => {
    add({ ...spec, method: 'GET' }, fn);
    add({ ...spec, method: 'POST', summary: `${spec.summary} (The RustDesk client's POST form.)` }, fn);
  };

  const principal = (c: C): Principal => c.get('principal')!;

  /** A non-admin user session: the books' rules decide. Administrators and API tokens: null. */
  function viewerOf(p: Principal): Viewer | null {
    return p.kind === 'session' && !p.user.is_admin
      ? { userGuid: p.user.guid, groupGuid: p.user.group_guid }
      : null;
  }

  /** The rule reported to administrators and tokens: full control, read for an `address_book:r` token. */
  function privilegedRule(p: Principal): number {
    return p.kind === 'token' && p.permissions?.address_book !== 'rw' ? 1 : 3;
  }

  function label(b: BookRecord): string {
    return b.personal_of
      ? `the personal address book of '${b.owner_name ?? '?'}'`
      : `address book '${b.name}'`;
  }

  /**
   * Loads a book and checks the caller may do `action` on it: a personal book only by its owner;
   * a shared book by administrators and API tokens (the route checked the token's scope), its owner,
   * or whoever its rules give at least `need` (user > group > everyone).
   */
  async function openBook(c: C, guid: string, need: Need, action: string) {
    const p = principal(c);
    const book = await books.getByGuid(guid);
    if (!book) throw new HttpError(404, `address book not found: ${guid}`);
    if (book.personal_of) {
      if (book.personal_of !== p.user.guid) {
        throw new HttpError(
          403,
          `address book ${guid} is another user's personal address book: only its owner can use it`,
        );
      }
      return { book, rule: 3 };
    }
    const viewer = viewerOf(p);
    // An administrator or an API token: the route checked the token's scope, so a read-only token
    // reads all that a read route shows (the sharing rules and the recycle bin too).
    const rule = viewer
      ? await books.effectiveRule(book, viewer)
      : c.req.method === 'GET'
        ? 3
        : privilegedRule(p);
    if (rule === 0) throw new HttpError(404, `address book not found or not shared with you: ${guid}`);
    if (rule < need) {
      throw new HttpError(
        403,
        `your permission on ${label(book)} is ${RULE_WORDS[rule]}; ${action} needs ${RULE_WORDS[need]}`,
      );
    }
    return { book, rule };
  }

  const ref = (b: BookRecord) => ({ guid: b.guid, label: label(b) });

  /** At most 20 IDs in a console detail. */
  const idList = (ids: readonly string[]) =>
    `${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ` and ${ids.length - 20} more` : ''}`;

  function profileRow(b: BookRecord & { my_rule: number }, p: Principal) {
    const password = books.bookPassword(b);
    return {
      guid: b.guid,
      name: b.name,
      owner: b.owner_name ?? '',
      note: b.note,
      rule: viewerOf(p) ? b.my_rule : privilegedRule(p),
      info: password ? { password } : {},
      created_at: b.created_at,
      updated_at: b.updated_at,
    };
  }

  function peerRow(b: BookRecord, x: PeerRecord) {
    return {
      id: x.id,
      alias: x.alias,
      tags: x.tags,
      note: x.note,
      ...(b.personal_of ? { hash: x.hash } : { password: x.password }),
      username: x.username,
      hostname: x.hostname,
      platform: x.platform,
      created_at: x.created_at,
      updated_at: x.updated_at,
    };
  }

  function ruleRow(x: RuleRecord) {
    return {
      guid: x.guid,
      user: x.user,
      group: x.group,
      rule: x.rule,
      created_at: x.created_at,
      updated_at: x.updated_at,
    };
  }

  function target(x: { user: string | null; group: string | null }): string {
    if (x.user !== null) return `user '${x.user}'`;
    if (x.group !== null) return `group '${x.group}'`;
    return 'everyone';
  }

  /** An address-book change and its console record(s), in one transaction: both or neither. */
  const audited = <T>(
    c: C,
    iop: number,
    change: (ab: Store['addressBooks']) => Promise<T>,
    detail: string | string[] | ((result: T) => string | string[]),
  ) => changeRecorded(deps, c, ConsoleType.addressBook, iop, (tx) => change(tx.addressBooks), detail);

  const empty = (c: C) => c.body(null, 200);

  // ---- settings and books ----

  addRead(
    {
      path: '/api/ab/settings',
      tag: 'address-books',
      summary: 'Address-book settings: `max_peer_one_ab`, the most peers one book may hold (0 = no limit).',
      access: read(),
      response: AbSettings,
    },
    async (c) => c.json({ max_peer_one_ab: await store.settings.get('max_peer_one_ab') }),
  );

  addRead(
    {
      path: '/api/ab/personal',
      tag: 'address-books',
      summary:
        "The caller's personal address book (`{guid}`), created on first use; for an API token, its owner's. Never shared.",
      access: read(),
      response: PersonalAb,
    },
    async (c) => c.json({ guid: await books.personalGuid(principal(c).user.guid) }),
  );

  addRead(
    {
      path: '/api/ab/shared/profiles',
      tag: 'address-books',
      summary:
        "List shared address books with the caller's permission (`rule`: 1 read, 2 read/write, 3 full control) and the book-level password in `info.password`. `name` is a case-insensitive LIKE pattern. A non-admin session sees the books it owns or that a rule shares with it.",
      access: read(),
      query: AbSharedQuery,
      response: AbProfileList,
    },
    async (c) => {
      const q = readQuery(c, AbSharedQuery);
      const p = principal(c);
      const { rows, total } = await books.listShared(
        { name: q.name },
        viewerOf(p),
        (q.current - 1) * q.pageSize,
        q.pageSize,
      );
      return c.json({ data: rows.map((b) => profileRow(b, p)), total });
    },
  );

  add(
    {
      method: 'POST',
      path: '/api/ab/shared/add',
      tag: 'address-books',
      summary:
        'Create a shared address book owned by the caller. `note` may be null; `info.password` is the optional book-level shared password. Answers `{guid}`.',
      access: write,
      body: AddSharedBody,
      response: CreatedGuid,
    },
    async (c) => {
      const body = await readBody(c, AddSharedBody);
      const password = body.info?.password ?? '';
      const guid = await audited(
        c,
        ConsoleOp.addAddressBook,
        (ab) =>
          ab.createShared({
            name: body.name,
            note: body.note ?? '',
            password,
            ownerGuid: principal(c).user.guid,
          }),
        `created shared address book '${body.name}'${password ? ' with a shared password' : ''}`,
      );
      return c.json({ guid });
    },
  );

  add(
    {
      method: 'PUT',
      path: '/api/ab/shared/update/profile',
      tag: 'address-books',
      summary:
        'Change a shared address book: `name`, `note`, `owner` (a user name; only the owner or an administrator may hand a book over) and `info.password` (`""` removes it). Needs full control.',
      access: write,
      body: UpdateSharedBody,
      responseText: EMPTY,
    },
    async (c) => {
      const body = await readBody(c, UpdateSharedBody);
      const { book } = await openBook(c, body.guid, 3, 'changing the book');
      if (book.personal_of) throw new HttpError(400, 'a personal address book has no profile to change');
      const password = body.info?.password;
      if (
        body.name === undefined &&
        (body.note ?? undefined) === undefined &&
        !body.owner &&
        password == null
      ) {
        throw new HttpError(400, 'nothing to change: give name, note, owner or info.password');
      }
      const changes: string[] = [];
      let ownerGuid: string | undefined;
      if (body.owner !== undefined) {
        const owner = await store.users.getByName(body.owner);
        if (!owner) throw new HttpError(400, `user '${body.owner}' does not exist (owner)`);
        const p = principal(c);
        if (viewerOf(p) && book.owner_guid !== p.user.guid) {
          throw new HttpError(403, `only the owner of ${label(book)} or an administrator can hand it over`);
        }
        ownerGuid = owner.guid;
        if (owner.guid !== book.owner_guid)
          changes.push(`owner '${book.owner_name ?? ''}' → '${owner.name}'`);
      }
      if (body.name !== undefined && body.name !== book.name)
        changes.push(`name '${book.name}' → '${body.name}'`);
      if (body.note != null && body.note !== book.note) changes.push('note');
      if (password != null) changes.push(password ? 'shared password set' : 'shared password removed');
      await audited(
        c,
        ConsoleOp.changeAddressBook,
        (ab) =>
          ab.updateShared(book.guid, {
            name: body.name,
            note: body.note ?? undefined,
            ownerGuid,
            password: password ?? undefined,
          }),
        `changed shared address book '${book.name}': ${changes.join(', ') || 'no difference'}`,
      );
      return empty(c);
    },
  );

  add(
    {
      method: 'DELETE',
      path: '/api/ab/shared',
      tag: 'address-books',
      summary:
        'Delete shared address books (a JSON array of GUIDs) with their peers, tags and rules; all or nothing. Needs full control of each.',
      access: write,
      body: GuidArray,
      responseText: EMPTY,
    },
    async (c) => {
      const guids = [...new Set(await readBody(c, GuidArray))];
      const found = await books.getByGuids(guids);
      const known = new Set(found.map((b) => b.guid));
      const missing = guids.filter((g) => !known.has(g));
      if (missing.length)
        throw new HttpError(404, `address book not found: ${missing.slice(0, 10).join(', ')}`);
      for (const b of found) {
        if (b.personal_of)
          throw new HttpError(
            400,
            `${b.guid} is a personal address book: it cannot be deleted (nothing was deleted)`,
          );
        await openBook(c, b.guid, 3, 'deleting the book');
      }
      await audited(
        c,
        ConsoleOp.deleteAddressBook,
        (ab) => ab.deleteBooks(guids),
        found.map((b) => `deleted shared address book '${b.name}'`),
      );
      return empty(c);
    },
  );

  // ---- the legacy address book ----

  // RustDesk clients before the personal and shared books (and newer ones, if /api/ab/personal
  // answered 404) read and write one address book as a whole: here, the caller's personal book.
  const legacyRead: Handler = async (c) => {
    const guid = await books.personalGuid(principal(c).user.guid);
    const [{ rows }, tags] = await Promise.all([
      books.listPeers(guid, {}, 0, Number.MAX_SAFE_INTEGER),
      books.listTags(guid),
    ]);
    const data = {
      tags: tags.map((t) => t.name),
      peers: rows.map((x) => ({
        id: x.id,
        hash: x.hash,
        username: x.username,
        hostname: x.hostname,
        platform: x.platform,
        alias: x.alias,
        tags: x.tags,
        note: x.note,
      })),
      tag_colors: JSON.stringify(Object.fromEntries(tags.map((t) => [t.name, t.color]))),
    };
    return c.json({
      data: JSON.stringify(data),
      licensed_devices: await store.settings.get('max_peer_one_ab'),
    });
  };
  const legacyReadSpec = {
    tag: 'address-books',
    summary:
      'The caller\'s personal address book in the legacy form (RustDesk clients from before the personal and shared books): `{data: "<JSON of {tags, peers, tag_colors}>", licensed_devices}`, `licensed_devices` being max_peer_one_ab (0 = no limit).',
    access: read(),
    response: LegacyAb,
  } as const;
  add({ ...legacyReadSpec, method: 'GET', path: '/api/ab' }, legacyRead);
  add({ ...legacyReadSpec, method: 'POST', path: '/api/ab/get' }, legacyRead);

  /** Parses JSON held in a string field, naming the field when it is not JSON. */
  function innerJson(text: string, where: string): unknown {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, `${where} is not valid JSON`);
    }
    checkWellFormed(value, text, where);
    return value;
  }

  add(
    {
      method: 'POST',
      path: '/api/ab',
      tag: 'address-books',
      summary:
        'Replace the caller\'s personal address book with a legacy client\'s upload: `{data: "<JSON of {tags, peers, tag_colors}>"}`. Peers not in the upload are removed; tags keep their colour unless `tag_colors` gives one. Needs read/write access.',
      access: write,
      body: LegacyAbBody,
      responseText: EMPTY,
    },
    async (c) => {
      const body = await readBody(c, LegacyAbBody);
      const where = "request body field 'data'";
      const data = parseWith(LegacyAbData, innerJson(body.data, where), where);
      const colors = data.tag_colors
        ? parseWith(
            LegacyTagColors,
            innerJson(data.tag_colors, `${where} field 'tag_colors'`),
            `${where} field 'tag_colors'`,
          )
        : {};
      const peers = (data.peers ?? []).map((p) => ({
        id: p.id,
        alias: p.alias ?? undefined,
        tags: p.tags ?? undefined,
        note: p.note ?? undefined,
        hash: p.hash ?? undefined,
        username: p.username ?? undefined,
        hostname: p.hostname ?? undefined,
        platform: p.platform ?? undefined,
      }));
      // The personal book is created, if need be, in the same transaction as the change.
      await audited(
        c,
        ConsoleOp.changeAddressBook,
        async (ab) => {
          const guid = await ab.personalGuid(principal(c).user.guid);
          const book = await ab.getByGuid(guid);
          if (!book) throw new HttpError(404, `address book not found: ${guid}`);
          const r = await ab.replaceContent(
            ref(book),
            peers,
            data.tags ?? [],
            new Map(Object.entries(colors)),
          );
          return { book, r };
        },
        ({ book, r }) =>
          `replaced ${label(book)} from a legacy client: ${r.added} peers added, ${r.updated} updated, ${r.removed} removed; ${r.tags} tags`,
      );
      return empty(c);
    },
  );

  // ---- peers ----

  addRead(
    {
      path: '/api/ab/peers',
      tag: 'address-books',
      summary:
        "List the peers of book `ab`. `id` and `alias` are case-insensitive LIKE patterns. Shared books carry each peer's `password`, personal books the client's `hash`. Needs read access.",
      access: read(),
      query: AbPeersQuery,
      response: listOf(z.looseObject({ id: z.string() })),
    },
    async (c) => {
      const q = readQuery(c, AbPeersQuery);
      const { book } = await openBook(c, q.ab, 1, 'reading peers');
      const { rows, total } = await books.listPeers(
        book.guid,
        { id: q.id, alias: q.alias },
        (q.current - 1) * q.pageSize,
        q.pageSize,
      );
      return c.json({ data: rows.map((x) => peerRow(book, x)), total });
    },
  );

  /** The body's fields as a change; null and absent mean "not given". Refuses fields the book cannot hold. */
  function peerInput(book: BookRecord, body: PeerBody): PeerInput {
    if (book.personal_of && body.password)
      throw new HttpError(
        400,
        "a personal address book keeps no peer passwords (the client stores a 'hash'); use a shared book",
      );
    if (!book.personal_of && body.hash)
      throw new HttpError(400, "'hash' belongs to personal address books; a shared book keeps a 'password'");
    const out: PeerInput = {};
    for (const k of [
      'alias',
      'tags',
      'note',
      'password',
      'hash',
      'username',
      'hostname',
      'platform',
    ] as const) {
      const v = body[k];
      if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
    }
    return out;
  }

  function changed(p: PeerInput): string {
    return Object.keys(p)
      .map((k) => (k === 'password' ? (p.password ? 'password set' : 'password removed') : k))
      .join(', ');
  }

  add(
    {
      method: 'POST',
      path: '/api/ab/peer/add/{ab}',
      tag: 'address-books',
      summary:
        'Add a peer to a book: `{id, alias?, tags?, note?, password? (shared) | hash? (personal), username?, hostname?, platform?}`; tags the book lacks are created with an automatic colour. Needs read/write access.',
      access: write,
      body: PeerBody,
      responseText: EMPTY,
    },
    async (c) => {
      const body = await readBody(c, PeerBody);
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'adding peers');
      await audited(
        c,
        ConsoleOp.changeAddressBook,
        (ab) => ab.addPeer(ref(book), body.id, peerInput(book, body)),
        (created) =>
          `added peer ${body.id} to ${label(book)}${created.length ? `; created tags ${created.map((t) => `'${t}'`).join(', ')}` : ''}`,
      );
      return empty(c);
    },
  );

  add(
    {
      method: 'PUT',
      path: '/api/ab/peer/update/{ab}',
      tag: 'address-books',
      summary:
        'Change the given fields of a peer: `{id, …}`. `""` and `[]` clear a field; null or absent leave it. Needs read/write access.',
      access: write,
      body: PeerBody,
      responseText: EMPTY,
    },
    async (c) => {
      const body = await readBody(c, PeerBody);
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'changing peers');
      const input = peerInput(book, body);
      if (Object.keys(input).length === 0)
        throw new HttpError(400, 'nothing to change: give alias, tags, note, password or another field');
      await audited(
        c,
        ConsoleOp.changeAddressBook,
        (ab) => ab.updatePeer(ref(book), body.id, input),
        (created) =>
          `updated peer ${body.id} in ${label(book)} (${changed(input)})${created.length ? `; created tags ${created.map((t) => `'${t}'`).join(', ')}` : ''}`,
      );
      return empty(c);
    },
  );

  add(
    {
      method: 'DELETE',
      path: '/api/ab/peer/{ab}',
      tag: 'address-books',
      summary:
        "Delete peers from a book (a JSON array of IDs) into the book's recycle bin; all or nothing. Needs read/write access.",
      access: write,
      body: PeerIdArray,
      responseText: EMPTY,
    },
    async (c) => {
      const ids = await readBody(c, PeerIdArray);
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'deleting peers');
      const unique = [...new Set(ids)];
      await audited(
        c,
        ConsoleOp.deleteAddressBookPeers,
        (ab) => ab.deletePeers(ref(book), ids),
        `deleted ${unique.length === 1 ? 'peer' : 'peers'} ${idList(unique)} from ${label(book)}`,
      );
      return empty(c);
    },
  );

  // ---- the recycle bin ----

  add(
    {
      method: 'GET',
      path: '/api/ab/recycle',
      tag: 'address-books',
      summary:
        'The recycle bin of book `ab`: its deleted peers, most recently deleted first, with `deleted_at` and `has_password` (passwords and hashes are kept for a restore, not shown). Needs read/write access.',
      access: read(),
      query: AbRecycleQuery,
      response: listOf(z.looseObject({ id: z.string(), deleted_at: z.string() })),
    },
    async (c) => {
      const q = readQuery(c, AbRecycleQuery);
      const { book } = await openBook(c, q.ab, 2, 'viewing the recycle bin');
      const { rows, total } = await books.listRecycled(book.guid, (q.current - 1) * q.pageSize, q.pageSize);
      return c.json({
        data: rows.map((x) => ({
          id: x.id,
          alias: x.alias,
          tags: x.tags,
          note: x.note,
          username: x.username,
          hostname: x.hostname,
          platform: x.platform,
          has_password: Boolean(x.password || x.hash),
          created_at: x.created_at,
          updated_at: x.updated_at,
          deleted_at: x.deleted_at,
        })),
        total,
      });
    },
  );

  add(
    {
      method: 'POST',
      path: '/api/ab/recycle/restore/{ab}',
      tag: 'address-books',
      summary:
        'Put peers back from the recycle bin (a JSON array of IDs), with every field they had; all or nothing (409 if the book holds one of those IDs again). Needs read/write access.',
      access: write,
      body: PeerIdArray,
      responseText: EMPTY,
    },
    async (c) => {
      const ids = [...new Set(await readBody(c, PeerIdArray))];
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'restoring peers');
      await audited(
        c,
        ConsoleOp.changeAddressBook,
        (ab) => ab.restorePeers(ref(book), ids),
        (created) =>
          `restored ${ids.length === 1 ? 'peer' : 'peers'} ${idList(ids)} to ${label(book)} from its recycle bin${created.length ? `; created tags ${created.map((t) => `'${t}'`).join(', ')}` : ''}`,
      );
      return empty(c);
    },
  );

  add(
    {
      method: 'DELETE',
      path: '/api/ab/recycle/{ab}',
      tag: 'address-books',
      summary:
        'Delete peers from the recycle bin for good (a JSON array of IDs); all or nothing. Needs read/write access.',
      access: write,
      body: PeerIdArray,
      responseText: EMPTY,
    },
    async (c) => {
      const ids = [...new Set(await readBody(c, PeerIdArray))];
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'emptying the recycle bin');
      await audited(
        c,
        ConsoleOp.emptyAddressBookRecycleBin,
        (ab) => ab.purgeRecycled(ref(book), ids),
        `deleted ${ids.length === 1 ? 'peer' : 'peers'} ${idList(ids)} for good from the recycle bin of ${label(book)}`,
      );
      return empty(c);
    },
  );

  add(
    {
      method: 'POST',
      path: '/api/ab/recycle/empty/{ab}',
      tag: 'address-books',
      summary: "Empty a book's recycle bin: every peer in it is deleted for good. Needs read/write access.",
      access: write,
      responseText: EMPTY,
    },
    async (c) => {
      await readText(c);
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'emptying the recycle bin');
      await audited(
        c,
        ConsoleOp.emptyAddressBookRecycleBin,
        (ab) => ab.purgeRecycled(ref(book), 'all'),
        (n) => `emptied the recycle bin of ${label(book)} (${n} ${n === 1 ? 'peer' : 'peers'})`,
      );
      return empty(c);
    },
  );

  // ---- tags ----

  addRead(
    {
      path: '/api/ab/tags/{ab}',
      tag: 'address-books',
      summary: 'The tags of a book: a bare JSON array of `{name, color}` (32-bit ARGB). Needs read access.',
      access: read(),
      response: AbTagList,
    },
    async (c) => {
      const { book } = await openBook(c, c.req.param('ab') ?? '', 1, 'reading tags');
      return c.json(await books.listTags(book.guid));
    },
  );

  add(
    {
      method: 'POST',
      path: '/api/ab/tag/add/{ab}',
      tag: 'address-books',
      summary:
        'Add a tag `{name, color}`; without a colour (absent or null) one not yet used in the book is chosen. Needs read/write access.',
      access: write,
      body: TagBody,
      responseText: EMPTY,
    },
    async (c) => {
      const body = await readBody(c, TagBody);
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'adding tags');
      await audited(
        c,
        ConsoleOp.changeAddressBook,
        (ab) => ab.addTag(ref(book), body.name, body.color ?? null),
        (color) => `added tag '${body.name}' (${formatColor(color)}) to ${label(book)}`,
      );
      return empty(c);
    },
  );

  add(
    {
      method: 'PUT',
      path: '/api/ab/tag/update/{ab}',
      tag: 'address-books',
      summary:
        "Change a tag's colour: `{name, color}`. A null colour keeps the current one (ab.py sends null when no colour is given). Needs read/write access.",
      access: write,
      body: TagBody,
      responseText: EMPTY,
    },
    async (c) => {
      const body = await readBody(c, TagBody);
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'changing tags');
      const tag = await books.getTag(book.guid, body.name);
      if (!tag) throw new HttpError(404, `tag '${body.name}' is not in ${label(book)}`);
      if (body.color != null && body.color !== tag.color) {
        const color = body.color;
        await audited(
          c,
          ConsoleOp.changeAddressBook,
          (ab) => ab.setTagColor(ref(book), body.name, color),
          `changed colour of tag '${body.name}' in ${label(book)}: ${formatColor(tag.color)} → ${formatColor(body.color)}`,
        );
      }
      return empty(c);
    },
  );

  add(
    {
      method: 'PUT',
      path: '/api/ab/tag/rename/{ab}',
      tag: 'address-books',
      summary: 'Rename a tag `{old, new}`; every peer carrying it is changed too. Needs read/write access.',
      access: write,
      body: TagRenameBody,
      responseText: EMPTY,
    },
    async (c) => {
      const body = await readBody(c, TagRenameBody);
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'renaming tags');
      await audited(
        c,
        ConsoleOp.changeAddressBook,
        (ab) => ab.renameTag(ref(book), body.old, body.new),
        // Renaming a tag to itself changes nothing and is not recorded.
        (n) =>
          body.old === body.new
            ? []
            : `renamed tag '${body.old}' to '${body.new}' in ${label(book)} (${n} ${n === 1 ? 'peer' : 'peers'})`,
      );
      return empty(c);
    },
  );

  add(
    {
      method: 'DELETE',
      path: '/api/ab/tag/{ab}',
      tag: 'address-books',
      summary:
        'Delete tags (a JSON array of names), all or nothing; they are taken off every peer. Needs read/write access.',
      access: write,
      body: TagNameArray,
      responseText: EMPTY,
    },
    async (c) => {
      const names = await readBody(c, TagNameArray);
      const { book } = await openBook(c, c.req.param('ab') ?? '', 2, 'deleting tags');
      const unique = [...new Set(names)];
      await audited(
        c,
        ConsoleOp.changeAddressBook,
        (ab) => ab.deleteTags(ref(book), names),
        (n) =>
          `deleted ${unique.length === 1 ? 'tag' : 'tags'} ${unique.map((t) => `'${t}'`).join(', ')} from ${label(book)} (taken off ${n} ${n === 1 ? 'peer' : 'peers'})`,
      );
      return empty(c);
    },
  );

  // ---- sharing rules ----

  add(
    {
      method: 'GET',
      path: '/api/ab/rules',
      tag: 'address-books',
      summary:
        'List the sharing rules of book `ab`: `{guid, user, group, rule}` (user and group null: everyone; rule 1 read, 2 read/write, 3 full control). Needs full control.',
      access: read(),
      query: AbRulesQuery,
      response: listOf(z.looseObject({ guid: z.string(), rule: z.number() })),
    },
    async (c) => {
      const q = readQuery(c, AbRulesQuery);
      const { book } = await openBook(c, q.ab, 3, 'reading the sharing rules');
      if (book.personal_of) return c.json({ data: [], total: 0 });
      const { rows, total } = await books.listRules(book.guid, (q.current - 1) * q.pageSize, q.pageSize);
      return c.json({ data: rows.map(ruleRow), total });
    },
  );

  add(
    {
      method: 'POST',
      path: '/api/ab/rule',
      tag: 'address-books',
      summary:
        'Share a book: `{guid: book GUID, rule: 1|2|3, user?: user name, group?: user-group name}` (neither: everyone). When several rules match someone, user beats group beats everyone. Needs full control. Answers `{guid}` of the rule.',
      access: write,
      body: AddRuleBody,
      response: CreatedGuid,
    },
    async (c) => {
      const body = await readBody(c, AddRuleBody);
      if (body.user && body.group)
        throw new HttpError(400, 'give user or group, not both (neither means everyone)');
      const { book } = await openBook(c, body.guid, 3, 'sharing the book');
      if (book.personal_of) throw new HttpError(400, 'a personal address book cannot be shared');
      let userGuid: string | null = null;
      let groupGuid: string | null = null;
      if (body.user) {
        const u = await store.users.getByName(body.user);
        if (!u) throw new HttpError(400, `user '${body.user}' does not exist`);
        if (u.guid === book.owner_guid)
          throw new HttpError(400, `user '${u.name}' owns ${label(book)} and always has full control`);
        userGuid = u.guid;
      } else if (body.group) {
        const g = await store.users.getGroupByName(body.group);
        if (!g) throw new HttpError(400, `user group '${body.group}' does not exist`);
        groupGuid = g.guid;
      }
      // "Allow non-admin to share address books to other groups" (server-model §1.6), off by default.
      const p = c.get('principal');
      if (p?.kind === 'session' && !p.user.is_admin && !userGuid && groupGuid !== p.user.group_guid) {
        if (!(await store.settings.get('non_admin_share_other_groups'))) {
          throw new HttpError(
            403,
            `sharing a book with ${groupGuid ? `another user group ('${body.group}')` : 'everyone'} takes an administrator's session, unless the setting non_admin_share_other_groups is on; users share with users and their own user group`,
          );
        }
      }
      const guid = await audited(
        c,
        ConsoleOp.addAddressBookRule,
        (ab) => ab.addRule(book.guid, { userGuid, groupGuid }, body.rule),
        `shared ${label(book)} with ${target({ user: body.user ?? null, group: body.user ? null : (body.group ?? null) })}: ${RULE_WORDS[body.rule]}`,
      );
      return c.json({ guid });
    },
  );

  add(
    {
      method: 'PATCH',
      path: '/api/ab/rule',
      tag: 'address-books',
      summary:
        "Change a rule's permission: `{guid: rule GUID, rule: 1|2|3}`. Needs full control of its book.",
      access: write,
      body: UpdateRuleBody,
      responseText: EMPTY,
    },
    async (c) => {
      const body = await readBody(c, UpdateRuleBody);
      const rule = await books.getRule(body.guid);
      if (!rule) throw new HttpError(404, `rule not found: ${body.guid}`);
      const { book } = await openBook(c, rule.ab_guid, 3, 'changing the sharing rules');
      if (rule.rule !== body.rule) {
        await audited(
          c,
          ConsoleOp.updateAddressBookRule,
          (ab) => ab.updateRule(rule.guid, body.rule),
          `changed the rule for ${target(rule)} on ${label(book)}: ${RULE_WORDS[rule.rule]} → ${RULE_WORDS[body.rule]}`,
        );
      }
      return empty(c);
    },
  );

  add(
    {
      method: 'DELETE',
      path: '/api/ab/rules',
      tag: 'address-books',
      summary:
        'Delete rules (a JSON array of rule GUIDs), all or nothing. Needs full control of their books.',
      access: write,
      body: GuidArray,
      responseText: EMPTY,
    },
    async (c) => {
      const guids = [...new Set(await readBody(c, GuidArray))];
      const rules = await books.getRules(guids);
      const known = new Set(rules.map((x) => x.guid));
      const missing = guids.filter((g) => !known.has(g));
      if (missing.length) throw new HttpError(404, `rule not found: ${missing.slice(0, 10).join(', ')}`);
      const bookOf = new Map<string, BookRecord>();
      for (const x of rules) {
        if (!bookOf.has(x.ab_guid))
          bookOf.set(x.ab_guid, (await openBook(c, x.ab_guid, 3, 'changing the sharing rules')).book);
      }
      await audited(
        c,
        ConsoleOp.deleteAddressBookRule,
        (ab) => ab.deleteRules(guids),
        rules.map(
          (x) =>
            `stopped sharing ${label(bookOf.get(x.ab_guid)!)} with ${target(x)} (was ${RULE_WORDS[x.rule]})`,
        ),
      );
      return empty(c);
    },
  );
}
