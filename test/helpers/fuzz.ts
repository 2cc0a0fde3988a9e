import fc from 'fast-check';
import type { RouteSpec } from '../../src/server/routes';
import { type JsonSchema, jsonSchemaOf } from './routes';

// Request generators for the fuzz test, derived from each route's declared body and query schemas:
// mostly "almost valid" input (so requests get past validation into the handlers and the SQL),
// mutated with wrong types, missing and extra fields, and hostile strings everywhere.

/** Strings that have broken servers: SQL and LIKE metacharacters, quotes, escapes, unicode. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '-',
  '%',
  '_',
  '%%',
  '%_%',
  '\\',
  'a\\',
  '\\%',
  '\\_',
  '\\\\',
  "'",
  '"',
  '`',
  "''",
  "' or '1'='1",
  "'; drop table users; --",
  '"); delete from users where ("1"="1',
  '--',
  '/*',
  '*/',
  ';',
  '?',
  '?1',
  ':name',
  '$1',
  '@p',
  'null',
  'NULL',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '1e309',
  '-0',
  '0x10',
  '9007199254740993',
  '__proto__',
  'constructor',
  'toString',
  '{}',
  '[]',
  '\u0000',
  'a\u0000b',
  'abc\u0000def', // a NUL after three characters: a trigram query would carry it
  '\u0007\u001b[31m',
  '\r\n',
  '\t',
  'ÄÖÜ straße',
  'İstanbul',
  'ǅ',
  'ﬃ',
  'é',
  'é',
  '😀',
  '👩‍👩‍👧',
  '\u202e\u202d',
  '\ufeff',
  '\ud800',
  '\udfff',
  '日本語',
  'עברית',
  '..',
  '../..',
  '%2e%2e',
  '%2F',
  '%00',
  '%ZZ',
  '%E0%A4%A',
  '#',
  '&',
  '=',
  '+',
  '<script>alert(1)</script>',
  '$' + '{7*7}',
  '{{7*7}}',
  'a'.repeat(101),
  'b'.repeat(2001),
  'c'.repeat(10_001),
];

export function nastyString(pool: readonly string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: pool.length ? 3 : 0, arbitrary: pool.length ? fc.constantFrom(...pool) : fc.constant('') },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.oneof(fc.constantFrom(...NASTY_STRINGS.slice(0, 75)), fc.string({ maxLength: 5 })), {
          minLength: 2,
          maxLength: 4,
        })
        .map((parts) => parts.join('')),
    },
  );
}

const anyJson = fc.jsonValue({ maxDepth: 3 });

function integerArb(s: JsonSchema): fc.Arbitrary<number> {
  const min = s.minimum ?? -1_000_000;
  const max = s.maximum ?? 1_000_000;
  return fc.oneof(
    fc.integer({ min: Math.max(min, -1e9), max: Math.min(max, 1e9) }),
    fc.constantFrom(min - 1, max + 1, 0, -1, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER + 2, 1e308),
    fc.double(),
  );
}

/** A value for a JSON schema: usually valid, sometimes wrong in a way a client could get wrong. */
export function valueFor(
  s: JsonSchema | undefined,
  pool: readonly string[],
  depth = 0,
): fc.Arbitrary<unknown> {
  if (!s || depth > 4) return anyJson;
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => valueFor(a, pool, depth + 1)));
  if (s.const !== undefined) return fc.oneof({ weight: 5, arbitrary: fc.constant(s.const) }, anyJson);
  if (s.enum) return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...s.enum) }, nastyString(pool));
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((t) => valueFor({ ...s, type: t }, pool, depth)));
  const wrong = fc.oneof(anyJson, fc.constantFrom(null, true, 0, -1, '', [], {}));
  let right: fc.Arbitrary<unknown>;
  switch (types[0]) {
    case 'string':
      right = fc.oneof(
        { weight: 6, arbitrary: nastyString(pool) },
        {
          weight: 1,
          arbitrary: fc.constant('x'.repeat(Math.min((s.maxLength ?? 100_000) + 1, 200_000))),
        },
      );
      break;
    case 'integer':
      right = integerArb(s);
      break;
    case 'number':
      right = fc.oneof(fc.double(), integerArb(s));
      break;
    case 'boolean':
      right = fc.boolean();
      break;
    case 'null':
      right = fc.constant(null);
      break;
    case 'array':
      right = fc.array(valueFor(s.items, pool, depth + 1), { maxLength: 6 });
      break;
    case 'object':
      right = objectFor(s, pool, depth + 1);
      break;
    default:
      return anyJson;
  }
  return fc.oneof({ weight: 8, arbitrary: right }, { weight: 1, arbitrary: wrong });
}

/** An object for an object schema: declared fields (required ones usually present), plus extras. */
export function objectFor(
  s: JsonSchema,
  pool: readonly string[],
  depth = 0,
): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(props)) model[k] = valueFor(v, pool, depth);
  const required = (s.required ?? []).filter((k) => k in model);
  const declared = fc.oneof(
    { weight: 4, arbitrary: fc.record(model, { requiredKeys: required }) },
    { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) },
  );
  const keys = s.propertyNames ? valueFor(s.propertyNames, pool, depth) : nastyString(pool);
  const valueOfExtra =
    typeof s.additionalProperties === 'object' ? valueFor(s.additionalProperties, pool, depth) : anyJson;
  const extra = fc.dictionary(
    keys.map((k) => queryText(k)),
    valueOfExtra,
    { maxKeys: Object.keys(props).length ? 2 : 6 },
  );
  return fc
    .tuple(declared, fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extra }))
    .map(([d, e]) => ({ ...e, ...d }));
}

export interface FuzzRequest {
  path: string;
  /** Raw query string (without `?`), possibly with broken percent-encoding. */
  query: string;
  body?: string | Buffer;
  contentType?: string;
}

/** A generated value as text: objects as JSON (String() throws on one whose own `toString` is
 * not a function, e.g. `{"toString": 1}`, which the generators do make). */
function queryText(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

function encodeQuery(q: Record<string, unknown>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) qs.append(k, queryText(item));
    else qs.append(k, queryText(v));
  }
  return qs.toString();
}

const RAW_QUERIES = [
  'name=%',
  'name=%E0%A4%A',
  'name=%ZZ',
  'name=%%',
  'current=1&current=2',
  'pageSize=1&pageSize=1001',
  'pageSize',
  '=x',
  '&&&',
  'name[]=a&name[]=b',
  'name[a]=b',
  '__proto__[x]=1',
  'current=%00',
  'pageSize=1e3',
  'pageSize=+5',
  'current=0x10',
  'name=%ff%fe',
  'name=%ED%A0%80',
  `name=${'%25'.repeat(300)}`,
];

/** Percent-encodes a path segment; a lone surrogate becomes the bytes of an invalid UTF-8 sequence. */
export function encodeSegment(s: string): string {
  let out = '';
  for (const ch of s) {
    try {
      out += encodeURIComponent(ch);
    } catch {
      out += '%ED%A0%80';
    }
  }
  return out;
}

/** A random request for a route: path parameters, query and body all generated. */
export function requestFor(spec: RouteSpec, pool: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const params = [...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const pathArb = fc.tuple(...params.map(() => nastyString(pool))).map((values) => {
    let i = 0;
    return spec.path.replace(/\{(\w+)\}/g, () => encodeSegment(values[i++] ?? ''));
  });
  const querySchema = jsonSchemaOf(spec.query);
  const queryArb = fc.oneof(
    {
      weight: 5,
      arbitrary: (querySchema?.type === 'object' ? objectFor(querySchema, pool) : fc.constant({})).map(
        encodeQuery,
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERIES) },
    {
      weight: 1,
      arbitrary: fc.dictionary(nastyString(pool), nastyString(pool), { maxKeys: 3 }).map(encodeQuery),
    },
  );
  if (spec.method === 'GET') return fc.record({ path: pathArb, query: queryArb });
  const bodySchema = jsonSchemaOf(spec.body);
  const bodyArb: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
    {
      weight: bodySchema ? 8 : 1,
      arbitrary: valueFor(bodySchema, pool).map((v) => JSON.stringify(v) ?? 'null'),
    },
    { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('null', '0', '-1', '1e999', 'true', 'false', '"x"', '[]', '{}', '""'),
    },
    { weight: 1, arbitrary: nastyString(pool) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    undefined,
  );
  return fc.record({ path: pathArb, query: queryArb, body: bodyArb, contentType });
}

/** Nesting `depth` levels deep: arrays, or objects under `key`. */
export function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? '['.repeat(depth) + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Hostile bodies every non-GET route gets, whatever it declares. */
export function fixedBodies(
  spec: RouteSpec,
): { name: string; body?: string | Buffer; contentType?: string }[] {
  const shape = jsonSchemaOf(spec.body);
  const firstField = Object.keys(shape?.properties ?? {})[0] ?? 'name';
  const huge = (n: number) => JSON.stringify({ [firstField]: 'x'.repeat(n) });
  return [
    { name: 'no body' },
    { name: 'empty body', body: '' },
    { name: 'whitespace', body: ' \n\t ' },
    { name: 'bare null', body: 'null' },
    { name: 'bare number', body: '42' },
    { name: 'bare negative float', body: '-1.5e-300' },
    { name: 'bare true', body: 'true' },
    { name: 'bare false', body: 'false' },
    { name: 'bare string', body: '"hello"' },
    { name: 'bare array', body: '[1,2,3]' },
    { name: 'not JSON', body: '{name:' },
    { name: 'single quotes', body: "{'name':'x'}" },
    { name: 'trailing garbage', body: '{} {}' },
    { name: 'BOM then JSON', body: '\ufeff{}' },
    { name: 'invalid UTF-8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
    { name: 'NUL bytes', body: Buffer.from([0, 0, 0, 0]) },
    {
      name: '__proto__ pollution',
      body: '{"__proto__":{"is_admin":true},"constructor":{"prototype":{"x":1}}}',
    },
    { name: 'duplicate keys', body: `{"${firstField}":"a","${firstField}":{"b":1}}` },
    { name: '10,000 nested arrays', body: deep(10_000, 'array') },
    { name: '10,000 nested objects', body: deep(10_000, 'object') },
    { name: 'deep value inside a field', body: `{"${firstField}":${deep(10_000, 'array')},"id":"x"}` },
    { name: '100,000 nested arrays', body: deep(100_000, 'array') },
    { name: 'a 900 KiB string (under the limit)', body: huge(900 * 1024) },
    { name: 'a 1.5 MiB string (over the limit)', body: huge(1536 * 1024) },
    { name: 'a 1 MiB + 1 byte body', body: 'x'.repeat(1024 * 1024 + 1) },
    { name: 'a JSON body sent as form data', body: '{}', contentType: 'application/x-www-form-urlencoded' },
    { name: 'a huge number', body: `{"${firstField}":${'9'.repeat(5000)}}` },
    { name: '100,000 array items', body: `{"${firstField}":[${Array(100_000).fill('"x"').join(',')}]}` },
  ];
}

/**
 * A plausible valid value for a JSON schema, with `name` for every free string (so a create
 * request is valid and names the same record each time it is sent). Undefined when the schema
 * holds nothing to build from.
 */
export function validValue(s: JsonSchema | undefined, name: string): unknown {
  if (!s) return undefined;
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return validValue(alts[0], name);
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string': {
      if ((s as { format?: string }).format === 'email') return `${name}@example.com`;
      return name.padEnd(s.minLength ?? 0, '0').slice(0, s.maxLength ?? 1000);
    }
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return [validValue(s.items, name)].slice(0, s.maxItems ?? 1);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = validValue(v, name);
      return out;
    }
    default:
      return name;
  }
}
