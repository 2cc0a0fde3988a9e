import { z } from 'zod';
import { ApiError } from '../cli/errors';
import { fastRows, NO } from './fast-rows';
import type { Query, Transport } from './transport';

export { collect } from './iter';

export interface PageOptions {
  pageSize: number;
  /** Safety stop for servers whose `total` never ends the loop. */
  maxPages?: number;
  /** Parses each page's JSON in place of JSON.parse (see RequestOptions.parse). */
  parse?: (text: string) => unknown;
  /**
   * Pages to ask for ahead of the one being read, once `total` says they exist (default 0: one
   * request at a time). The server works on the next pages while the rows of this one are handled;
   * rows still come in order, and at most this many pages wait in memory.
   */
  prefetch?: number;
  /**
   * false: a listing that changed while it was read is not read again (see paginate()). For the
   * audit logs, listed newest first: a record added meanwhile comes first and only pushes the rows
   * not read yet further back, where they are still read (those that come again are dropped by
   * `guid`), so a busy log would be read again and again for nothing. Records go only by retention,
   * the oldest first, from the end: that moves no record still to come (rdadmin serve drops a
   * connection by its end time, so a long one can outlast shorter ones listed before it, which may
   * then hide it from a listing running at that moment: rare, and not worth a second reading of
   * every busy log). Their rows need not carry a `guid` either.
   */
  reread?: boolean;
}

/** Rows of a listing asked for ahead of the one being read (at most; in batches where taken). */
const BATCHED_AHEAD = 2000;

/**
 * Readings of a listing that changed while it was read, the first one included: after the third
 * reading again, one that still changed ends the listing with a warning (rows may be missing).
 */
const MAX_PASSES = 4;

/** A listing as warnings name it: `/api/audits/conn` → `the audits conn listing`. */
function what(path: string): string {
  return `the ${path.replace(/^.*?\/api\//, '').replace(/\//g, ' ')} listing`;
}

function rows(n: number): string {
  return `${n.toLocaleString('en')} ${n === 1 ? 'row' : 'rows'}`;
}

const Envelope = z.looseObject({ data: z.array(z.unknown()).nullish(), total: z.number().nullish() });

/**
 * Streams every row of a list endpoint: `current` from 1, step 1; stops on a short page or when
 * `current × pageSize ≥ total` (when `total` is absent, on the first short page). A short page
 * that leaves rows of `total` unread is an error, not a silent truncation. Rows whose
 * `guid` was already seen are dropped; a page of nothing new ends the loop with an error.
 *
 * A listing read page by page (`current`, `pageSize`: all Pro's API offers) while other clients
 * change it can miss rows that matched all along: when rows that sort before the next page are
 * removed (deleted, or out of the filter), the rows after them move back onto pages already read.
 * (Rows added before it push rows forward instead: they come again, and are dropped by `guid`.)
 * Only the client can make up for it, so each reading of the listing (a pass, from page 1 on) is
 * checked, at no cost in requests: did every page's answer carry the `total` the first page did,
 * and did no row come twice within the pass? If so, the pass is taken as whole (so a listing that
 * holds still costs exactly the requests it did before, its rows streamed in order, and warns of
 * nothing). If not, once the pass is through, the listing is read again from page 1 and the rows
 * not handed on yet (by `guid`: kept anyway) are handed on after the others, until a pass changes
 * nothing (at most MAX_PASSES passes), and a warning tells how many rows came from the readings
 * again, or that rows may be missing when the listing never held still.
 *
 * Any change of `total` counts, not only a fall: a row removed before the read position and one
 * added after it (a device moved out of a group and another in) leave `total` as it was, or higher
 * (two added), while the rows after the first still move back. A row that comes twice within a pass
 * (rows were added before the position) counts too: with `total` unchanged, something was removed
 * as well (and a server whose order is not stable, which also skips rows, shows the same way).
 * What stays unseen: a removal and an addition between the same two answers, the removed row
 * sorting before the read position and the added one after it, so that `total` and the rows read
 * look the same (comparing page 1 again after every pass would catch some of that, at the cost of a
 * request for every listing; it would not catch it all either).
 */
export async function* paginate<T extends z.ZodType>(
  t: Transport,
  p: string,
  query: Query,
  row: T,
  opts: PageOptions,
): AsyncGenerator<z.infer<T>> {
  // How far the listing has got, told to the transport's `rows` observer after each page and once
  // at its end, however it ends (the CLI shows it on a terminal while a long listing is written
  // elsewhere).
  const count = { read: 0, total: undefined as number | undefined };
  try {
    // Each row's `guid`, with the pass that last read it: a row read in an earlier pass is not handed
    // on again; one read twice in the same pass shows that the listing moved (see above).
    const seen = new Map<string, number>();
    // The schema's direct parser when it has one (same verdict and output as zod; see fast-rows.ts).
    const fast = fastRows(row);
    const maxPages = opts.maxPages ?? 100_000;
    const prefetch = opts.prefetch ?? 0;
    // Pages asked for ahead may go out together in a batch; the page waited for goes alone.
    const fetchPage = (current: number, ahead = false) =>
      t.call('GET', p, {
        query: { ...query, current, pageSize: opts.pageSize },
        schema: Envelope,
        parse: opts.parse,
        batch: ahead,
      });
    const ahead = new Map<number, ReturnType<typeof fetchPage>>();
    // Rows handed on by the passes after the first; whether a row came without a `guid` (such a
    // listing cannot be read again: those rows would come twice).
    let again = 0;
    let guidless = false;
    for (let pass = 1; ; pass++) {
      // The pages asked ahead in the pass before belong to it.
      ahead.clear();
      // The first page's `total`, and whether the listing moved during this pass.
      let first: number | undefined;
      let moved = false;
      let current = 1;
      for (; current <= maxPages; current++) {
        // The rows already handed on are not all taken yet (stdout read slowly): read no further.
        const wait = current > 1 || pass > 1 ? t.pace() : undefined;
        if (wait) await wait;
        const early = ahead.get(current);
        ahead.delete(current);
        const body = await (early ?? fetchPage(current));
        // A server that takes batches gets the pages ahead in batches (one round trip for many): about
        // BATCHED_AHEAD rows are kept asked for, topped up once half have been read, so that each batch
        // holds many pages. Otherwise, and for pages so large that this would be no more pages than
        // `prefetch` (batches would only add the cost of reading answers inside answers), `prefetch`
        // pages ahead, each its own request, but no more than BATCHED_AHEAD rows (at least one page):
        // large pages waiting cost memory.
        const wide = Math.floor(BATCHED_AHEAD / opts.pageSize);
        const batched = t.batchSize() > 1 && wide > prefetch;
        const depth = batched ? wide : Math.min(prefetch, Math.max(1, wide));
        const furthest = ahead.size ? Math.max(...ahead.keys()) : current;
        if (prefetch > 0 && typeof body?.total === 'number' && !(batched && furthest - current > depth / 2)) {
          const last = Math.min(maxPages, Math.ceil(body.total / opts.pageSize), current + depth);
          for (let next = current + 1; next <= last; next++) {
            if (ahead.has(next)) continue;
            const page = fetchPage(next, true);
            page.catch(() => undefined); // reported when its turn comes, or dropped if it never does
            ahead.set(next, page);
          }
        }
        const total = typeof body?.total === 'number' ? body.total : undefined;
        // (An answer without `total` says nothing either way.)
        if (current === 1) first = total;
        else if (total !== undefined && first !== undefined && total !== first) moved = true;
        const data = body?.data ?? [];
        // Rows handed on from this page; rows of it not read before in this pass.
        let fresh = 0;
        let unread = 0;
        for (const raw of data) {
          let value = fast ? fast(raw) : NO;
          if (value === NO) {
            const parsed = row.safeParse(raw);
            if (!parsed.success) {
              const issue = parsed.error.issues[0];
              throw new ApiError(
                `unexpected row from ${p}: ${issue?.path.join('.') || 'row'} ${issue?.message ?? 'is invalid'}`,
                200,
              );
            }
            value = parsed.data;
          }
          const guid = (value as { guid?: unknown }).guid;
          if (typeof guid === 'string') {
            const at = seen.get(guid);
            if (at === pass) {
              moved = true;
              continue;
            }
            seen.set(guid, pass);
            unread++;
            if (at !== undefined) continue;
          } else {
            guidless = true;
            unread++;
          }
          fresh++;
          if (pass > 1) again++;
          yield value as z.infer<T>;
        }
        count.read += fresh;
        count.total = total;
        t.rowsRead(p, count.read, total, false);
        if (total !== undefined && current * opts.pageSize >= total) break;
        if (data.length < opts.pageSize) {
          // A short page ends the listing, unless `total` says rows are missing: a server that caps
          // page sizes would otherwise truncate the result without a word.
          if (total !== undefined && data.length > 0 && (current - 1) * opts.pageSize + data.length < total) {
            throw new ApiError(
              `${p} returned ${data.length} rows for pageSize=${opts.pageSize} on page ${current}, but reports ${total} in all; the server may cap page sizes`,
              200,
              `set RDADMIN_PAGE_SIZE=${data.length} and run again`,
            );
          }
          break;
        }
        if (unread === 0)
          throw new ApiError(`the server repeated page ${current} of ${p}: pagination is inconsistent`, 200);
      }
      if (current > maxPages)
        throw new ApiError(
          `stopped after ${maxPages} pages of ${p}: the server keeps reporting more rows`,
          200,
        );
      if (!moved || opts.reread === false) {
        if (pass > 1)
          t.notify(
            `${what(p)} changed while it was read (rows were removed or added meanwhile), so it was read again from the first page${pass > 2 ? ` ${pass - 1} times` : ''}: ${rows(again)} came from ${pass > 2 ? 'the readings' : 'the reading'} again, after the others`,
          );
        return;
      }
      if (guidless) {
        t.incompleteListing ??= what(p);
        t.notify(
          `${what(p)} changed while it was read (rows were removed or added meanwhile) and its rows carry no guid, so it cannot be read again without repeating rows: rows may be missing; run the command again once the changes are done`,
        );
        return;
      }
      if (pass >= MAX_PASSES) {
        t.incompleteListing ??= what(p);
        t.notify(
          `${what(p)} kept changing while it was read (rows were removed or added meanwhile; read ${pass} times from the first page), so rows may be missing: ${rows(again)} came from the readings again, after the others; run the command again once the changes are done`,
        );
        return;
      }
    }
  } finally {
    t.rowsRead(p, count.read, count.total, true);
  }
}
