import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import stringWidth from 'string-width';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// Text that reaches the terminal from elsewhere: device fields come from any RustDesk client
// (unauthenticated), error texts from whatever answers at --url. Their control characters must be
// shown, never obeyed (clear the screen, set the window title, recolour, forge a line); the CLI's
// own colour still works. Also: a password in --url is never repeated, and a token that no HTTP
// header can carry is a usage error, not "cannot reach".

/** Controls but the tab and line feed that tables and TSV are made of. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** Our own colours (the table's cyan header and grey borders): all the ESC that may remain. */
const OURS = /\u001b\[(?:36|39|90)m/g;

describe('device fields from a RustDesk client (devices view, real server)', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeEach(async () => {
    s = await startTestServer();
    env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
    // What `curl -X POST :PORT/api/sysinfo -d …` sends: no token needed.
    const r = await s.fetch('/api/sysinfo', {
      method: 'POST',
      body: JSON.stringify({
        id: '555000111',
        uuid: 'ZXZpbC11dWlk',
        hostname: 'evil\u001b[2J\u001b]0;pwned\u0007host',
        os: 'lin\u001b[31mux\u202e\u0085',
      }),
    });
    expect(await r.text()).toBe('SYSINFO_UPDATED');
  });
  afterEach(async () => {
    await s.close();
  });

  it('a terminal table shows the controls escaped, keeps its own colours, and lines up', async () => {
    const r = await cli(['devices', 'view', '--id', '555000111'], { env, tty: true });
    expect(r.code, r.stderr).toBe(0);
    const own = r.stdout.replace(OURS, '');
    expect(own).not.toMatch(RAW);
    expect(r.stdout).toContain('\u001b[36m'); // the header is still cyan
    expect(own).toContain(' evil\\x1b[2J\\x1b]0;pwned\\x07host ');
    expect(own).toContain(' lin\\x1b[31mux\\u202e\\u0085 ');
    // Widths measured on what is shown: every line of the box is as wide as the first.
    const lines = own.trimEnd().split('\n');
    expect(new Set(lines.map((l) => stringWidth(l)))).toEqual(new Set([stringWidth(lines[0]!)]));
  });

  it('piped (TSV) shows them escaped too', async () => {
    const r = await cli(['devices', 'view', '--id', '555000111'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).not.toMatch(/[\u001b\u0007]/);
    expect(r.stdout.split('\t').slice(0, 2)).toEqual(['555000111', 'evil\\x1b[2J\\x1b]0;pwned\\x07host']);
    expect(r.stdout).toContain('\tlin\\x1b[31mux\\u202e\\u0085\t');
  });

  it('a bulk run and its target list keep one line per device, whatever its name holds', async () => {
    await s.fetch('/api/sysinfo', {
      method: 'POST',
      body: JSON.stringify({ id: '555000112', uuid: 'ZXZpbDI=', hostname: 'EVIL\nDeleted 123456789 (FAKE)' }),
    });
    const listed = await cli(['devices', 'disable', '--id', '55500011'], { env });
    expect(listed.code).toBe(3);
    expect(listed.stderr).toContain('  555000112 (EVIL\\nDeleted 123456789 (FAKE))\n');
    const r = await cli(['devices', 'disable', '--id', '55500011', '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Disabled 555000112 (EVIL\\nDeleted 123456789 (FAKE))\n');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('Deleted'))).toEqual([]);
  });

  it('--json keeps the exact value (JSON escapes it)', async () => {
    const r = await cli(['devices', 'view', '--id', '555000111', '--json'], { env });
    expect(r.stdout).not.toContain('\u001b');
    expect(JSON.parse(r.stdout)[0].info.device_name).toBe('evil\u001b[2J\u001b]0;pwned\u0007host');
  });
});

describe('error text from a server that misbehaves', () => {
  let http: Server;
  let base: string;
  let handler: (q: IncomingMessage, r: ServerResponse) => void;
  const seen: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    http = createServer((q, r) => {
      seen.push(q);
      handler(q, r);
    });
    http.on('connection', (c: Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    seen.length = 0;
  });
  afterAll(async () => {
    for (const c of sockets) c.destroy();
    await new Promise((r) => http.close(r));
  });
  const answer = (status: number, body: string, type = 'application/json') => {
    handler = (_q, r) => {
      r.writeHead(status, { 'content-type': type });
      r.end(body);
    };
  };
  const view = (url: string, tty = false) =>
    cli(['users', 'view', '--url', url, '--timeout', '1'], {
      env: { RDADMIN_TOKEN: 'rdt_hostile-text-0123456789' },
      tty,
    });
  const FORGED = JSON.stringify({ error: 'bad\u001b[31m…\nerror: FORGED second line' });

  it('an {"error"} with ESC and a line break is one line, escaped; our red is still added around it', async () => {
    answer(400, FORGED);
    const piped = await view(base);
    expect([piped.code, piped.stdout, piped.stderr]).toEqual([
      1,
      '',
      'error: bad\\x1b[31m…\\nerror: FORGED second line (HTTP 400)\n',
    ]);
    const tty = await view(base, true);
    expect(tty.stderr).toBe(
      '\u001b[31merror: bad\\x1b[31m…\\nerror: FORGED second line (HTTP 400)\u001b[0m\n',
    );
    // The same on a 200, as Pro answers its refusals.
    answer(200, FORGED);
    expect((await view(base)).stderr).toBe('error: bad\\x1b[31m…\\nerror: FORGED second line\n');
  });

  it("in a bulk run, a refusal with a line break stays on its target's line", async () => {
    handler = (q, r) => {
      r.writeHead(q.method === 'GET' ? 200 : 500, { 'content-type': 'application/json' });
      r.end(
        q.method === 'GET'
          ? JSON.stringify({ data: [{ guid: 'g1', name: 'u1', status: 1 }], total: 1 })
          : FORGED,
      );
    };
    const r = await cli(['users', 'disable', '--name', 'u1', '--yes', '--no-batch', '--url', base], {
      env: { RDADMIN_TOKEN: 'rdt_hostile-text-0123456789' },
    });
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      '',
      'FAILED to disable u1: bad\\x1b[31m…\\nerror: FORGED second line (HTTP 500)\nerror: Disabled 0 of 1 users; 1 failed.\n',
    ]);
  });

  it("an HTML page's title and a plain-text body are escaped as well", async () => {
    answer(502, '<html><title>Bad\u0007\u009b2J Gateway</title></html>', 'text/html');
    expect((await view(base)).stderr.split('\n')[0]).toBe(
      'error: an HTML page: "Bad\\x07\\u009b2J Gateway" (HTTP 502)',
    );
    answer(500, 'oops\u001b]52;c;ZXZpbA==\u0007', 'text/plain');
    expect((await view(base)).stderr.split('\n')[0]).toBe('error: oops\\x1b]52;c;ZXZpbA==\\x07 (HTTP 500)');
  });

  it('a password in --url is refused before any request (exit 2), and never shown', async () => {
    const url = base.replace('http://', 'http://admin:UrlPw-Secret@');
    const r = await view(url);
    expect([r.code, r.stdout, r.stderr.split('\n')[0]]).toEqual([
      2,
      '',
      `error: invalid server URL '${base.replace('http://', 'http://***@')}': it holds a user name or password (user:password@), which rdadmin never sends`,
    ]);
    expect(r.stderr).not.toContain('UrlPw-Secret');
    expect(seen).toEqual([]);
  });

  it('nor when it does not parse (a / in the password), which is a usage error too', async () => {
    for (const url of ['http://user:UrlPw/Secret@127.0.0.1:1/rd/', 'http://user:Url#Pw@127.0.0.1:1']) {
      const r = await view(url);
      expect([r.code, r.stderr.split('\n')[0]]).toEqual([
        2,
        `error: invalid server URL 'http://***@127.0.0.1:1${url.endsWith('/rd/') ? '/rd/' : ''}': it holds a user name or password (user:password@), which rdadmin never sends`,
      ]);
      expect(r.stderr).not.toMatch(/UrlPw|Secret/);
    }
  });
});

describe('a token no HTTP header can carry is a usage error (exit 2), before any request', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rdadmin-badtoken-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const HINT =
    'hint: a token is one line of printable ASCII, as `rdadmin tokens create` or `rdadmin login` shows it; check that source (a binary file, a line break, an encoding)\n';
  const run = (args: string[], env: Record<string, string> = {}) =>
    cli(['users', 'view', '--url', 'http://127.0.0.1:1', ...args], { env });

  it('--token with a control character', async () => {
    const r = await run(['--token', 'rdt_Bad\u0001Secret']);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe(
      'warning: a token given with --token is visible in the process list and shell history; prefer --token-file FILE or RDADMIN_TOKEN\n' +
        `error: the token from --token is malformed: it holds a control character (at character 8)\n${HINT}`,
    );
  });

  it('RDADMIN_TOKEN with a line break, or not ASCII', async () => {
    const nl = await run([], { RDADMIN_TOKEN: 'rdt_abc\nSecret' });
    expect([nl.code, nl.stderr]).toEqual([
      2,
      `error: the token from RDADMIN_TOKEN is malformed: it holds a control character (at character 8)\n${HINT}`,
    ]);
    // a line break (or blanks) around the token, as a CI secret often has, is dropped
    const around = await run([], { RDADMIN_TOKEN: ' rdt_abcSecret\r\n' });
    expect([around.code, around.stderr]).toEqual([
      5,
      'error: cannot reach http://127.0.0.1:1: connection refused\nhint: check --url (or RDADMIN_URL / the profile) and that the server is running\n',
    ]);
    const accent = await run([], { RDADMIN_TOKEN: 'rdt_Bädtoken' });
    expect([accent.code, accent.stderr]).toEqual([
      2,
      `error: the token from RDADMIN_TOKEN is malformed: it holds a non-ASCII character (at character 6)\n${HINT}`,
    ]);
  });

  it('--token-file naming a binary file (or a token with a space)', async () => {
    const bin = join(dir, 'binary');
    await writeFile(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0x0a]));
    const r = await run(['--token-file', bin]);
    expect([r.code, r.stderr]).toEqual([
      2,
      `error: the token from --token-file is malformed: it holds a control character (at character 1)\n${HINT}`,
    ]);
    const spaced = join(dir, 'spaced');
    await writeFile(spaced, 'rdt_two Secret-words\n');
    const s = await run(['--token-file', spaced]);
    expect([s.code, s.stderr]).toEqual([
      2,
      `error: the token from --token-file is malformed: it holds a space (at character 8)\n${HINT}`,
    ]);
    expect(s.stderr).not.toContain('Secret');
  });
});
