import { randomUUID } from 'node:crypto';
import { stringifyJson } from '../../src/wire/json-lossless';
import type { TestServer } from './server';

// Posts audit records exactly as a stock RustDesk client does (server-model.md §2.2;
// rustdesk src/server/connection.rs): the JSON text carries session_id as a plain 64-bit number.

export interface Posted {
  status: number;
  text: string;
  nonce: string;
}

export function auditClient(s: TestServer, device: { id: string; uuid: string }) {
  async function post(kind: 'conn' | 'file' | 'alarm', body: Record<string, unknown>): Promise<Posted> {
    const nonce = (body['nonce'] as string | undefined) ?? randomUUID();
    const r = await s.fetch(`/api/audit/${kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stringifyJson({ ...body, id: device.id, uuid: device.uuid, nonce }),
    });
    return { status: r.status, text: await r.text(), nonce };
  }
  return {
    post,
    /** The controlled device accepted a TCP connection. */
    open(conn_id: number, session_id: bigint, ip: string, nonce?: string) {
      return post('conn', { ip, action: 'new', conn_id, session_id, nonce });
    },
    /** The controlling side authenticated. */
    authorise(
      conn_id: number,
      session_id: bigint,
      peer: [string, string],
      type: number,
      auth: { primary_auth?: number; two_factor?: number } = {},
    ) {
      return post('conn', { peer, type, ...auth, conn_id, session_id });
    },
    close(conn_id: number, session_id: bigint) {
      return post('conn', { action: 'close', conn_id, session_id });
    },
    file(f: {
      peer_id: string;
      conn_id: number;
      type: 0 | 1;
      path: string;
      files: [string, number][];
      ip: string;
      name: string;
      nonce?: string;
    }) {
      const files = [...f.files].sort((a, b) => b[1] - a[1]).slice(0, 10);
      return post('file', {
        peer_id: f.peer_id,
        conn_id: f.conn_id,
        type: f.type,
        path: f.path,
        is_file: files.length === 1 && files[0]![0] === '',
        info: JSON.stringify({ ip: f.ip, name: f.name, num: f.files.length, files }),
        nonce: f.nonce,
      });
    },
    alarm(typ: number, info: Record<string, unknown>, conn_id = 1, nonce?: string) {
      return post('alarm', { typ, info: JSON.stringify(info), conn_id, nonce });
    },
  };
}
