import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatRules,
  groupNameProblem,
  INCOMING_TYPES,
  OUTGOING_TYPES,
  parseRuleList,
} from '../../src/wire/access';

describe('parseRuleList', () => {
  it('reads the scripts JSON and the KIND:NAME form alike', () => {
    const json = parseRuleList(
      '[{"type":0,"name":"Admins"},{"type":2,"name":"john"}]',
      '--accessed-from',
      INCOMING_TYPES,
    );
    const short = parseRuleList(' user-group:Admins , user:john ', '--accessed-from', INCOMING_TYPES);
    expect(json).toEqual([
      { type: 0, name: 'Admins' },
      { type: 2, name: 'john' },
    ]);
    expect(short).toEqual(json);
    expect(
      parseRuleList('user_group:A,ug:B,0:C,device_group:D,dg:E,1:F', '--access-to', OUTGOING_TYPES),
    ).toEqual([
      { type: 0, name: 'A' },
      { type: 0, name: 'B' },
      { type: 0, name: 'C' },
      { type: 1, name: 'D' },
      { type: 1, name: 'E' },
      { type: 1, name: 'F' },
    ]);
  });

  it("keeps ':' inside names, drops duplicates, and reads '[]' as an empty list", () => {
    expect(parseRuleList('user:a:b,user:a:b', '--accessed-from', INCOMING_TYPES)).toEqual([
      { type: 2, name: 'a:b' },
    ]);
    expect(parseRuleList('[]', '--access-to', OUTGOING_TYPES)).toEqual([]);
  });

  it.each([
    [
      '[{"type":1,"name":"X"}]',
      INCOMING_TYPES,
      '--accessed-from entry 1 ({"type":1,"name":"X"}): type 1 (device group) is not allowed here',
    ],
    [
      'user:john',
      OUTGOING_TYPES,
      '--x entry 1 (user:john): type 2 (user) is not allowed here; --x takes 0 (user group) or 1 (device group)',
    ],
    ['[{"type":9,"name":"X"}]', INCOMING_TYPES, 'type 9 is not allowed here'],
    ['[1]', INCOMING_TYPES, 'is not an object'],
    ['user-group:', INCOMING_TYPES, "entry 'user-group:' is not KIND:NAME"],
    ['group:X', INCOMING_TYPES, "entry 'group:X' is not KIND:NAME"],
  ])('%s is refused, naming the entry', (text, types, message) => {
    const flag = message.startsWith('--x') ? '--x' : '--accessed-from';
    expect(() => parseRuleList(text, flag, types)).toThrow(message);
  });

  it('round-trips through formatRules for any names without commas', () => {
    const name = fc
      .string({ minLength: 1, maxLength: 20 })
      .filter((s) => !s.includes(',') && s.trim() === s && s !== '');
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.constantFrom(0, 2), name }), { minLength: 1, maxLength: 6 }),
        (rules) => {
          const parsed = parseRuleList(formatRules(rules), '--accessed-from', INCOMING_TYPES);
          const unique = rules.filter(
            (r, i) => rules.findIndex((x) => x.type === r.type && x.name === r.name) === i,
          );
          expect(parsed).toEqual(unique);
        },
      ),
    );
  });
});

describe('groupNameProblem', () => {
  it('refuses empty names, commas, control characters and long names', () => {
    expect(groupNameProblem('Zürich Büro')).toBeUndefined();
    expect(groupNameProblem('  ')).toBe('must not be empty');
    expect(groupNameProblem('a,b')).toContain('comma');
    expect(groupNameProblem('a\tb')).toContain('control characters');
    expect(groupNameProblem('x'.repeat(101))).toContain('at most 100');
  });
});
