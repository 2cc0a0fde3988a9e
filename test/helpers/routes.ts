import { Agent, request } from 'undici';
import { z } from 'zod';
import { createApp } from '../../src/server/app';
import type { Access, RouteSpec } from '../../src/server/routes';
import type { Store } from '../../src/server/store';
import { AREAS, type Area } from '../../src/wire/scopes';

// The route registry as the generic tests see it: every RouteSpec with its declared access,
// classified strictly (an access rule the tests do not know fails them), and a raw HTTP sender
// that can put any bytes in a request.

export type AccessClass =
  | { kind: 'public' }
  | { kind: 'session' }
  | { kind: 'admin-session' }
  | { kind: 'authenticated' }
  | { kind: 'area'; area: Area; level: 'r' | 'rw'; allowUserSession: boolean };

/** Classifies a declared access rule; throws for anything the authorization matrix does not know. */
export function classify(access: Access | unknown): AccessClass {
  if (access === 'public' || access === 'session' || access === 'admin-session' || access === 'authenticated')
    return { kind: access };
  if (access !== null && typeof access === 'object') {
    const a = access as Record<string, unknown>;
    const extra = Object.keys(a).filter((k) => !['area', 'level', 'allowUserSession'].includes(k));
    if (
      extra.length === 0 &&
      typeof a['area'] === 'string' &&
      (AREAS as readonly string[]).includes(a['area']) &&
      (a['level'] === 'r' || a['level'] === 'rw') &&
      (a['allowUserSession'] === undefined || typeof a['allowUserSession'] === 'boolean')
    ) {
      return {
        kind: 'area',
        area: a['area'] as Area,
        level: a['level'],
        allowUserSession: a['allowUserSession'] === true,
      };
    }
  }
  throw new Error(`access rule the authorization matrix cannot classify: ${JSON.stringify(access)}`);
}

export function routeName(spec: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${spec.method} ${spec.path}`;
}

/**
 * Every route of the app: the specs registered through the RouteTable, checked against what the
 * router itself holds, so a handler added to the app behind the registry's back is caught.
 */
export function registry(store: Store): { specs: RouteSpec[]; unregistered: string[] } {
  const { app, routes } = createApp({
    store,
    clock: () => new Date(),
    log: () => {},
    config: { invitationTtl: 60 },
  });
  const declared = new Set(routes.map((r) => `${r.method} ${r.path.replace(/\{(\w+)\}/g, ':$1')}`));
  const unregistered = app.routes
    .filter((r) => r.method !== 'ALL') // the request-log/security-header middleware
    .map((r) => `${r.method} ${r.path}`)
    .filter((r) => !declared.has(r));
  return { specs: routes, unregistered };
}

export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** The path with every `{param}` replaced by the (percent-encoded) value. */
export function fillPath(path: string, value: string | ((name: string) => string)): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(typeof value === 'string' ? value : value(name)),
  );
}

/** The JSON schema (input side) of a zod schema, as the OpenAPI document shows it. */
export function jsonSchemaOf(schema: z.ZodType | undefined): JsonSchema | undefined {
  if (!schema) return undefined;
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const agent = new Agent({ connections: 16, keepAliveTimeout: 10_000 });

/** One request with any method, headers and body bytes (undici, no client-side validation). */
export async function send(
  base: string,
  o: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawAnswer> {
  const res = await request(`${base}${o.path}`, {
    method: o.method as 'GET',
    headers: o.headers,
    body: o.body,
    dispatcher: agent,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/** Signs of an internal leaking out: a stack frame, SQL text, SQLite error names, file paths. */
export const LEAK_MARKERS: [string, RegExp][] = [
  ['a stack frame', /\bat (?:\S+ )?\(?(?:file:|node:|\/)[^\s)]*:\d+:\d+\)?/],
  ['a stack frame', /^\s+at \S/m],
  ['SQLite', /SQLITE/],
  ['SQL text', /\b(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/],
  ['node_modules', /node_modules/],
  ['a source path', /\/src\/server\//],
];

export function leaks(text: string): string | undefined {
  for (const [what, re] of LEAK_MARKERS) if (re.test(text)) return what;
  return undefined;
}
