import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';

// Hostile and odd clients of the real server over raw sockets: a client that pipelines requests
// and never reads its answers gets only a few of them run (not every request in its read buffer at
// once, each answer held in memory), and none once it has gone; a shutdown names the first few
// requests it cuts off; a batch gives other clients a turn by the time its requests take.

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function rawConnection(port: number): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await once(sock, 'connect');
  return sock;
}

/** The number `count()` settles at: unchanged for 400 ms (at most 10 s). */
async function settled(count: () => number): Promise<number> {
  let last = count();
  for (let quiet = 0, waited = 0; quiet < 4 && waited < 100; waited++) {
    await sleep(100);
    const now = count();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

describe('pipelined requests', () => {
  it('a client that pipelines without reading gets only a few run, and none once it has gone', async () => {
    s = await startTestServer();
    const server = s;
    const ran = () => server.logs.filter((l) => l.includes('GET /api/openapi.json 200')).length;
    const sent = 800; // 125 KB answers: 100 MB if every one ran
    const sock = await rawConnection(s.port);
    sock.pause(); // never reads
    sock.write('GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(sent));
    // The answers the connection's buffers take in ran; the rest wait unstarted.
    const before = await settled(ran);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(sent / 4);
    sock.destroy();
    await sleep(500);
    expect(ran()).toBe(before);
    // Nothing of that connection is left for a shutdown to wait for.
    await s.close();
    s = undefined;
    expect(server.logs.join('\n')).not.toContain('shutdown: waiting');
  });

  it('pipelined requests with bodies are all run and answered, in order', async () => {
    s = await startTestServer();
    const sock = await rawConnection(s.port);
    let text = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      text += d;
    });
    const requests: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 10; i++) {
      const body = JSON.stringify({ name: `pipe-${i}`, password: 'password123', group_name: 'Default' });
      requests.push(
        `POST /api/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        `GET /api/no-such-route-${i} HTTP/1.1\r\nHost: x\r\n${i === 9 ? 'Connection: close\r\n' : ''}\r\n`,
      );
      expected.push('200', '404');
    }
    // In two writes that split a request: what waits unstarted is read on when its turn comes.
    const all = requests.join('');
    sock.write(all.slice(0, 1000));
    await sleep(50);
    sock.write(all.slice(1000));
    await once(sock, 'close');
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(expected);
    for (let i = 0; i < 10; i++) expect(await s.store.users.getByName(`pipe-${i}`)).toBeTruthy();
  });
});

describe('shutdown', () => {
  it('names the first few requests it cuts off and counts the rest', async () => {
    s = await startTestServer();
    const socks: Socket[] = [];
    for (let i = 0; i < 8; i++) {
      const sock = await rawConnection(s.port);
      // A body that never comes whole: the request runs until it is cut off.
      sock.write(
        `POST /api/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
      );
      socks.push(sock);
    }
    const server = s;
    await settled(() => (server.logs.length > 0 ? 1 : 0)); // the requests have arrived
    await s.close({ graceMs: 300 });
    s = undefined;
    const cut = server.logs.filter((l) => l.startsWith('shutdown: cut off'));
    expect(cut).toEqual([
      'shutdown: cut off 8 requests still running after 0.3 s: POST /api/users, POST /api/users, POST /api/users, POST /api/users, POST /api/users and 3 more',
    ]);
    expect(server.logs.join('\n')).not.toContain('did not end');
    for (const sock of socks) sock.destroy();
  });
});

describe('batches', () => {
  it('give other clients a turn by time, not after a fixed number of requests', async () => {
    s = await startTestServer();
    const server = s;
    // Each listing inside takes 2 ms here, whatever the machine.
    const list = s.store.users.list.bind(s.store.users);
    s.store.users.list = ((...args: Parameters<typeof list>) => {
      const until = performance.now() + 2;
      while (performance.now() < until);
      return list(...args);
    }) as typeof list;
    const inBatch = () => server.logs.filter((l) => l.startsWith('(batch) GET /api/users')).length;
    // How many requests of the batch ran between two turns of the event loop.
    const runs: number[] = [];
    let running = true;
    let seen = 0;
    const sample = () => {
      const n = inBatch();
      runs.push(n - seen);
      seen = n;
      if (running) setImmediate(sample);
    };
    setImmediate(sample);
    const r = await s.fetch('/api/rdadmin/batch', {
      method: 'POST',
      token: s.token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        requests: Array.from({ length: 40 }, () => ({ method: 'GET', path: '/api/users' })),
      }),
    });
    const lines = (await r.text()).trim().split('\n');
    running = false;
    expect(lines).toHaveLength(40);
    expect(lines.every((l) => l.startsWith('{"status":200'))).toBe(true);
    expect(inBatch()).toBe(40);
    // About 3 ms of work per turn: two of these requests (it was 16, whatever they took).
    expect(Math.max(...runs)).toBeLessThanOrEqual(3);
  });
});
