import type { z } from 'zod';

// Listings validate every row with its zod schema. For the plain shapes of response rows (loose
// objects of strings, numbers, booleans, arrays and nested loose objects, optional or nullable),
// zod's general machinery costs more than the check itself in a short-lived CLI (validating no row
// at all makes `users view --json` over 10,000 users a sixth faster; this parser recovers about half
// of that, see docs/performance.md). fastRows() turns such a schema into a direct function that
// accepts exactly what the schema accepts and builds the same output (known keys in the schema's
// order, then the others in the input's order; nested objects and arrays rebuilt the same way).
// Anything it does not know (a check, a transform, a default, a strict or stripping object) makes
// it give up, and the caller keeps using zod. When the direct function rejects a row, the caller
// asks zod again, so every error message is zod's.

/** Returns the parsed row, or NO when the row must go to zod. */
export type RowParser = (value: unknown) => unknown;
export const NO: unique symbol = Symbol('not a fast-path row');

type Node = (v: unknown) => unknown;

/** zod's internal definition, as far as this module reads it. */
interface Def {
  type: string;
  checks?: { _zod: { def: { check?: string; format?: string } } }[];
  innerType?: Schema;
  element?: Schema;
  options?: Schema[];
  keyType?: Schema;
  valueType?: Schema;
  shape?: Record<string, Schema>;
  catchall?: Schema;
}
interface Schema {
  _zod: { def: Def };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function compile(s: Schema): Node | null {
  const def = s._zod.def;
  const checks = def.checks ?? [];
  switch (def.type) {
    case 'string':
      return checks.length ? null : (v) => (typeof v === 'string' ? v : NO);
    case 'boolean':
      return checks.length ? null : (v) => (typeof v === 'boolean' ? v : NO);
    case 'bigint':
      return checks.length ? null : (v) => (typeof v === 'bigint' ? v : NO);
    case 'number': {
      if (checks.length === 0) return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : NO);
      const only = checks.length === 1 ? checks[0]!._zod.def : undefined;
      if (only?.check === 'number_format' && only.format === 'safeint')
        return (v) => (Number.isSafeInteger(v) ? v : NO);
      return null;
    }
    case 'unknown':
    case 'any':
      return (v) => v;
    case 'optional': {
      const inner = def.innerType && compile(def.innerType);
      return inner ? (v) => (v === undefined ? v : inner(v)) : null;
    }
    case 'nullable': {
      const inner = def.innerType && compile(def.innerType);
      return inner ? (v) => (v === null ? v : inner(v)) : null;
    }
    case 'array': {
      const el = !checks.length && def.element ? compile(def.element) : null;
      if (!el) return null;
      return (v) => {
        if (!Array.isArray(v)) return NO;
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const x = el(v[i]);
          if (x === NO) return NO;
          out[i] = x;
        }
        return out;
      };
    }
    case 'object': {
      // Only loose objects (catchall unknown): they keep every key, as zod's looseObject does.
      if (checks.length || !def.shape || def.catchall?._zod.def.type !== 'unknown') return null;
      const fields: [string, Node][] = [];
      for (const [k, f] of Object.entries(def.shape)) {
        const c = compile(f);
        if (!c) return null;
        fields.push([k, c]);
      }
      const known = new Set(fields.map(([k]) => k));
      return (v) => {
        if (!isObject(v)) return NO;
        const out: Record<string, unknown> = {};
        for (const [k, c] of fields) {
          const x = c(v[k]);
          if (x === NO) return NO;
          if (Object.hasOwn(v, k)) out[k] = x;
        }
        for (const k of Object.keys(v)) {
          if (known.has(k)) continue;
          if (k === '__proto__') return NO; // an own "__proto__" key: leave it to zod
          out[k] = v[k];
        }
        return out;
      };
    }
    case 'union': {
      // zod takes the first option that accepts the value.
      const options = (def.options ?? []).map(compile);
      if (!options.length || options.some((o) => !o)) return null;
      return (v) => {
        for (const o of options as Node[]) {
          const x = o(v);
          if (x !== NO) return x;
        }
        return NO;
      };
    }
    case 'record': {
      // String keys only; anything unusual about the object is left to zod.
      const key = def.keyType?._zod.def;
      const value = def.valueType && compile(def.valueType);
      if (!value || key?.type !== 'string' || key.checks?.length) return null;
      return (v) => {
        const proto = isObject(v) ? Object.getPrototypeOf(v) : undefined;
        if (proto !== Object.prototype && proto !== null) return NO;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(v as object)) {
          if (k === '__proto__') return NO;
          const x = value((v as Record<string, unknown>)[k]);
          if (x === NO) return NO;
          out[k] = x;
        }
        return out;
      };
    }
    default:
      return null;
  }
}

const cache = new WeakMap<object, RowParser | null>();

/** The direct parser for this row schema, or null when the schema is beyond it (use zod). */
export function fastRows(schema: z.ZodType): RowParser | null {
  let p = cache.get(schema);
  if (p === undefined) {
    p = compile(schema as unknown as Schema);
    cache.set(schema, p);
  }
  return p;
}
