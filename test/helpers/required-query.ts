import type { z } from 'zod';
import type { RouteSpec } from '../../src/server/routes';
import type { TestServer } from './server';

/**
 * Values for the required query parameters of list routes (e.g. `ab`, the address book whose
 * peers are listed), so generic tests can call every list route. A route with a required
 * parameter missing here fails loudly: add it.
 */
export async function requiredQueryFor(s: TestServer): Promise<(spec: RouteSpec) => string> {
  const admin = (await s.store.users.getByName('admin'))!;
  const book =
    (await s.store.addressBooks.getSharedByName('Generic tests'))?.guid ??
    (await s.store.addressBooks.createShared({ name: 'Generic tests', ownerGuid: admin.guid }));
  const known: Record<string, string> = { ab: book };
  return (spec) => {
    const shape = (spec.query as { shape?: Record<string, z.ZodType> } | undefined)?.shape ?? {};
    const parts: string[] = [];
    for (const [key, schema] of Object.entries(shape)) {
      if (schema.safeParse(undefined).success) continue;
      const value = known[key];
      if (value === undefined)
        throw new Error(`${spec.method} ${spec.path}: no test value for required parameter '${key}'`);
      parts.push(`${key}=${encodeURIComponent(value)}`);
    }
    return parts.join('&');
  };
}
