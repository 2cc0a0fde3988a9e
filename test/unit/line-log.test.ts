import { describe, expect, it } from 'vitest';
import { lineLog } from '../../src/server/line-log';

describe('lineLog (the request log of rdadmin serve)', () => {
  it('writes the lines of one turn together, in order, stamped, after the turn', async () => {
    const writes: string[] = [];
    let n = 0;
    const log = lineLog({ write: (t: string) => writes.push(t) }, () => `${++n} `);
    log('GET /api/users 200 1ms');
    log('POST /api/heartbeat 200 0ms');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['1 GET /api/users 200 1ms\n2 POST /api/heartbeat 200 0ms\n']);
    log('third');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['1 GET /api/users 200 1ms\n2 POST /api/heartbeat 200 0ms\n', '3 third\n']);
  });

  it('flush() writes what is pending at once, and nothing when nothing is', async () => {
    const writes: string[] = [];
    const log = lineLog({ write: (t: string) => writes.push(t) });
    log('shutting down');
    log.flush();
    expect(writes).toEqual(['shutting down\n']);
    log.flush();
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['shutting down\n']);
  });
});
