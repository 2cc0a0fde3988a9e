import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { autoTagColor, formatColor, PERSONAL_BOOK_NAME } from '../../wire/ab-rules';
import { type AuditRepo, ConsoleOp, ConsoleType } from './audit';
import { newGuid } from './ids';
import { fold, likeFilter } from './like';
import type { AddressBookTable, DB } from './schema';
import type { SecretBox } from './secret-box';
import { SettingsRepo } from './settings';
import { transact } from './tx';

/** A refusal with a kind the HTTP layer maps to a status (404, 409, 400, 400). */
export class AddressBookError extends Error {
  constructor(
    readonly kind: 'not_found' | 'conflict' | 'invalid' | 'full',
    message: string,
  ) {
    super(message);
    this.name = 'AddressBookError';
  }
}

export type BookRecord = Selectable<AddressBookTable> & { owner_name: string | null };
export type ProfileRecord = BookRecord & { my_rule: number };

/** Whose rules apply (a non-admin user session). */
export interface Viewer {
  userGuid: string;
  groupGuid: string;
}

export interface PeerRecord {
  id: string;
  alias: string;
  tags: string[];
  note: string;
  /** Shared books: the peer's password ('' when none). */
  password: string;
  /** Personal books: the client's password hash ('' when none). */
  hash: string;
  username: string;
  hostname: string;
  platform: string;
  created_at: string;
  updated_at: string;
}

/** Fields of a peer to set; `undefined` leaves a field as it is (on add: empty). */
export interface PeerInput {
  alias?: string;
  tags?: string[];
  note?: string;
  password?: string;
  hash?: string;
  username?: string;
  hostname?: string;
  platform?: string;
}

export interface TagRecord {
  name: string;
  color: number;
}

export interface RuleRecord {
  guid: string;
  ab_guid: string;
  user_guid: string | null;
  group_guid: string | null;
  user: string | null;
  group: string | null;
  rule: number;
  created_at: string;
  updated_at: string;
}

export interface AssignToBookOptions {
  bookName: string;
  /** The device's RustDesk ID. */
  deviceId: string;
  tag?: string;
  alias?: string;
  password?: string;
  note?: string;
  /** Who asked (for the console log); null or absent: the device itself (presets). */
  operatorGuid?: string | null;
}

function tagsOf(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

function isUniqueViolation(err: unknown): boolean {
  return /UNIQUE constraint failed/.test(String((err as Error)?.message));
}

/** The columns a peer has in ab_peers and in ab_recycle alike. */
const PEER_COLUMNS =
  'ab_guid, id, id_fold, alias, alias_fold, tags, note, password_enc, hash_enc, username, hostname, platform, created_at, updated_at';

/** IDs in runs of 500, to stay well inside SQLite's limit on bound parameters. */
function* chunks<T>(items: readonly T[], size = 500): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function list(names: readonly string[], max = 10): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/** Personal and shared address books, their peers, tags and sharing rules. */
export class AddressBookRepo {
  private readonly audit: AuditRepo;
  private readonly settings: SettingsRepo;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
    private readonly secrets: SecretBox,
    audit: AuditRepo,
  ) {
    this.audit = audit;
    this.settings = new SettingsRepo(db);
  }

  private ts(): string {
    return this.now().toISOString();
  }

  // ---- books ----

  private books(db: Kysely<DB> = this.db) {
    return db
      .selectFrom('address_books as b')
      .leftJoin('users as u', 'u.guid', 'b.owner_guid')
      .selectAll('b')
      .select('u.name as owner_name');
  }

  getByGuid(guid: string, db: Kysely<DB> = this.db): Promise<BookRecord | undefined> {
    return this.books(db).where('b.guid', '=', guid).executeTakeFirst();
  }

  getByGuids(guids: readonly string[]): Promise<BookRecord[]> {
    if (guids.length === 0) return Promise.resolve([]);
    return this.books()
      .where('b.guid', 'in', [...guids])
      .execute();
  }

  getSharedByName(name: string, db: Kysely<DB> = this.db): Promise<BookRecord | undefined> {
    return this.books(db).where('b.name', '=', name).where('b.personal_of', 'is', null).executeTakeFirst();
  }

  /** The user's personal book, created on first use (reading it writes nothing once it exists). */
  async personalGuid(userGuid: string): Promise<string> {
    const existing = await this.db
      .selectFrom('address_books')
      .select('guid')
      .where('personal_of', '=', userGuid)
      .executeTakeFirst();
    if (existing) return existing.guid;
    const ts = this.ts();
    await this.db
      .insertInto('address_books')
      .values({
        guid: newGuid(this.now().getTime()),
        name: PERSONAL_BOOK_NAME,
        name_fold: fold(PERSONAL_BOOK_NAME),
        note: '',
        owner_guid: userGuid,
        personal_of: userGuid,
        password_enc: null,
        created_at: ts,
        updated_at: ts,
      })
      .onConflict((oc) => oc.column('personal_of').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('address_books')
      .select('guid')
      .where('personal_of', '=', userGuid)
      .executeTakeFirstOrThrow();
    return row.guid;
  }

  /** The book-level shared password ('' when none). */
  bookPassword(book: BookRecord): string {
    return this.secrets.open(book.password_enc) ?? '';
  }

  /**
   * Shared books, each with the caller's effective rule (`my_rule`). With a viewer, only the books
   * it owns (3) or that a rule shares with it; the most specific rule wins: user > group > everyone.
   * Without one (administrators, API tokens), every shared book with `my_rule` 3.
   */
  async listShared(
    f: { name?: string },
    viewer: Viewer | null,
    offset: number,
    limit: number,
  ): Promise<{ rows: ProfileRecord[]; total: number }> {
    const rule = viewer
      ? sql<number>`CASE WHEN b.owner_guid = ${viewer.userGuid} THEN 3 ELSE COALESCE(
          (SELECT r.rule FROM ab_rules r WHERE r.ab_guid = b.guid AND r.user_guid = ${viewer.userGuid}),
          (SELECT r.rule FROM ab_rules r WHERE r.ab_guid = b.guid AND r.group_guid = ${viewer.groupGuid}),
          (SELECT r.rule FROM ab_rules r WHERE r.ab_guid = b.guid AND r.user_guid IS NULL AND r.group_guid IS NULL),
          0) END`
      : sql<number>`3`;
    let q = this.books().select(rule.as('my_rule')).where('b.personal_of', 'is', null);
    const byName = likeFilter(sql.ref<string>('b.name_fold'), f.name);
    if (byName) q = q.where(byName);
    if (viewer) q = q.where(rule, '>', 0);
    const [rows, count] = await Promise.all([
      q.orderBy('b.name_fold').orderBy('b.guid').offset(offset).limit(limit).execute(),
      q
        .clearSelect()
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map((r) => ({ ...r, my_rule: Number(r.my_rule) })), total: Number(count.n) };
  }

  /** The viewer's rule on a shared book: 3 for its owner, else user > group > everyone, else 0. */
  async effectiveRule(book: BookRecord, viewer: Viewer): Promise<number> {
    if (book.owner_guid === viewer.userGuid) return 3;
    const rules = await this.db
      .selectFrom('ab_rules')
      .select(['user_guid', 'group_guid', 'rule'])
      .where('ab_guid', '=', book.guid)
      .where((eb) =>
        eb.or([
          eb('user_guid', '=', viewer.userGuid),
          eb('group_guid', '=', viewer.groupGuid),
          eb.and([eb('user_guid', 'is', null), eb('group_guid', 'is', null)]),
        ]),
      )
      .execute();
    const byUser = rules.find((r) => r.user_guid === viewer.userGuid);
    const byGroup = rules.find((r) => r.group_guid === viewer.groupGuid);
    const everyone = rules.find((r) => r.user_guid === null && r.group_guid === null);
    return (byUser ?? byGroup ?? everyone)?.rule ?? 0;
  }

  async createShared(b: {
    name: string;
    note?: string;
    password?: string;
    ownerGuid: string;
  }): Promise<string> {
    if (await this.getSharedByName(b.name)) {
      throw new AddressBookError('conflict', `a shared address book named '${b.name}' already exists`);
    }
    const ts = this.ts();
    const guid = newGuid(this.now().getTime());
    try {
      await this.db
        .insertInto('address_books')
        .values({
          guid,
          name: b.name,
          name_fold: fold(b.name),
          note: b.note ?? '',
          owner_guid: b.ownerGuid,
          personal_of: null,
          password_enc: b.password ? this.secrets.seal(b.password) : null,
          created_at: ts,
          updated_at: ts,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AddressBookError('conflict', `a shared address book named '${b.name}' already exists`);
      throw err;
    }
    return guid;
  }

  /** Changes a shared book's profile; `password: ''` removes the book-level password. */
  async updateShared(
    guid: string,
    p: { name?: string; note?: string; ownerGuid?: string; password?: string },
  ): Promise<void> {
    if (p.name !== undefined) {
      const other = await this.getSharedByName(p.name);
      if (other && other.guid !== guid)
        throw new AddressBookError('conflict', `a shared address book named '${p.name}' already exists`);
    }
    const set: Record<string, unknown> = { updated_at: this.ts() };
    if (p.name !== undefined) Object.assign(set, { name: p.name, name_fold: fold(p.name) });
    if (p.note !== undefined) set['note'] = p.note;
    if (p.ownerGuid !== undefined) set['owner_guid'] = p.ownerGuid;
    if (p.password !== undefined) set['password_enc'] = p.password ? this.secrets.seal(p.password) : null;
    try {
      await this.db.updateTable('address_books').set(set).where('guid', '=', guid).execute();
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AddressBookError('conflict', `a shared address book named '${p.name}' already exists`);
      throw err;
    }
  }

  /** Deletes books with their peers, tags and rules, all or nothing. */
  async deleteBooks(guids: readonly string[]): Promise<void> {
    await transact(this.db, async (trx) => {
      const r = await trx
        .deleteFrom('address_books')
        .where('guid', 'in', [...guids])
        .executeTakeFirst();
      if (Number(r.numDeletedRows) !== new Set(guids).size)
        throw new AddressBookError('not_found', 'some address books vanished while being deleted');
    });
  }

  // ---- peers ----

  private peerOut(r: Selectable<DB['ab_peers']>): PeerRecord {
    return {
      id: r.id,
      alias: r.alias,
      tags: tagsOf(r.tags),
      note: r.note,
      password: this.secrets.open(r.password_enc) ?? '',
      hash: this.secrets.open(r.hash_enc) ?? '',
      username: r.username,
      hostname: r.hostname,
      platform: r.platform,
      created_at: r.created_at,
      updated_at: r.updated_at,
    };
  }

  async listPeers(
    abGuid: string,
    f: { id?: string; alias?: string },
    offset: number,
    limit: number,
  ): Promise<{ rows: PeerRecord[]; total: number }> {
    let q = this.db.selectFrom('ab_peers').selectAll().where('ab_guid', '=', abGuid);
    for (const c of [
      likeFilter(sql.ref<string>('id_fold'), f.id),
      likeFilter(sql.ref<string>('alias_fold'), f.alias),
    ])
      if (c) q = q.where(c);
    const [rows, count] = await Promise.all([
      q.orderBy('id_fold').orderBy('id').offset(offset).limit(limit).execute(),
      q
        .clearSelect()
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map((r) => this.peerOut(r)), total: Number(count.n) };
  }

  async getPeer(abGuid: string, id: string): Promise<PeerRecord | undefined> {
    const r = await this.db
      .selectFrom('ab_peers')
      .selectAll()
      .where('ab_guid', '=', abGuid)
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? this.peerOut(r) : undefined;
  }

  async countPeers(abGuid: string, db: Kysely<DB> = this.db): Promise<number> {
    const r = await db
      .selectFrom('ab_peers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('ab_guid', '=', abGuid)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Creates the tags a peer names that the book lacks, each with an automatic colour. */
  private async ensureTags(
    trx: Transaction<DB>,
    abGuid: string,
    names: readonly string[],
  ): Promise<string[]> {
    if (names.length === 0) return [];
    const existing = await trx
      .selectFrom('ab_tags')
      .select(['name', 'color'])
      .where('ab_guid', '=', abGuid)
      .execute();
    const known = new Set(existing.map((t) => t.name));
    const used = existing.map((t) => t.color);
    const created: string[] = [];
    for (const name of names) {
      if (known.has(name)) continue;
      const color = autoTagColor(name, used);
      await trx
        .insertInto('ab_tags')
        .values({ ab_guid: abGuid, name, color, created_at: this.ts() })
        .execute();
      known.add(name);
      used.push(color);
      created.push(name);
    }
    return created;
  }

  private peerColumns(p: PeerInput): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (p.alias !== undefined) Object.assign(out, { alias: p.alias, alias_fold: fold(p.alias) });
    if (p.tags !== undefined) out['tags'] = JSON.stringify([...new Set(p.tags)]);
    if (p.note !== undefined) out['note'] = p.note;
    if (p.password !== undefined) out['password_enc'] = p.password ? this.secrets.seal(p.password) : null;
    if (p.hash !== undefined) out['hash_enc'] = p.hash ? this.secrets.seal(p.hash) : null;
    for (const k of ['username', 'hostname', 'platform'] as const) if (p[k] !== undefined) out[k] = p[k];
    return out;
  }

  private async maxPeers(): Promise<number> {
    return this.settings.get('max_peer_one_ab');
  }

  /** Inside a transaction every query must use `trx` (one SQLite connection): read `max` before. */
  private async insertPeer(
    trx: Transaction<DB>,
    book: { guid: string; label: string },
    id: string,
    p: PeerInput,
    max: number,
  ): Promise<void> {
    if (max > 0 && (await this.countPeers(book.guid, trx)) >= max) {
      throw new AddressBookError(
        'full',
        `${book.label} is full: it holds the most peers one address book may hold (max_peer_one_ab = ${max})`,
      );
    }
    const ts = this.ts();
    await trx
      .insertInto('ab_peers')
      .values({
        ab_guid: book.guid,
        id,
        id_fold: fold(id),
        alias: '',
        alias_fold: '',
        tags: '[]',
        note: '',
        password_enc: null,
        hash_enc: null,
        username: '',
        hostname: '',
        platform: '',
        created_at: ts,
        updated_at: ts,
        ...this.peerColumns(p),
      })
      .execute();
  }

  /** Adds a peer (its unknown tags are created); returns the tags it created. */
  async addPeer(book: { guid: string; label: string }, id: string, p: PeerInput): Promise<string[]> {
    const max = await this.maxPeers();
    return transact(this.db, async (trx) => {
      const exists = await trx
        .selectFrom('ab_peers')
        .select('id')
        .where('ab_guid', '=', book.guid)
        .where('id', '=', id)
        .executeTakeFirst();
      if (exists) {
        throw new AddressBookError(
          'conflict',
          `peer ${id} is already in ${book.label}: change it with an update instead`,
        );
      }
      const created = await this.ensureTags(trx, book.guid, p.tags ?? []);
      await this.insertPeer(trx, book, id, p, max);
      return created;
    });
  }

  /** Changes the given fields of a peer (its unknown tags are created); returns the tags it created. */
  async updatePeer(book: { guid: string; label: string }, id: string, p: PeerInput): Promise<string[]> {
    return transact(this.db, async (trx) => {
      const created = await this.ensureTags(trx, book.guid, p.tags ?? []);
      const r = await trx
        .updateTable('ab_peers')
        .set({ ...this.peerColumns(p), updated_at: this.ts() })
        .where('ab_guid', '=', book.guid)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0)
        throw new AddressBookError('not_found', `peer ${id} is not in ${book.label}`);
      return created;
    });
  }

  /** Moves peers to the book's recycle bin (replacing an entry of the same ID already there). */
  private async toBin(trx: Transaction<DB>, abGuid: string, ids: readonly string[]): Promise<void> {
    const cols = sql.raw(PEER_COLUMNS);
    for (const chunk of chunks(ids)) {
      await sql`INSERT OR REPLACE INTO ab_recycle (${cols}, deleted_at)
        SELECT ${cols}, ${this.ts()} FROM ab_peers WHERE ab_guid = ${abGuid} AND id IN (${sql.join(chunk)})`.execute(
        trx,
      );
      await trx.deleteFrom('ab_peers').where('ab_guid', '=', abGuid).where('id', 'in', chunk).execute();
    }
  }

  /** Deletes peers into the book's recycle bin, all or nothing: an unknown ID changes nothing. */
  async deletePeers(book: { guid: string; label: string }, ids: readonly string[]): Promise<void> {
    const unique = [...new Set(ids)];
    await transact(this.db, async (trx) => {
      const known = await this.present(trx, 'ab_peers', book.guid, unique);
      const missing = unique.filter((i) => !known.has(i));
      if (missing.length) {
        throw new AddressBookError(
          'not_found',
          `not in ${book.label}: ${list(missing)} (nothing was deleted)`,
        );
      }
      await this.toBin(trx, book.guid, unique);
    });
  }

  // ---- the recycle bin ----

  async listRecycled(
    abGuid: string,
    offset: number,
    limit: number,
  ): Promise<{ rows: (PeerRecord & { deleted_at: string })[]; total: number }> {
    const q = this.db.selectFrom('ab_recycle').where('ab_guid', '=', abGuid);
    const [rows, count] = await Promise.all([
      q
        .selectAll()
        .orderBy('deleted_at', 'desc')
        .orderBy('id_fold')
        .orderBy('id')
        .offset(offset)
        .limit(limit)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return {
      rows: rows.map((r) => ({ ...this.peerOut(r), deleted_at: r.deleted_at })),
      total: Number(count.n),
    };
  }

  /** Which of these IDs the book holds (ab_peers) or has in its bin (ab_recycle). */
  private async present(
    trx: Transaction<DB>,
    table: 'ab_peers' | 'ab_recycle',
    abGuid: string,
    ids: readonly string[],
  ): Promise<Set<string>> {
    const found = new Set<string>();
    for (const chunk of chunks(ids)) {
      const rows = await trx
        .selectFrom(table)
        .select('id')
        .where('ab_guid', '=', abGuid)
        .where('id', 'in', chunk)
        .execute();
      for (const r of rows) found.add(r.id);
    }
    return found;
  }

  /** The IDs not in the bin, refused as `not_found` (`what` names what did not happen). */
  private async requireInBin(
    trx: Transaction<DB>,
    book: { guid: string; label: string },
    ids: string[],
    what: string,
  ) {
    const found = await this.present(trx, 'ab_recycle', book.guid, ids);
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length)
      throw new AddressBookError(
        'not_found',
        `not in the recycle bin of ${book.label}: ${list(missing)} (${what})`,
      );
  }

  /**
   * Puts peers back from the bin, all or nothing: an ID not in the bin, or one the book holds again,
   * changes nothing; so does going over max_peer_one_ab. Tags they name that the book lacks are
   * created. Returns the tags created.
   */
  async restorePeers(book: { guid: string; label: string }, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const max = await this.maxPeers();
    return transact(this.db, async (trx) => {
      await this.requireInBin(trx, book, unique, 'nothing was restored');
      const again = [...(await this.present(trx, 'ab_peers', book.guid, unique))];
      if (again.length)
        throw new AddressBookError(
          'conflict',
          `${book.label} holds ${list(again)} again: delete or rename those first (nothing was restored)`,
        );
      if (max > 0 && (await this.countPeers(book.guid, trx)) + unique.length > max)
        throw new AddressBookError(
          'full',
          `restoring ${unique.length} peers would put ${book.label} over the most peers one address book may hold (max_peer_one_ab = ${max})`,
        );
      const created: string[] = [];
      const cols = sql.raw(PEER_COLUMNS);
      for (const chunk of chunks(unique)) {
        const tagLists = await trx
          .selectFrom('ab_recycle')
          .select('tags')
          .where('ab_guid', '=', book.guid)
          .where('id', 'in', chunk)
          .execute();
        created.push(
          ...(await this.ensureTags(trx, book.guid, [...new Set(tagLists.flatMap((r) => tagsOf(r.tags)))])),
        );
        await sql`INSERT INTO ab_peers (${cols})
          SELECT ${cols} FROM ab_recycle WHERE ab_guid = ${book.guid} AND id IN (${sql.join(chunk)})`.execute(
          trx,
        );
        await trx
          .deleteFrom('ab_recycle')
          .where('ab_guid', '=', book.guid)
          .where('id', 'in', chunk)
          .execute();
      }
      return created;
    });
  }

  /** Deletes peers from the bin for good (all or nothing), or every one with 'all'. Returns how many. */
  async purgeRecycled(
    book: { guid: string; label: string },
    ids: readonly string[] | 'all',
  ): Promise<number> {
    return transact(this.db, async (trx) => {
      if (ids === 'all') {
        const r = await trx.deleteFrom('ab_recycle').where('ab_guid', '=', book.guid).executeTakeFirst();
        return Number(r.numDeletedRows);
      }
      const unique = [...new Set(ids)];
      await this.requireInBin(trx, book, unique, 'nothing was deleted');
      for (const chunk of chunks(unique))
        await trx
          .deleteFrom('ab_recycle')
          .where('ab_guid', '=', book.guid)
          .where('id', 'in', chunk)
          .execute();
      return unique.length;
    });
  }

  /**
   * Makes a book hold exactly these peers and tags (what a legacy client uploads: its whole address
   * book). Peers not listed are deleted; listed ones are added or overwritten field by field (an
   * absent field becomes empty); tags a peer names are created. Tag colours come from `colors`,
   * else an existing tag keeps its colour, else one is chosen. One transaction; a book over
   * max_peer_one_ab is refused whole. Returns what changed, for the console log.
   */
  async replaceContent(
    book: { guid: string; label: string },
    peers: readonly ({ id: string } & PeerInput)[],
    tags: readonly string[],
    colors: ReadonlyMap<string, number>,
  ): Promise<{ added: number; updated: number; removed: number; tags: number }> {
    const max = await this.maxPeers();
    const byId = new Map<string, { id: string } & PeerInput>();
    for (const p of peers) byId.set(p.id, p); // a repeated ID: the last one wins, as in the client
    if (max > 0 && byId.size > max) {
      throw new AddressBookError(
        'full',
        `${book.label} may hold at most ${max} peers (max_peer_one_ab); the upload has ${byId.size}`,
      );
    }
    return transact(this.db, async (trx) => {
      const existing = new Set(
        (await trx.selectFrom('ab_peers').select('id').where('ab_guid', '=', book.guid).execute()).map(
          (r) => r.id,
        ),
      );
      const gone = [...existing].filter((id) => !byId.has(id));
      await this.toBin(trx, book.guid, gone);
      // The tag list: the given names, then any a peer names that the list lacks.
      const names = [...new Set([...tags, ...[...byId.values()].flatMap((p) => p.tags ?? [])])];
      const old = new Map((await this.listTags(book.guid, trx)).map((t) => [t.name, t.color]));
      await trx.deleteFrom('ab_tags').where('ab_guid', '=', book.guid).execute();
      const used: number[] = [];
      for (const name of names) {
        const color = colors.get(name) ?? old.get(name) ?? autoTagColor(name, used);
        used.push(color);
        await trx
          .insertInto('ab_tags')
          .values({ ab_guid: book.guid, name, color, created_at: this.ts() })
          .execute();
      }
      const full: Required<PeerInput> = {
        alias: '',
        tags: [],
        note: '',
        password: '',
        hash: '',
        username: '',
        hostname: '',
        platform: '',
      };
      let added = 0;
      let updated = 0;
      for (const p of byId.values()) {
        const { id, ...fields } = p;
        const input = {
          ...full,
          ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
        };
        if (existing.has(id)) {
          await trx
            .updateTable('ab_peers')
            .set({ ...this.peerColumns(input), updated_at: this.ts() })
            .where('ab_guid', '=', book.guid)
            .where('id', '=', id)
            .execute();
          updated++;
        } else {
          await this.insertPeer(trx, book, id, input, 0);
          added++;
        }
      }
      return { added, updated, removed: gone.length, tags: names.length };
    });
  }

  // ---- tags ----

  listTags(abGuid: string, db: Kysely<DB> = this.db): Promise<TagRecord[]> {
    return db
      .selectFrom('ab_tags')
      .select(['name', 'color'])
      .where('ab_guid', '=', abGuid)
      .orderBy(sql`rowid`)
      .execute();
  }

  /** Adds a tag; without a colour, one not yet used in the book is chosen. Returns the colour. */
  async addTag(book: { guid: string; label: string }, name: string, color: number | null): Promise<number> {
    return transact(this.db, async (trx) => {
      const tags = await this.listTags(book.guid, trx);
      if (tags.some((t) => t.name === name))
        throw new AddressBookError('conflict', `tag '${name}' already exists in ${book.label}`);
      const c =
        color ??
        autoTagColor(
          name,
          tags.map((t) => t.color),
        );
      await trx
        .insertInto('ab_tags')
        .values({ ab_guid: book.guid, name, color: c, created_at: this.ts() })
        .execute();
      return c;
    });
  }

  async setTagColor(book: { guid: string; label: string }, name: string, color: number): Promise<number> {
    const r = await this.db
      .updateTable('ab_tags')
      .set({ color })
      .where('ab_guid', '=', book.guid)
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0)
      throw new AddressBookError('not_found', `tag '${name}' is not in ${book.label}`);
    return color;
  }

  async getTag(abGuid: string, name: string): Promise<TagRecord | undefined> {
    return this.db
      .selectFrom('ab_tags')
      .select(['name', 'color'])
      .where('ab_guid', '=', abGuid)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /** Peers of a book carrying any of these tags. */
  private peersTagged(trx: Transaction<DB>, abGuid: string, names: readonly string[]) {
    return trx
      .selectFrom('ab_peers')
      .select(['id', 'tags'])
      .where('ab_guid', '=', abGuid)
      .where(
        sql<boolean>`EXISTS (SELECT 1 FROM json_each(ab_peers.tags) WHERE json_each.value IN (${sql.join(
          names.map((n) => sql`${n}`),
        )}))`,
      )
      .execute();
  }

  /** Renames a tag and every peer's use of it; returns how many peers carried it. */
  async renameTag(book: { guid: string; label: string }, from: string, to: string): Promise<number> {
    return transact(this.db, async (trx) => {
      const tags = await this.listTags(book.guid, trx);
      if (!tags.some((t) => t.name === from))
        throw new AddressBookError('not_found', `tag '${from}' is not in ${book.label}`);
      if (from === to) return 0;
      if (tags.some((t) => t.name === to))
        throw new AddressBookError('conflict', `tag '${to}' already exists in ${book.label}`);
      await trx
        .updateTable('ab_tags')
        .set({ name: to })
        .where('ab_guid', '=', book.guid)
        .where('name', '=', from)
        .execute();
      const peers = await this.peersTagged(trx, book.guid, [from]);
      for (const p of peers) {
        const renamed = [...new Set(tagsOf(p.tags).map((t) => (t === from ? to : t)))];
        await trx
          .updateTable('ab_peers')
          .set({ tags: JSON.stringify(renamed), updated_at: this.ts() })
          .where('ab_guid', '=', book.guid)
          .where('id', '=', p.id)
          .execute();
      }
      return peers.length;
    });
  }

  /** Deletes tags (all or nothing) and takes them off every peer; returns how many peers changed. */
  async deleteTags(book: { guid: string; label: string }, names: readonly string[]): Promise<number> {
    const unique = [...new Set(names)];
    return transact(this.db, async (trx) => {
      const tags = new Set((await this.listTags(book.guid, trx)).map((t) => t.name));
      const missing = unique.filter((n) => !tags.has(n));
      if (missing.length) {
        throw new AddressBookError(
          'not_found',
          `no such tag in ${book.label}: ${list(missing.map((m) => `'${m}'`))} (nothing was deleted)`,
        );
      }
      await trx.deleteFrom('ab_tags').where('ab_guid', '=', book.guid).where('name', 'in', unique).execute();
      const gone = new Set(unique);
      const peers = await this.peersTagged(trx, book.guid, unique);
      for (const p of peers) {
        await trx
          .updateTable('ab_peers')
          .set({ tags: JSON.stringify(tagsOf(p.tags).filter((t) => !gone.has(t))), updated_at: this.ts() })
          .where('ab_guid', '=', book.guid)
          .where('id', '=', p.id)
          .execute();
      }
      return peers.length;
    });
  }

  // ---- rules ----

  private rules() {
    return this.db
      .selectFrom('ab_rules as r')
      .leftJoin('users as u', 'u.guid', 'r.user_guid')
      .leftJoin('user_groups as g', 'g.guid', 'r.group_guid')
      .selectAll('r')
      .select(['u.name as user', 'g.name as group']);
  }

  async listRules(
    abGuid: string,
    offset: number,
    limit: number,
  ): Promise<{ rows: RuleRecord[]; total: number }> {
    const q = this.rules().where('r.ab_guid', '=', abGuid);
    const [rows, count] = await Promise.all([
      // everyone first, then groups, then users; by name within each
      q
        .orderBy(
          sql`CASE WHEN r.user_guid IS NOT NULL THEN 2 WHEN r.group_guid IS NOT NULL THEN 1 ELSE 0 END`,
        )
        .orderBy(sql`COALESCE(u.name_fold, g.name_fold, '')`)
        .orderBy('r.guid')
        .offset(offset)
        .limit(limit)
        .execute(),
      q
        .clearSelect()
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  getRule(guid: string): Promise<RuleRecord | undefined> {
    return this.rules().where('r.guid', '=', guid).executeTakeFirst();
  }

  getRules(guids: readonly string[]): Promise<RuleRecord[]> {
    if (guids.length === 0) return Promise.resolve([]);
    return this.rules()
      .where('r.guid', 'in', [...guids])
      .execute();
  }

  /** Adds a rule (user, group, or both null: everyone); one rule per target and book. */
  async addRule(abGuid: string, target: { userGuid: string | null; groupGuid: string | null }, rule: number) {
    let q = this.db.selectFrom('ab_rules').select('guid').where('ab_guid', '=', abGuid);
    q = target.userGuid ? q.where('user_guid', '=', target.userGuid) : q.where('user_guid', 'is', null);
    q = target.groupGuid ? q.where('group_guid', '=', target.groupGuid) : q.where('group_guid', 'is', null);
    const existing = await q.executeTakeFirst();
    if (existing) {
      throw new AddressBookError(
        'conflict',
        `a rule for this target already exists (rule ${existing.guid}): change it with update-rule`,
      );
    }
    const ts = this.ts();
    const guid = newGuid(this.now().getTime());
    try {
      await this.db
        .insertInto('ab_rules')
        .values({
          guid,
          ab_guid: abGuid,
          user_guid: target.userGuid,
          group_guid: target.groupGuid,
          rule,
          created_at: ts,
          updated_at: ts,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AddressBookError(
          'conflict',
          'a rule for this target already exists: change it with update-rule',
        );
      throw err;
    }
    return guid;
  }

  async updateRule(guid: string, rule: number): Promise<void> {
    await this.db
      .updateTable('ab_rules')
      .set({ rule, updated_at: this.ts() })
      .where('guid', '=', guid)
      .execute();
  }

  async deleteRules(guids: readonly string[]): Promise<void> {
    await this.db
      .deleteFrom('ab_rules')
      .where('guid', 'in', [...guids])
      .execute();
  }

  // ---- device assignment ----

  /**
   * Puts a device (by RustDesk ID) into the named shared address book: the `ab` assignment type of
   * POST /api/devices/{guid}/assign, `--assign --address_book_name …` (/api/devices/cli) and the
   * `preset-address-book-*` sysinfo keys. The peer entry is created, or updated if it is already
   * there: a given alias, password (the peer's own, not the book's) or note replaces the old one;
   * a given tag is added to the peer's tags and created in the book (automatic colour) if missing.
   * Empty strings count as not given. Checks max_peer_one_ab. Writes one console record (address
   * book, code 17) attributed to `operatorGuid`. Throws an AddressBookError (an Error whose message
   * names the problem) when the book does not exist or is full, or the ID is empty.
   */
  async assignDeviceToSharedBook(opts: AssignToBookOptions): Promise<void> {
    const id = opts.deviceId.trim();
    if (!id) throw new AddressBookError('invalid', 'the device ID is empty');
    const given = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
    const tag = given(opts.tag?.trim());
    const alias = given(opts.alias);
    const password = given(opts.password);
    const note = given(opts.note);
    let detail = '';
    const max = await this.maxPeers();
    await transact(this.db, async (trx) => {
      const book = await this.getSharedByName(opts.bookName, trx);
      if (!book) {
        throw new AddressBookError(
          'not_found',
          `shared address book '${opts.bookName}' does not exist (names are case-sensitive)`,
        );
      }
      const label = `address book '${book.name}'`;
      const created = await this.ensureTags(trx, book.guid, tag ? [tag] : []);
      const existing = await trx
        .selectFrom('ab_peers')
        .select('tags')
        .where('ab_guid', '=', book.guid)
        .where('id', '=', id)
        .executeTakeFirst();
      const patch: PeerInput = { alias, password, note };
      if (existing) {
        const tags = tagsOf(existing.tags);
        if (tag && !tags.includes(tag)) patch.tags = [...tags, tag];
        await trx
          .updateTable('ab_peers')
          .set({ ...this.peerColumns(patch), updated_at: this.ts() })
          .where('ab_guid', '=', book.guid)
          .where('id', '=', id)
          .execute();
      } else {
        await this.insertPeer(trx, { guid: book.guid, label }, id, { ...patch, tags: tag ? [tag] : [] }, max);
      }
      const parts = [
        tag ? `tag '${tag}'${created.length ? ' (new)' : ''}` : '',
        alias ? `alias '${alias}'` : '',
        password ? 'a password' : '',
        note ? 'a note' : '',
      ].filter(Boolean);
      detail = `${existing ? 'updated' : 'added'} device ${id} in ${label} by assignment${parts.length ? ` with ${parts.join(', ')}` : ''}`;
      if (created.length) {
        const t = await trx
          .selectFrom('ab_tags')
          .select('color')
          .where('ab_guid', '=', book.guid)
          .where('name', '=', tag!)
          .executeTakeFirstOrThrow();
        detail += `; created tag '${tag}' (${formatColor(t.color)})`;
      }
    });
    const operator = opts.operatorGuid
      ? await this.db
          .selectFrom('users')
          .select('name')
          .where('guid', '=', opts.operatorGuid)
          .executeTakeFirst()
      : undefined;
    await this.audit.console({
      typ: ConsoleType.addressBook,
      iop: ConsoleOp.changeAddressBook,
      operatorGuid: opts.operatorGuid ?? null,
      operator: operator?.name ?? '',
      ip: '',
      detail,
    });
  }
}
