import { Agent, Client, Pool, request } from 'undici';
import { SimClient, type SimDeviceInfo } from '../src/sim/rustdesk-client';
import { percentile } from './measure';

// Load generators. Every loop is bounded in both request count and time.

export interface LatencyResult {
  samples: number[];
  errors: number;
}

/** One request of a series: a path to GET, or a method and path (no body). */
export type SeriesItem = string | { method: 'GET' | 'POST'; path: string };

/** Requests `paths` one after another over one keep-alive connection; latency of each. */
export async function latencySeries(
  url: string,
  token: string,
  paths: readonly SeriesItem[],
  maxMs: number,
): Promise<LatencyResult> {
  const client = new Client(url, { keepAliveTimeout: 30_000 });
  const samples: number[] = [];
  let errors = 0;
  const deadline = performance.now() + maxMs;
  try {
    for (const item of paths) {
      if (performance.now() > deadline) break;
      const { method, path } = typeof item === 'string' ? { method: 'GET' as const, path: item } : item;
      const t = performance.now();
      const res = await client.request({
        method,
        path,
        headers: { authorization: `Bearer ${token}` },
      });
      await res.body.text();
      samples.push(performance.now() - t);
      if (res.statusCode !== 200) errors++;
    }
  } finally {
    await client.close();
  }
  return { samples, errors };
}

export interface ThroughputResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

/**
 * Closed loop: `concurrency` requests in flight over a keep-alive pool, for `durationMs` or
 * `maxRequests`, whichever comes first.
 */
export async function throughput(
  url: string,
  req: { method: 'GET' | 'POST'; path: string; token?: string; body?: string },
  o: { concurrency: number; durationMs: number; maxRequests: number },
): Promise<ThroughputResult> {
  const pool = new Pool(url, { connections: o.concurrency, keepAliveTimeout: 30_000 });
  const headers: Record<string, string> = {};
  if (req.token) headers['authorization'] = `Bearer ${req.token}`;
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  const lat: number[] = [];
  let requests = 0;
  let errors = 0;
  const started = performance.now();
  const end = started + o.durationMs;
  const worker = async () => {
    while (performance.now() < end && requests < o.maxRequests) {
      requests++;
      const t = performance.now();
      try {
        const res = await pool.request({ method: req.method, path: req.path, headers, body: req.body });
        await res.body.text();
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return {
    requests,
    errors,
    seconds,
    rps: requests / seconds,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
  };
}

export interface HeartbeatResult {
  devices: number;
  cadenceS: number;
  measuredS: number;
  /** Heartbeats scheduled in the measured window. */
  scheduled: number;
  completed: number;
  errors: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  maxInFlight: number;
  sysinfoUploads: number;
  aborted?: string;
}

/**
 * Open loop: `devices` simulated clients (the client simulator), each sending a heartbeat every
 * `cadenceMs`, spread evenly over the interval; latency is counted from the moment a heartbeat was
 * due (so a server that falls behind is charged for the wait). The first `warmupMs` (first contact,
 * strategy handshake) is not measured. Stops launching when more than `maxInFlight` are pending.
 */
export async function heartbeatLoad(
  url: string,
  o: {
    devices: number;
    info: (i: number) => SimDeviceInfo;
    cadenceMs: number;
    warmupMs: number;
    measureMs: number;
    connections: number;
    maxInFlight: number;
  },
): Promise<HeartbeatResult> {
  const agent = new Agent({ connections: o.connections, keepAliveTimeout: 30_000 });
  // Steady state: the fleet is registered with its system info (seeded), and its clients have been
  // running, so they heartbeat and upload nothing more unless asked. (A client starting up uploads
  // its system info first: 30,000 of them within the warm-up would measure a restart storm.)
  const clients = Array.from(
    { length: o.devices },
    (_, i) => new SimClient(url, o.info(i), agent, { firstContact: 'heartbeat' }),
  );
  const step = o.cadenceMs / o.devices;
  const t0 = performance.now() + 50;
  const windowStart = t0 + o.warmupMs;
  const windowEnd = windowStart + o.measureMs;
  const lat: number[] = [];
  let scheduled = 0;
  let completed = 0;
  let errors = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let aborted: string | undefined;
  const pending = new Set<Promise<void>>();
  let seq = 0;
  while (!aborted) {
    const now = performance.now();
    if (now >= windowEnd) break;
    for (;;) {
      const due = t0 + seq * step;
      if (due > now || due >= windowEnd) break;
      const client = clients[seq % o.devices]!;
      seq++;
      const measured = due >= windowStart;
      if (measured) scheduled++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p: Promise<void> = client
        .heartbeat()
        .then(
          (answer) => {
            if (answer.error) throw new Error(answer.error);
            if (measured) {
              completed++;
              lat.push(performance.now() - due);
            }
          },
          () => {
            if (measured) errors++;
          },
        )
        .catch(() => {
          if (measured) errors++;
        })
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
      if (inFlight > o.maxInFlight) {
        aborted = `more than ${o.maxInFlight} heartbeats pending: the server fell behind`;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  // Drain what is still in flight, for at most 10 s.
  await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 10_000))]);
  await agent.close().catch(() => undefined);
  return {
    devices: o.devices,
    cadenceS: o.cadenceMs / 1000,
    measuredS: o.measureMs / 1000,
    scheduled,
    completed,
    errors,
    rate: completed / (o.measureMs / 1000),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: percentile(lat, 100),
    maxInFlight,
    sysinfoUploads: clients.reduce((n, c) => n + c.sysinfoUploads, 0),
    ...(aborted ? { aborted } : {}),
  };
}

/** One GET, for checks (e.g. a filter's `total`). */
export async function getJson(url: string, token: string): Promise<unknown> {
  const res = await request(url, { headers: { authorization: `Bearer ${token}` } });
  return res.body.json();
}

/**
 * A TCP proxy in front of `target` that holds every chunk `delayMs` in each direction: a server
 * `2 × delayMs` of round trip away, as across a WAN. Chunks keep their order (equal delays).
 */
export async function latencyProxy(
  target: string,
  delayMs: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer, connect } = await import('node:net');
  const { hostname, port } = new URL(target);
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const relay = (from: import('node:net').Socket, to: import('node:net').Socket) => {
      from.on('data', (d) => setTimeout(() => to.destroyed || to.write(d), delayMs));
      from.on('end', () => setTimeout(() => to.destroyed || to.end(), delayMs));
    };
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
