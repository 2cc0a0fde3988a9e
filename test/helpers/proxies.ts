import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

// Real proxies for tests: a forward proxy (what HTTP_PROXY / HTTPS_PROXY name) and a reverse proxy
// in front of a server that can answer in its place, or change its answer, the way nginx, a CDN or
// a firewall does.

export interface RunningProxy {
  url: string;
  /** What it was asked: `GET http://host:port/path` (plain proxying), `CONNECT host:port`. */
  log: string[];
  close(): Promise<void>;
}

function serve(server: Server, log: string[]): Promise<RunningProxy> {
  const sockets = new Set<Socket>();
  server.on('connection', (c: Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        log,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    ),
  );
}

/**
 * A forward proxy: plain requests (an absolute URL) for http:// targets, CONNECT tunnels for
 * https:// ones. `user:password`: it answers 407 without those credentials. `refuse`: it answers
 * every request and CONNECT with that status (403: a proxy whose policy forbids the target).
 */
export function startForwardProxy(o: { credentials?: string; refuse?: number } = {}): Promise<RunningProxy> {
  const log: string[] = [];
  const expected = o.credentials ? `Basic ${Buffer.from(o.credentials).toString('base64')}` : undefined;
  const denied = (req: IncomingMessage): number =>
    o.refuse ?? (expected && req.headers['proxy-authorization'] !== expected ? 407 : 0);
  const server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const status = denied(req);
    if (status) {
      res.writeHead(status, { 'proxy-authenticate': 'Basic realm="test"', 'content-type': 'text/html' });
      res.end(`<html><head><title>${status} proxy says no</title></head></html>`);
      return;
    }
    const target = new URL(req.url!);
    const { 'proxy-authorization': _, 'proxy-connection': __, ...headers } = req.headers;
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: target.pathname + target.search,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head></html>');
    });
    req.pipe(up);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    log.push(`CONNECT ${req.url}`);
    client.on('error', () => undefined);
    const status = denied(req);
    if (status) {
      client.end(
        `HTTP/1.1 ${status} No\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    const [host, port] = req.url!.split(':');
    const up = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
  });
  return serve(server, log);
}

/** An answer a reverse proxy gives in the server's place. */
export interface ProxyAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface ReverseProxyOptions {
  /** An answer in the server's place, without passing the request on (undefined: pass it on). */
  before?: (req: IncomingMessage, body: Buffer) => ProxyAnswer | undefined;
  /** An answer in place of the server's, once the server has answered (undefined: the server's). */
  after?: (req: IncomingMessage, body: Buffer) => ProxyAnswer | undefined;
  /** Passes answers on in chunks of this many bytes, `delayMs` apart (a slow link); `only` those to these requests. */
  slow?: { chunk: number; delayMs: number; only?: (req: IncomingMessage) => boolean };
}

/** A reverse proxy in front of `upstream` (http://host:port), logging `METHOD /path` of each request. */
export function startReverseProxy(upstream: string, o: ReverseProxyOptions = {}): Promise<RunningProxy> {
  const log: string[] = [];
  const up = new URL(upstream);
  const send = (res: ServerResponse, a: ProxyAnswer) => {
    res.writeHead(a.status, { 'content-type': 'text/html', ...a.headers });
    res.end(a.body ?? '');
  };
  const server = createServer(async (req, res) => {
    log.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const instead = o.before?.(req, body);
    if (instead) return send(res, instead);
    const pass = request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      async (answer) => {
        const got: Buffer[] = [];
        for await (const c of answer) got.push(c as Buffer);
        const replaced = o.after?.(req, body);
        if (replaced) return send(res, replaced);
        const all = Buffer.concat(got);
        const { 'transfer-encoding': _, 'content-length': __, ...headers } = answer.headers;
        res.writeHead(answer.statusCode!, { ...headers, 'content-length': all.length } as never);
        if (!o.slow || (o.slow.only && !o.slow.only(req))) return res.end(all);
        for (let at = 0; at < all.length; at += o.slow.chunk) {
          if (res.destroyed) return;
          res.write(all.subarray(at, at + o.slow.chunk));
          await new Promise((r) => setTimeout(r, o.slow!.delayMs));
        }
        res.end();
      },
    );
    pass.on('error', () =>
      send(res, { status: 502, body: '<html><head><title>502 Bad Gateway</title></head></html>' }),
    );
    pass.end(body);
  });
  return serve(server, log);
}

/** A request the Pro-shaped proxy answers itself: its status and JSON body. */
export interface JsonAnswer {
  status: number;
  json: unknown;
}

export interface ProShapedOptions {
  /** Whether to answer as Pro does now (read for each request: a test switches it). */
  pro: () => boolean;
  /** Runs first for each request; an answer given is sent instead of passing the request on. */
  before?: (method: string, path: string) => Promise<JsonAnswer | undefined>;
}

/**
 * A reverse proxy in front of rdadmin serve that, while `pro()` says so, answers as RustDesk
 * Server Pro does: rdadmin serve's own endpoints (`/api/rdadmin/…`) are 404, its batch header is
 * gone, and every refusal but 401/403 comes as HTTP 200 `{"error"}`.
 */
export function startProShapedProxy(upstream: string, o: ProShapedOptions): Promise<RunningProxy> {
  const log: string[] = [];
  const up = new URL(upstream);
  const send = (res: ServerResponse, a: JsonAnswer) => {
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(a.json));
  };
  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    log.push(`${method} ${req.url}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const pro = o.pro();
    if (pro && path.startsWith('/api/rdadmin/'))
      return send(res, { status: 404, json: { error: 'Not Found' } });
    const instead = await o.before?.(method, path);
    if (instead) return send(res, instead);
    const pass = request(
      { host: up.hostname, port: up.port, method, path: req.url, headers: req.headers },
      async (answer) => {
        const got: Buffer[] = [];
        for await (const c of answer) got.push(c as Buffer);
        const headers = { ...answer.headers };
        let status = answer.statusCode ?? 502;
        if (pro) {
          delete headers['x-rdadmin-batch'];
          if (status >= 400 && status !== 401 && status !== 403) status = 200;
        }
        res.writeHead(status, headers);
        res.end(Buffer.concat(got));
      },
    );
    pass.end(Buffer.concat(chunks));
  });
  return serve(server, log);
}
