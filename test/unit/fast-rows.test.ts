import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type z, z as zod } from 'zod';
import { fastRows, NO } from '../../src/client/fast-rows';
import { AbPeerRow, AbProfileRow, AbRecycledRow, AbRuleRow } from '../../src/wire/ab';
import { AuditAlarmRow, AuditConnRow, AuditConsoleRow, AuditFileRow } from '../../src/wire/audits';
import { DeviceRow } from '../../src/wire/devices';
import { AccessibleRow, DeviceGroupRow, UserGroupRow } from '../../src/wire/groups';
import { UserRow } from '../../src/wire/users';

// The direct row parser must agree with zod on every row it accepts: the same verdict, the same
// output, down to key order and keys holding `undefined`. (A row it refuses goes to zod anyway.)

const ROWS: Record<string, z.ZodType> = {
  UserRow,
  DeviceRow,
  UserGroupRow,
  DeviceGroupRow,
  AccessibleRow,
  AbPeerRow,
  AbProfileRow,
  AbRecycledRow,
  AbRuleRow,
  AuditConnRow,
  AuditFileRow,
  AuditAlarmRow,
  AuditConsoleRow,
};

/** Keys in order, recursively, with `undefined` kept: what JSON.stringify would lose. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object')
    return Object.keys(v).map((k) => [k, shape((v as Record<string, unknown>)[k])]);
  return v === undefined ? '<undefined>' : v;
}

/** Values near what a server sends for each key of the schema, often of the wrong kind. */
function rowArbitrary(schema: z.ZodType): fc.Arbitrary<unknown> {
  const keys = Object.keys((schema as unknown as { shape: Record<string, unknown> }).shape ?? {});
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom('device_name', 'username', 'os', 'email_verification', 'x'),
      fc.oneof(fc.string(), fc.boolean(), fc.constant(null)),
    ),
    fc.constant(2 ** 60),
    fc.bigInt(),
  );
  const entries = fc.array(
    fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string(), fc.constant('__proto__')), value),
    { maxLength: keys.length + 3 },
  );
  return fc.oneof(
    { weight: 8, arbitrary: entries.map((e) => Object.fromEntries(e)) },
    { weight: 1, arbitrary: fc.anything() },
  );
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Values the schema accepts, mostly, and now and then one of another kind (never a "__proto__" key). */
function valid(schema: z.ZodType): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const wrong = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant([1]));
  const right = ((): fc.Arbitrary<unknown> => {
    switch (def.type) {
      case 'string':
        return fc.string();
      case 'number':
        return fc.oneof(
          fc.integer(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.constant(2 ** 60),
        );
      case 'boolean':
        return fc.boolean();
      case 'bigint':
        return fc.bigInt();
      case 'unknown':
      case 'any':
        return fc.jsonValue();
      case 'optional':
        return fc.oneof(fc.constant(undefined), valid(def.innerType!));
      case 'nullable':
        return fc.oneof(fc.constant(null), valid(def.innerType!));
      case 'array':
        return fc.array(valid(def.element!), { maxLength: 3 });
      case 'union':
        return fc.oneof(...def.options!.map(valid));
      case 'record':
        return fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          valid(def.valueType!),
          { maxKeys: 3 },
        );
      case 'object': {
        const fields = Object.entries(def.shape!);
        return fc
          .tuple(
            fc.tuple(...fields.map(([, f]) => fc.option(valid(f), { freq: 6, nil: undefined }))),
            fc.boolean(),
            fc.dictionary(
              fc.string().filter((k) => k !== '__proto__'),
              fc.jsonValue(),
              { maxKeys: 2 },
            ),
          )
          .map(([values, keepUndefined, extra]) => {
            const o: Record<string, unknown> = { ...extra };
            fields.forEach(([k], i) => {
              if (values[i] !== undefined || keepUndefined) o[k] = values[i];
            });
            return o;
          })
          .chain((o) => {
            // The keys in the order made above (others first), known keys first as a server sends
            // them (the row may then be returned as it is), or shuffled.
            const keys = Object.keys(o);
            const inOrder = (order: string[]) => Object.fromEntries(order.map((k) => [k, o[k]]));
            const knownFirst = [
              ...fields.map(([k]) => k).filter((k) => Object.hasOwn(o, k)),
              ...keys.filter((k) => !Object.hasOwn(def.shape!, k)),
            ];
            return fc.oneof(
              fc.constant(o),
              fc.constant(inOrder(knownFirst)),
              fc.shuffledSubarray(keys, { minLength: keys.length }).map(inOrder),
            );
          });
      }
      default:
        throw new Error(`no generator for ${def.type}`);
    }
  })();
  return fc.oneof({ weight: 30, arbitrary: right }, { weight: 1, arbitrary: wrong });
}

describe('fastRows', () => {
  it('handles every row schema the listings use', () => {
    for (const [name, schema] of Object.entries(ROWS)) expect(fastRows(schema), name).not.toBeNull();
  });

  for (const [name, schema] of Object.entries(ROWS)) {
    it(`${name}: whatever it accepts, zod accepts with the same output`, () => {
      const parse = fastRows(schema)!;
      fc.assert(
        fc.property(rowArbitrary(schema), (row) => {
          const fast = parse(row);
          if (fast === NO) return true;
          const slow = schema.safeParse(row);
          return slow.success && isDeepStrictEqual(shape(fast), shape(slow.data));
        }),
        { numRuns: 400 },
      );
    });
  }

  for (const [name, schema] of Object.entries(ROWS)) {
    it(`${name}: rows shaped like the schema get the same verdict and output from both`, () => {
      const parse = fastRows(schema)!;
      let accepted = 0;
      fc.assert(
        fc.property(valid(schema), (row) => {
          const fast = parse(row);
          const slow = schema.safeParse(row);
          if (fast !== NO) accepted++;
          return (
            (fast !== NO) === slow.success &&
            (!slow.success || isDeepStrictEqual(shape(fast), shape(slow.data)))
          );
        }),
        // Enough runs that the valid rows are never too few by chance: UserRow's generator makes
        // about one valid row in seven (137-148 of 1,000 in three runs); 400 runs once gave 39 of
        // the 40 demanded below.
        { numRuns: 1000 },
      );
      expect(accepted, 'rows the fast path took').toBeGreaterThan(40);
    });
  }

  it('accepts the rows a server sends (not only odd ones)', () => {
    const user = {
      guid: 'g',
      name: 'bob',
      email: null,
      status: 1,
      is_admin: false,
      info: { email_verification: true },
      extra: [1],
    };
    expect(fastRows(UserRow)!(user)).toEqual(UserRow.parse(user));
    const device = {
      guid: 'g',
      id: '123',
      info: { os: 'linux', x: 1 },
      status: 1,
      is_online: true,
      note: '',
    };
    expect(JSON.stringify(fastRows(DeviceRow)!(device))).toBe(JSON.stringify(DeviceRow.parse(device)));
  });

  it('returns a row that needs no rebuilding as it is, and rebuilds the others', () => {
    const parse = fastRows(UserRow)!;
    const row = JSON.parse(
      '{"guid":"g","name":"bob","status":1,"info":{"login_device_whitelist":[],"other":{"k":"v"}},"x":1}',
    );
    expect(parse(row)).toBe(row);
    // A known key after another one: zod puts it first, so the row is rebuilt in that order.
    const late = JSON.parse('{"guid":"g","x":1,"name":"bob","status":1}');
    const out = parse(late);
    expect(out).not.toBe(late);
    expect(Object.keys(out as object)).toEqual(['guid', 'name', 'status', 'x']);
    // A record with a null prototype is rebuilt as a plain object, as zod does.
    const other = Object.assign(Object.create(null), { k: 'v' });
    const nested = parse({ guid: 'g', name: 'bob', status: 1, info: { other } }) as {
      info: { other: object };
    };
    expect(Object.getPrototypeOf(nested.info.other)).toBe(Object.prototype);
    expect(nested.info.other).toEqual({ k: 'v' });
  });

  it('refuses what it does not know: checks, transforms, defaults, strict or stripping objects', () => {
    for (const s of [
      zod.looseObject({ a: zod.string().min(1) }),
      zod.looseObject({ a: zod.string().transform((x) => x.length) }),
      zod.looseObject({ a: zod.string().default('x') }),
      zod.object({ a: zod.string() }),
      zod.strictObject({ a: zod.string() }),
      zod.looseObject({ a: zod.number().min(0) }),
      zod.looseObject({ a: zod.record(zod.string().min(1), zod.string()) }),
    ])
      expect(fastRows(s)).toBeNull();
  });
});
