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
}

/** Rows of a listing asked for ahead of the one being read (at most; in batches where taken). */
const BATCHED_AHEAD = 2000;

const Envelope = z.looseObject({ data: z.array(z.unknown()).nullish(), total: z.number().nullish() });

/**
 * Streams every row of a list endpoint: `current` from 1, step 1; stops on a short page or when
 * `current × pageSize ≥ total` (when `total` is absent, on the first short page). A short page
 * that leaves rows of `total` unread is an error, not a silent truncation. Rows whose
 * `guid` was already seen are dropped; a page of nothing new ends the loop with an error.
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
    const seen = new Set<string>();
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
    for (let current = 1; current <= maxPages; current++) {
      // The rows already handed on are not all taken yet (stdout read slowly): read no further.
      const wait = current > 1 ? t.pace() : undefined;
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
      const data = body?.data ?? [];
      let fresh = 0;
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
          if (seen.has(guid)) continue;
          seen.add(guid);
        }
        fresh++;
        yield value as z.infer<T>;
      }
      const total = typeof body?.total === 'number' ? body.total : undefined;
      count.read += fresh;
      count.total = total;
      t.rowsRead(p, count.read, total, false);
      if (total !== undefined && current * opts.pageSize >= total) return;
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
        return;
      }
      if (fresh === 0)
        throw new ApiError(`the server repeated page ${current} of ${p}: pagination is inconsistent`, 200);
    }
    throw new ApiError(`stopped after ${maxPages} pages of ${p}: the server keeps reporting more rows`, 200);
  } finally {
    t.rowsRead(p, count.read, count.total, true);
  }
}
