import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatOffset,
  formatWallClock,
  isValidZone,
  offsetMinutesAt,
  parseTimeText,
  resolveTime,
  toFilterTime,
  wallClockAt,
  zoneWallClock,
} from '../../src/wire/audit-time';

const BERLIN = 'Europe/Berlin';
const iso = (ms: number) => new Date(ms).toISOString();
function local(text: string, zone = BERLIN): string {
  const t = parseTimeText(text);
  if (!t) throw new Error(`unparsable: ${text}`);
  return iso(resolveTime(t, zone));
}

describe('--created-at with the offset in force on that date (D-24)', () => {
  it('the spec case: Berlin summer time is +02:00 whatever the date today', () => {
    expect(local('2025-07-01 12:00:00')).toBe('2025-07-01T10:00:00.000Z');
    expect(toFilterTime(resolveTime(parseTimeText('2025-07-01 12:00:00')!, BERLIN))).toBe(
      '2025-07-01 10:00:00.000',
    );
    expect(local('2025-11-26 12:00:00')).toBe('2025-11-26T11:00:00.000Z');
  });

  it('across the spring-forward change (2025-03-30, 02:00 → 03:00)', () => {
    expect(local('2025-03-30 01:59:59')).toBe('2025-03-30T00:59:59.000Z');
    expect(local('2025-03-30 03:00:00')).toBe('2025-03-30T01:00:00.000Z');
    // 02:30 does not exist that night: moved forward by the gap, to 03:30 CEST.
    expect(local('2025-03-30 02:30:00')).toBe('2025-03-30T01:30:00.000Z');
  });

  it('across the fall-back change (2025-10-26, 03:00 → 02:00): the repeated hour is taken the first time', () => {
    expect(local('2025-10-26 01:30:00')).toBe('2025-10-25T23:30:00.000Z');
    expect(local('2025-10-26 02:30:00')).toBe('2025-10-26T00:30:00.000Z');
    expect(local('2025-10-26 03:30:00')).toBe('2025-10-26T02:30:00.000Z');
  });

  it('other zones, south and west, and half-hour offsets', () => {
    expect(local('2025-01-15 12:00', 'America/New_York')).toBe('2025-01-15T17:00:00.000Z');
    expect(local('2025-07-15 12:00', 'America/New_York')).toBe('2025-07-15T16:00:00.000Z');
    expect(local('2025-01-15 12:00', 'Australia/Sydney')).toBe('2025-01-15T01:00:00.000Z');
    expect(local('2025-07-15 12:00', 'Asia/Kolkata')).toBe('2025-07-15T06:30:00.000Z');
    expect(local('2025-07-15 12:00', 'UTC')).toBe('2025-07-15T12:00:00.000Z');
  });
});

describe('parsing', () => {
  it('keeps fractions to the millisecond and honours explicit offsets', () => {
    expect(local('2025-07-01 12:00:00.123456', 'UTC')).toBe('2025-07-01T12:00:00.123Z');
    expect(local('2025-07-01 12:00:00.5', 'UTC')).toBe('2025-07-01T12:00:00.500Z');
    expect(local('2025-07-01T12:00:00Z')).toBe('2025-07-01T12:00:00.000Z');
    expect(local('2025-07-01T12:00:00+05:30')).toBe('2025-07-01T06:30:00.000Z');
    expect(local('2025-07-01T12:00-0200')).toBe('2025-07-01T14:00:00.000Z');
    expect(local('2025-07-01')).toBe('2025-06-30T22:00:00.000Z');
  });

  it('refuses what is not a time, or not a real date', () => {
    for (const bad of [
      '',
      'yesterday',
      '2025-02-30',
      '2025-13-01',
      '2025-07-01 24:00',
      '2025-07-01 12:60',
      '07/01/2025',
      '2025-07-01T12:00:00+25:00',
      '1969-12-31',
      '2025-7-1',
      '1751364000',
    ]) {
      expect(parseTimeText(bad), bad).toBeUndefined();
    }
  });
});

describe('display', () => {
  it('shows wall clock and offset of the zone at that instant', () => {
    const summer = Date.parse('2025-07-01T10:00:00Z');
    const winter = Date.parse('2025-12-01T10:00:00Z');
    expect(formatWallClock(summer, BERLIN)).toBe('2025-07-01 12:00:00');
    expect(formatWallClock(winter, BERLIN)).toBe('2025-12-01 11:00:00');
    expect(formatWallClock(Date.parse('2025-07-01T00:00:00Z'), 'UTC')).toBe('2025-07-01 00:00:00');
    expect(offsetMinutesAt(summer, BERLIN)).toBe(120);
    expect(offsetMinutesAt(winter, BERLIN)).toBe(60);
    expect(formatOffset(120)).toBe('+02:00');
    expect(formatOffset(-330)).toBe('-05:30');
    expect(isValidZone(BERLIN)).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
  });
});

describe('wall clocks of many records (the offset reused within a UTC hour)', () => {
  // The reference: Intl for every instant, no offset reused.
  const intlWallClock = zoneWallClock;

  it('every 7 minutes across changes of offset: DST both ways, half-hour DST, 45-minute and sub-minute offsets', () => {
    const cases: [string, string][] = [
      ['Europe/Berlin', '2025-03-30T00:00:00Z'],
      ['Europe/Berlin', '2025-10-26T00:00:00Z'],
      ['America/St_Johns', '2025-03-09T00:00:00Z'],
      ['Australia/Lord_Howe', '2025-04-05T12:00:00Z'],
      ['Australia/Lord_Howe', '2025-10-04T12:00:00Z'],
      ['Asia/Kathmandu', '1985-12-31T12:00:00Z'],
      ['Europe/Amsterdam', '1937-06-30T12:00:00Z'],
      ['Europe/London', '1947-04-16T00:00:00Z'],
    ];
    for (const [zone, from] of cases) {
      const start = Date.parse(from);
      for (let ms = start; ms < start + 2 * 86_400_000; ms += 7 * 60_000 + 13_001) {
        expect(wallClockAt(ms, zone), `${zone} at ${new Date(ms).toISOString()}`).toEqual(
          intlWallClock(ms, zone),
        );
      }
    }
  });

  it('any zone, any instant from 1900 to 2100, in any order', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }),
        (zone, ms) => {
          expect(wallClockAt(ms, zone)).toEqual(intlWallClock(ms, zone));
          // The same hour again (now from the reused offset), and a neighbouring one.
          expect(wallClockAt(ms + 1, zone)).toEqual(intlWallClock(ms + 1, zone));
          expect(wallClockAt(ms - 3_600_000, zone)).toEqual(intlWallClock(ms - 3_600_000, zone));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
