import { describe, expect, it } from 'vitest';
import { areas } from '../../commands';
import { invokedArea } from '../../src/cli/program';
import { cli } from '../helpers/cli';

// Start-up builds only the verbs of the area a command line invokes; everything a person can ask
// for must still be there.

describe('invokedArea', () => {
  const name = (argv: string[]) => invokedArea(areas, argv)?.name;

  it('is the first word, by name or alias, after any global options and their values', () => {
    expect(name(['users', 'view'])).toBe('users');
    expect(name(['user', 'view'])).toBe('users');
    expect(name(['--json', 'devices', 'view', '--name', 'users'])).toBe('devices');
    expect(name(['--profile', 'users', 'devices', 'view'])).toBe('devices');
    expect(name(['--url', 'http://x', '--timeout', '5', 'strategies'])).toBe('strategies');
    expect(name(['--url=http://x', 'tokens'])).toBe('tokens');
    expect(name(['help', 'users'])).toBe('users');
  });

  it('is none for top-level verbs, the root help and anything after --', () => {
    expect(name([])).toBeUndefined();
    expect(name(['--help'])).toBeUndefined();
    expect(name(['login', '--username', 'users'])).toBeUndefined();
    expect(name(['--', 'users'])).toBeUndefined();
    expect(name(['frobnicate', 'users'])).toBeUndefined();
  });
});

describe('help stays complete', () => {
  it('rdadmin --help lists every area with its aliases and summary', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const a of areas) {
      expect(r.stdout).toContain(`  ${[a.name, ...(a.aliases ?? []).slice(0, 1)].join('|')}`);
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(a.summary.replace(/\s+/g, ' '));
    }
  });

  it('the help of every area lists all its verbs (rdadmin <area> --help and rdadmin help <area>)', async () => {
    for (const a of areas) {
      for (const argv of [
        [a.name, '--help'],
        ['help', a.aliases?.[0] ?? a.name],
      ]) {
        const r = await cli(argv);
        // (`rdadmin help <area>` exits 2 like `rdadmin <area>` alone; only the listing matters here.)
        if (argv[0] !== 'help') expect(r.code).toBe(0);
        for (const v of a.verbs) expect(r.stdout).toMatch(new RegExp(`\\n  ${v.name}\\b`));
      }
    }
  });

  it('a verb help shows every flag of the verb, the global options and the examples', async () => {
    const r = await cli(['--json', 'users', 'view', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--name <name>');
    expect(r.stdout).toContain('--group_name, --group-name <group>');
    expect(r.stdout).toContain('--exact');
    expect(r.stdout).toContain('--concurrency N');
    expect(r.stdout).toContain('$ rdadmin users view --group_name Default');
  });

  it('global options work before the area, between area and verb, and after the verb', async () => {
    for (const argv of [
      ['--url', 'ftp://x', 'users', 'view'],
      ['users', '--url', 'ftp://x', 'view'],
      ['users', 'view', '--url', 'ftp://x'],
    ]) {
      const r = await cli(argv, { env: { RDADMIN_TOKEN: 't' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("invalid server URL 'ftp://x'");
    }
  });

  it('an unknown verb is still reported with a suggestion', async () => {
    const r = await cli(['users', 'veiw']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'veiw'");
    expect(r.stderr).toContain('view');
  });
});
