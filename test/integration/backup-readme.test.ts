import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import { ROOT } from '../helpers/spawn';

// The README's backup procedure, run as written (DIR replaced) against a running server with a
// typical umask: the copies are private (they hold every password hash and the key to the stored
// passwords), and they restore into a server that starts and logs the user in.

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** The shell block of the README's "Backups" bullet. */
async function backupBlock(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('**Backups.**');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (at < 0 || !block) throw new Error('README: no shell block after **Backups.**');
  return block[1]!;
}

describe('the README backup procedure', () => {
  it('makes private copies of a running server, and they restore', async () => {
    const s = await startTestServer();
    servers.push(s);
    await s.adminOk('POST', '/api/users', {
      name: 'kept',
      password: 'kept-pass-2026',
      group_name: 'Default',
    });
    const work = await mkdtemp(join(tmpdir(), 'rdadmin-backup-'));
    dirs.push(work);
    const script = (await backupBlock()).replaceAll('DIR', s.dataDir);
    execFileSync('sh', ['-c', `umask 022\n${script}`], { cwd: work, stdio: 'pipe' });
    for (const f of ['backup.sqlite3', 'backup.secret.key'])
      expect(((await stat(join(work, f))).mode & 0o777).toString(8), f).toBe('600');

    const restored = await mkdtemp(join(tmpdir(), 'rdadmin-restored-'));
    dirs.push(restored);
    await copyFile(join(work, 'backup.sqlite3'), join(restored, 'db.sqlite3'));
    await copyFile(join(work, 'backup.secret.key'), join(restored, 'secret.key'));
    const again = await startTestServer({ dataDir: restored });
    servers.push(again);
    expect(await again.login('kept', 'kept-pass-2026')).toMatch(/\S/);
  });
});
