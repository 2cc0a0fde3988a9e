import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher, request } from 'undici';
import { stringifyJson } from '../wire/json-lossless';

// Behaves like a stock RustDesk client towards the API server (server-model.md §2): system info
// at start (before its first heartbeat) and when the server asks for it, heartbeat on the client's
// cadence, presets, `--assign`, `--deploy`, the audit records the controlled side posts, and what
// the controlling side sends (its login, the in-session note, the question for the live
// connection's GUID).
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

export interface SimOptions {
  /**
   * What the client sends first after it starts. `sysinfo` (the default) is what a stock client
   * does on every start (sync.rs): its system info, then its heartbeat. `heartbeat` sends the
   * heartbeat alone, so the heartbeat creates the device and the server's `sysinfo` answer brings
   * the upload (what happens when a device is deleted while its client runs, or with older clients).
   */
  firstContact?: 'sysinfo' | 'heartbeat';
}

/** The question for the live connection's GUID (`GET /api/audit/conn/active`) and its answer. */
export interface ActiveConnAnswer {
  status: number;
  text: string;
  /** The GUID, when the answer was 200 with one; null on a 200 without (JSON null or ''). */
  guid?: string | null;
}

/** The client's waits between its questions for the live connection's GUID (model.dart). */
export const AUDIT_GUID_RETRY_MS = [1000, 1000, 2000, 2000, 3000, 3000];

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
  /**
   * What the server last returned as `modified_at`, sent back with every heartbeat (0 until the
   * server sends one). Kept only when it is a whole number, as the client reads it (an i64).
   */
  modifiedAt = 0;
  /** The last strategy the server delivered. */
  strategy: HeartbeatAnswer['strategy'];
  /** System-info uploads the server took (answered SYSINFO_UPDATED). */
  sysinfoUploads = 0;
  /**
   * When system info is to be uploaded: `now` before the next heartbeat (at start, and again after
   * ID_NOT_FOUND: a stock client retries at its next tick), `later` after another answer (a stock
   * client waits two minutes; here, until the server asks or the client restarts), or not at all.
   */
  private sysinfoDue: 'now' | 'later' | false;
  /** Heartbeats in run() that failed (network error, or a non-200 answer). */
  heartbeatErrors = 0;
  /** Whether it has talked to the server yet (system info or heartbeat): see postAudit(). */
  private synced = false;
  private readonly base: string;

  constructor(
    baseUrl: string,
    device: SimDeviceInfo,
    private readonly dispatcher: Dispatcher = defaultAgent(),
    options: SimOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.sysinfoDue = (options.firstContact ?? 'sysinfo') === 'sysinfo' ? 'now' : false;
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

  /**
   * The client's process starts again: it uploads its system info before its next heartbeat. What
   * it keeps on disk (its uuid, the last `modified_at`) stays.
   */
  restart(): void {
    this.sysinfoDue = 'now';
  }

  /**
   * One tick of the client's sync loop: its system info first while that is due (see SimOptions),
   * then the heartbeat; follows up with system info when the heartbeat's answer asks for it, and
   * applies disconnects and strategy.
   */
  async heartbeat(): Promise<HeartbeatAnswer> {
    this.synced = true;
    if (this.sysinfoDue === 'now') await this.sysinfo();
    const body: Record<string, unknown> = { id: this.info.id, uuid: this.info.uuid, ver: 1004003 };
    if (this.conns.length) body['conns'] = this.conns;
    body['modified_at'] = this.modifiedAt;
    const res = await this.post('/api/heartbeat', body);
    const answer = (res.text ? JSON.parse(res.text) : {}) as HeartbeatAnswer;
    if (res.status !== 200) return answer;
    if (Number.isSafeInteger(answer.modified_at)) this.modifiedAt = answer.modified_at as number;
    if (answer.strategy) this.strategy = answer.strategy;
    if (answer.disconnect?.length) this.conns = this.conns.filter((c) => !answer.disconnect!.includes(c));
    // The stock client uploads at its next tick (3 s later); here at once.
    if (answer.sysinfo !== undefined) await this.sysinfo();
    return answer;
  }

  /**
   * Uploads system info and presets, as sync.rs builds them: the device name and username presets
   * replace `hostname` and `username`, the others go as `preset-*` keys. Answers the server's text
   * (SYSINFO_UPDATED / ID_NOT_FOUND / an error); only SYSINFO_UPDATED ends the need to upload.
   */
  async sysinfo(): Promise<string> {
    this.synced = true;
    const { id, uuid, hostname, username, os, cpu, memory, version } = this.info;
    const {
      'preset-device-name': presetName,
      'preset-device-username': presetUsername,
      ...presets
    } = this.info.presets;
    const res = await this.post('/api/sysinfo', {
      id,
      uuid,
      hostname: presetName || hostname,
      username: presetUsername || username,
      os,
      cpu,
      memory,
      version,
      ...presets,
    });
    this.sysinfoDue = res.text === 'SYSINFO_UPDATED' ? false : res.text === 'ID_NOT_FOUND' ? 'now' : 'later';
    if (this.sysinfoDue === false) this.sysinfoUploads++;
    return res.text;
  }

  /**
   * The client's login (hbbs.dart LoginRequest): user name and password with this device's `id`
   * and `uuid`. Answers the status and the parsed answer.
   */
  async login(
    username: string,
    password: string,
  ): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
    const res = await this.post('/api/login', {
      username,
      password,
      id: this.info.id,
      uuid: this.info.uuid,
      autoLogin: true,
      type: 'account',
      deviceInfo: { os: 'linux', type: 'client', name: this.info.hostname },
    });
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: res.status, json };
  }

  /**
   * The note the controlling user types in the session's toolbar ("Note", ui_session_interface.rs
   * send_note): `id` is the controlled device, `session_id` this side's session with it; no token,
   * no uuid, no nonce. The client ignores the answer; it is returned here.
   */
  sendNote(remoteId: string, sessionId: bigint, note: string): Promise<{ status: number; text: string }> {
    return this.post('/api/audit/conn', { id: remoteId, session_id: sessionId, note });
  }

  /**
   * One question for the GUID of the live connection to `remoteId` in this session (model.dart
   * _queryAuditGuid), with the user's session token.
   */
  async activeConn(
    remoteId: string,
    sessionId: bigint,
    connType: number,
    token: string,
  ): Promise<ActiveConnAnswer> {
    const query = `id=${encodeURIComponent(remoteId)}&session_id=${sessionId}&conn_type=${connType}`;
    const res = await request(`${this.base}/api/audit/conn/active?${query}`, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      dispatcher: this.dispatcher,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return { status: res.statusCode, text };
    let guid: string | null = null;
    try {
      const v = JSON.parse(text) as unknown;
      guid = typeof v === 'string' && v !== '' ? v : null;
    } catch {
      guid = null;
    }
    return { status: res.statusCode, text, guid };
  }

  /**
   * The client's whole search for the live connection's GUID (model.dart): it asks again after
   * each wait of `waits` while the answer is 200 without a GUID, and gives up at once on any other
   * status. `afterAsking` runs after each question (a test makes things happen between them).
   * Answers the GUID, or undefined, and how many questions were asked.
   */
  async queryAuditGuid(
    remoteId: string,
    sessionId: bigint,
    connType: number,
    token: string,
    waits: readonly number[] = AUDIT_GUID_RETRY_MS,
    afterAsking?: (answer: ActiveConnAnswer, attempt: number) => Promise<void> | void,
  ): Promise<{ guid?: string; asked: number }> {
    for (let attempt = 1; attempt <= waits.length; attempt++) {
      const answer = await this.activeConn(remoteId, sessionId, connType, token);
      await afterAsking?.(answer, attempt);
      if (answer.status !== 200) return { asked: attempt };
      if (answer.guid) return { guid: answer.guid, asked: attempt };
      if (attempt < waits.length) await new Promise((r) => setTimeout(r, waits[attempt - 1]));
    }
    return { asked: waits.length };
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
   * one to replay a retried post). Empty answer on success. A stock client's sync loop has run
   * (system info and heartbeat: the device is registered) before anyone can connect to it, and the
   * server takes audit records from registered devices only: a client that has not talked to the
   * server yet runs that first tick here.
   *
   * A 4xx is answered back (the client drops the record). A 200 carrying `{"error"}` (the server
   * keeps nothing and the client posts it again later) throws: a simulated client has registered
   * before posting, so that answer means the record a caller expects to be stored was not.
   */
  async postAudit(
    kind: 'conn' | 'file' | 'alarm',
    body: Record<string, unknown>,
    nonce: string = randomUUID(),
  ): Promise<{ status: number; text: string; nonce: string }> {
    if (!this.synced) await this.heartbeat();
    const res = await this.post(`/api/audit/${kind}`, {
      ...body,
      id: this.info.id,
      uuid: this.info.uuid,
      nonce,
    });
    if (res.status === 200 && res.text !== '') {
      let error: unknown;
      try {
        error = (JSON.parse(res.text) as { error?: unknown } | null)?.error;
      } catch {
        error = undefined;
      }
      if (error !== undefined)
        throw new Error(`audit ${kind} post for ${this.info.id} not stored: ${JSON.stringify(error)}`);
    }
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
  options: SimOptions = {},
): SimClient[] {
  return Array.from(
    { length: n },
    (_, i) => new SimClient(baseUrl, { id: String(100_000_000 + i), ...make(i) }, undefined, options),
  );
}
