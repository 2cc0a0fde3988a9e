import { z } from 'zod';

/** Every error the server sends, and every error a Pro server sends: `{"error": "..."}`. */
export const ErrorBody = z.object({ error: z.string() });

/** A JSON `null` read as the key left out (so that its default applies). */
const nullAsMissing = (v: unknown) => (v === null ? undefined : v);

/**
 * `{data, total}` list envelope. Extra fields are tolerated: a newer Pro may add some. A missing
 * or `null` `data` is no rows, a missing or `null` `total` is 0 (pro-admin-api.md §1.4), as
 * paginate() reads them.
 */
export function listOf<T extends z.ZodType>(row: T) {
  return z.looseObject({
    data: z.preprocess(nullAsMissing, z.array(row).default([])),
    total: z.preprocess(nullAsMissing, z.number().int().nonnegative().default(0)),
  });
}

export const Guid = z.string().min(1).max(200);
export const GuidList = z.array(Guid).min(1, 'at least one GUID is required').max(10_000);

export const MAX_PAGE_SIZE = 1000;

/** `current` / `pageSize` query parameters, validated (decimal strings on the wire). */
export const PageQuery = z.object({
  current: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be 1 or more')
    .max(1_000_000_000, 'is too large')
    .default(1),
  pageSize: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be 1 or more')
    .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
    .default(10),
});
