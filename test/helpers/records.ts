import { expect } from 'vitest';
import type { TestServer } from './server';

// Small fixtures for tests that share one server between tests: fresh names, a listing's rows,
// a shared address book.

/**
 * A maker of names fresh for each test (the server is shared), holding LIKE's '_' and '%' (looked
 * up exactly) and a blank (so that commands to copy quote it): `Book 3_%x`.
 */
export function freshNames(): (prefix: string) => string {
  let n = 0;
  return (prefix) => `${prefix} ${++n}_%x`;
}

/** The rows `GET path` answers (a `{data}` envelope or a bare array), which must be a 200. */
export async function rowsOf(
  s: TestServer,
  path: string,
  token = s.token,
): Promise<Record<string, unknown>[]> {
  const r = await s.call('GET', path, token);
  expect(r.status, r.text).toBe(200);
  const j = r.json as unknown as { data?: Record<string, unknown>[] } | Record<string, unknown>[];
  return Array.isArray(j) ? j : (j.data ?? []);
}

/** A shared address book named `name`, made through the API. */
export async function newSharedBook(s: TestServer, name: string): Promise<{ name: string; guid: string }> {
  const r = await s.call('POST', '/api/ab/shared/add', s.token, { name });
  expect(r.status, r.text).toBe(200);
  return { name, guid: (r.json as unknown as { guid: string }).guid };
}
