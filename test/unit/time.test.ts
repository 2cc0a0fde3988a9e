import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { offlineDays, parseTimestamp } from '../../src/cli/time';

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-26T12:00:00', Date.UTC(2026, 10, 26, 12)],
    ['2026-11-26T12:00:00.5', Date.UTC(2026, 10, 26, 12, 0, 0, 500)],
    ['2026-11-26T12:00:00.123456789', Date.UTC(2026, 10, 26, 12, 0, 0, 123)],
    ['2026-11-26T12:00:00Z', Date.UTC(2026, 10, 26, 12)],
    ['2026-11-26T12:00:00.250Z', Date.UTC(2026, 10, 26, 12, 0, 0, 250)],
    ['2026-11-26T14:00:00+02:00', Date.UTC(2026, 10, 26, 12)],
    ['2026-11-26T07:30:00-0430', Date.UTC(2026, 10, 26, 12)],
    ['2026-11-26 12:00:00', Date.UTC(2026, 10, 26, 12)],
    ['2026-11-26T12:00', Date.UTC(2026, 10, 26, 12)],
  ])('%s', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each(['', 'yesterday', '2026-13-01T00:00:00', '2026-11-26', '26/11/2026 12:00', '2026-11-26T25:00:00'])(
    'rejects %j',
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
    },
  );

  it('round-trips every ISO string Date produces', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        (d) => {
          expect(parseTimestamp(d.toISOString())).toBe(d.getTime());
        },
      ),
    );
  });
});

describe('offlineDays', () => {
  const now = Date.UTC(2026, 10, 26, 12);
  it('counts whole days since last_online, 0 when online or in the future', () => {
    expect(offlineDays({ last_online: '2026-11-16T13:00:00Z' }, now)).toEqual({ days: 9 });
    expect(offlineDays({ last_online: '2026-11-16T12:00:00Z' }, now)).toEqual({ days: 10 });
    expect(offlineDays({ last_online: '2026-11-16T12:00:00Z', is_online: true }, now)).toEqual({ days: 0 });
    expect(offlineDays({ last_online: '2027-01-01T00:00:00Z' }, now)).toEqual({ days: 0 });
  });
  it('a device never online counts from creation, or forever without a creation time', () => {
    expect(offlineDays({ last_online: null, created_at: '2026-11-01T12:00:00Z' }, now)).toEqual({ days: 25 });
    expect(offlineDays({ last_online: null }, now)).toEqual({ days: Number.POSITIVE_INFINITY });
  });
  it('flags unreadable values', () => {
    expect(offlineDays({ last_online: 'soon' }, now)).toEqual({ unreadable: 'soon' });
  });
});
