import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher, request } from 'undici';
import { stringifyJson } from '../wire/json-lossless';

// Behaves like a stock RustDesk client towards the API server (server-model.md §2): heartbeat on
// the client's cadence, system info when the server asks for it, presets, `--assign`, `--deploy`,
// and the audit records the controlled side posts.
// Used by tests, the benchmarks and load runs; it only ever talks to the URL it is given.

export interface SimDeviceInfo {
  id: string;
  uuid?: string;
  hostname?: string;
  username?: string;
  os?: string;
  cpu?: string;
  memory?: string;
  version?: string;
  /** `preset-*` keys sent with the system info (e.g. {'preset-user-name': 'mike'}). */
  presets?: Record<string, string>;
}

export interface HeartbeatAnswer {
  sysinfo?: unknown;
  disconnect?: number[];
  modified_at?: unknown;
  strategy?: { config_options?: Record<string, string>; extra?: Record<string, string> };
  error?: string;
}

/** Idle and in-session heartbeat intervals of the stock client (sync.rs). */
export const HEARTBEAT_IDLE_MS = 15_000;
export const HEARTBEAT_CONN_MS = 3_000;

let shared: Agent | undefined;
function defaultAgent(): Agent {
  shared ??= new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  return shared;
}

export class SimClient {
  readonly info: Required<Omit<SimDeviceInfo, 'presets'>> & { presets: Record<string, string> };
  /** Active connection ids reported in heartbeats. */
  conns: number[] = [];
  /** What the server last returned as `modified_at` (sent back, opaque). */
  modifiedAt: unknown;
  /** The last strategy the server delivered. */
  strategy: HeartbeatAnswer['strategy'];
  sysinfoUploads = 0;
  /** Heartbeats in run() that failed (network error, or a non-200 answer). */
  heartbeatErrors = 0;
  private readonly base: string;

  constructor(
    baseUrl: string,
    device: SimDeviceInfo,
    private readonly dispatcher: Dispatcher = defaultAgent(),
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.info = {
      uuid: Buffer.from(randomUUID()).toString('base64'),
      hostname: `host-${device.id}`,
      username: 'user',
      os: 'Linux / Ubuntu 24.04',
      cpu: 'Intel Core i5, 4 cores',
      memory: '8GB',
      version: '1.4.3',
      presets: {},
      ...device,
    } as SimClient['info'];
  }

  private async post(path: string, body: unknown, token?: string): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers['authorization'] = `Bearer ${token}`;
    const res = await request(`${this.base}${path}`, {
      method: 'POST',
      headers,
      // Bigints go out as plain JSON numbers with every digit (session_id is an unsigned 64-bit).
      body: stringifyJson(body),
      dispatcher: this.dispatcher,
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  /** One heartbeat; follows up with system info when asked, and applies disconnects and strategy. */
  async heartbeat(): Promise<HeartbeatAnswer> {
    const body: Record<string, unknown> = { id: this.info.id, uuid: this.info.uuid, ver: 1004003 };
    if (this.modifiedAt !== undefined) body['modified_at'] = this.modifiedAt;
    if (this.conns.length) body['conns'] = this.conns;
    const res = await this.post('/api/heartbeat', body);
    const answer = (res.text ? JSON.parse(res.text) : {}) as HeartbeatAnswer;
    if (res.status !== 200) return answer;
    if (answer.modified_at !== undefined) this.modifiedAt = answer.modified_at;
    if (answer.strategy) this.strategy = answer.strategy;
    if (answer.disconnect?.length) this.conns = this.conns.filter((c) => !answer.disconnect!.includes(c));
    if (answer.sysinfo !== undefined) await this.sysinfo();
    return answer;
  }

  /** Uploads system info and presets; answers the server's text (SYSINFO_UPDATED / ID_NOT_FOUND). */
  async sysinfo(): Promise<string> {
    const { id, uuid, hostname, username, os, cpu, memory, version, presets } = this.info;
    const res = await this.post('/api/sysinfo', {
      id,
      uuid,
      hostname,
      username,
      os,
      cpu,
      memory,
      version,
      ...presets,
    });
    this.sysinfoUploads++;
    return res.text;
  }

  /** `rustdesk --assign --token T --user_name …` (fields without the `--`). */
  async assign(token: string, fields: Record<string, string>): Promise<{ status: number; text: string }> {
    return this.post('/api/devices/cli', { id: this.info.id, uuid: this.info.uuid, ...fields }, token);
  }

  /** `rustdesk --deploy --token T`. */
  async deploy(token: string): Promise<string> {
    const res = await this.post(
      '/api/devices/deploy',
      { id: this.info.id, uuid: this.info.uuid, pk: 'c2ltLXBr' },
      token,
    );
    try {
      return (JSON.parse(res.text) as { result?: string }).result ?? res.text;
    } catch {
      return res.text;
    }
  }

  /**
   * An audit post as connection.rs sends it: the event plus `id`, `uuid` and a fresh `nonce` (give
   * one to replay a retried post). Empty answer on success.
   */
  async postAudit(
    kind: 'conn' | 'file' | 'alarm',
    body: Record<string, unknown>,
    nonce: string = randomUUID(),
  ): Promise<{ status: number; text: string; nonce: string }> {
    const res = await this.post(`/api/audit/${kind}`, {
      ...body,
      id: this.info.id,
      uuid: this.info.uuid,
      nonce,
    });
    return { ...res, nonce };
  }

  /** A controlling side reached this device (`action: "new"`). */
  connectionOpened(connId: number, sessionId: bigint, ip: string, nonce?: string) {
    return this.postAudit('conn', { ip, action: 'new', conn_id: connId, session_id: sessionId }, nonce);
  }

  /** It authenticated: its `[id, name]`, the connection type (0–4), how it authenticated. */
  connectionAuthorised(
    connId: number,
    sessionId: bigint,
    peer: [string, string],
    type: number,
    auth: { primary_auth?: number; two_factor?: number } = {},
  ) {
    return this.postAudit('conn', { peer, type, ...auth, conn_id: connId, session_id: sessionId });
  }

  connectionClosed(connId: number, sessionId: bigint) {
    return this.postAudit('conn', { action: 'close', conn_id: connId, session_id: sessionId });
  }

  /** A file transfer: `type` 0 this device sent, 1 it received; `info` travels as a JSON string. */
  fileTransfer(f: {
    peer_id: string;
    peer_name: string;
    conn_id: number;
    type: 0 | 1;
    path: string;
    files: [string, number][];
    ip: string;
    nonce?: string;
  }) {
    const files = [...f.files].sort((a, b) => b[1] - a[1]).slice(0, 10);
    return this.postAudit(
      'file',
      {
        peer_id: f.peer_id,
        conn_id: f.conn_id,
        type: f.type,
        path: f.path,
        is_file: files.length === 1 && files[0]![0] === '',
        info: JSON.stringify({ ip: f.ip, name: f.peer_name, num: f.files.length, files }),
      },
      f.nonce,
    );
  }

  /** An alarm (`typ` 0–10); `info` travels as a JSON string. */
  alarm(typ: number, info: Record<string, unknown>, connId = 1, nonce?: string) {
    return this.postAudit('alarm', { typ, info: JSON.stringify(info), conn_id: connId }, nonce);
  }

  /** Heartbeats on the client's cadence until `signal` aborts. */
  async run(
    signal: AbortSignal,
    cadence = { idle: HEARTBEAT_IDLE_MS, conn: HEARTBEAT_CONN_MS },
  ): Promise<void> {
    while (!signal.aborted) {
      // A failed heartbeat is counted, and the loop goes on like a real client's would.
      await this.heartbeat().then(
        (a) => {
          if (a.error !== undefined) this.heartbeatErrors++;
        },
        () => {
          this.heartbeatErrors++;
        },
      );
      const wait = this.conns.length ? cadence.conn : cadence.idle;
      // The abort listener goes when the wait ends either way: left behind, one per heartbeat
      // piled up on the signal (a fleet shares one) for the whole run.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, wait);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}

/** A fleet of simulated clients with distinct IDs. */
export function simFleet(
  baseUrl: string,
  n: number,
  make: (i: number) => Partial<SimDeviceInfo> = () => ({}),
): SimClient[] {
  return Array.from(
    { length: n },
    (_, i) => new SimClient(baseUrl, { id: String(100_000_000 + i), ...make(i) }),
  );
}
