import { request } from 'node:http';

// The baseline of figures 2 and 3: what the official Python scripts do with `requests` (no
// Session): one new TCP connection per request (`Connection: close`), strictly one request at a
// time, JSON parsed per page, one line printed per row. Plain node:http, nothing else loaded.
//
//   node baseline-client.mjs list    URL PAGE_SIZE [NAME_FILTER GROUP_FILTER]
//   node baseline-client.mjs disable URL PAGE_SIZE GROUP_FILTER
// The token comes from BENCH_TOKEN.

const [mode, base, pageSizeArg, a1, a2] = process.argv.slice(2);
const token = process.env['BENCH_TOKEN'] ?? '';
const pageSize = Number(pageSizeArg);

function call(method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method,
      agent: false,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', connection: 'close' },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface Row {
  guid: string;
  name: string;
}

/** The scripts' pagination (HEAD): `current` from 1, stop on a short page or at `total`. */
async function listAll(filter: Record<string, string>, each: (row: Row) => void): Promise<void> {
  for (let current = 1; ; current++) {
    const qs = new URLSearchParams({ ...filter, current: String(current), pageSize: String(pageSize) });
    const r = await call('GET', `/api/users?${qs}`);
    const body = JSON.parse(r.body) as { data?: Row[]; total?: number; error?: string };
    if (r.status !== 200 || body.error) throw new Error(`HTTP ${r.status}: ${body.error}`);
    const data = body.data ?? [];
    for (const row of data) each(row);
    if (data.length < pageSize || current * pageSize >= (body.total ?? 0)) return;
  }
}

const out: string[] = [];
function print(line: string) {
  out.push(line);
  if (out.length >= 256) process.stdout.write(`${out.splice(0).join('\n')}\n`);
}

async function main() {
  const filter: Record<string, string> = {};
  if (mode === 'list') {
    if (a1) filter['name'] = a1;
    if (a2) filter['group_name'] = a2;
    await listAll(filter, (row) => print(JSON.stringify(row)));
  } else if (mode === 'disable') {
    filter['group_name'] = a1 ?? '';
    const rows: Row[] = [];
    await listAll(filter, (row) => rows.push(row));
    for (const row of rows) {
      print(`Disable ${row.name}`);
      const r = await call('POST', `/api/users/${encodeURIComponent(row.guid)}/disable`);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  if (out.length) process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`baseline client: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
