import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import { assertBuilt, childEnv, type Env, rdadminInPty } from '../helpers/spawn';

// The confirmation prompt of the built binary on a real pseudo-terminal: closing it (Ctrl-D as
// well as Ctrl-C) is "not confirmed", and it follows the CLI's colour decision.
// Run `npm run build` first.

let s: TestServer;
let configDir: string;

beforeAll(async () => {
  assertBuilt();
  s = await startTestServer();
  configDir = await mkdtemp(join(tmpdir(), 'rdadmin-e2e-confirm-'));
});

afterAll(async () => {
  await s?.close();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

function env(extra: Env = {}): NodeJS.ProcessEnv {
  return childEnv({ RDADMIN_CONFIG_DIR: configDir, RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token, ...extra });
}

async function statuses(names: string[]): Promise<(number | undefined)[]> {
  return Promise.all(names.map(async (n) => (await s.store.users.getByName(n))?.status));
}

/** A colour or text-style escape (SGR); cursor movements are not colour. */
const SGR = /\u001b\[[0-9;]*m/;

describe('closing the confirmation prompt', () => {
  // Ctrl-D on an empty line makes the terminal's line editor close, as at a shell prompt.
  it.each([
    ['Ctrl-D', '\\x04'],
    ['Ctrl-C', '\\x03'],
  ])('%s is not a confirmation: the message, exit 3, nothing changed', async (key, answer) => {
    const names = [1, 2, 3].map((i) => `close-${key.toLowerCase()}-${i}`);
    await s.seedUsers(names);
    const r = await rdadminInPty(['users', 'disable', '--name', `close-${key.toLowerCase()}-`], env(), {
      expect: 'Disable 3 users?',
      answer,
    });
    expect(r.helperErr).toBe('');
    expect(r.transcript).toContain('error: the confirmation prompt was closed; nothing was changed');
    expect(r.code).toBe(3);
    expect(await statuses(names)).toEqual([1, 1, 1]);
  });
});

describe('closing the password prompt of rdadmin login', () => {
  it.each([
    ['Ctrl-D', '\\x04'],
    ['Ctrl-C', '\\x03'],
  ])('%s: not logged in, exit 3, no profile written', async (_key, answer) => {
    const dir = await mkdtemp(join(tmpdir(), 'rdadmin-e2e-login-'));
    try {
      const r = await rdadminInPty(
        ['login', '--url', s.url, '--username', 'admin', '--no-color'],
        childEnv({ RDADMIN_CONFIG_DIR: dir }),
        { expect: 'Password:', answer },
      );
      expect(r.helperErr).toBe('');
      expect(r.transcript).toContain('error: the password prompt was closed; not logged in');
      expect(r.transcript).not.toMatch(SGR);
      expect(r.code).toBe(3);
      await expect(readFile(join(dir, 'config.json'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the confirmation prompt follows the colour decision', () => {
  it('coloured on a colour terminal (the control case)', async () => {
    const names = ['tint-1', 'tint-2'];
    await s.seedUsers(names);
    const r = await rdadminInPty(['users', 'disable', '--name', 'tint-'], env(), {
      expect: 'Disable 2 users?',
      answer: 'n\r',
    });
    expect(r.helperErr).toBe('');
    expect(r.transcript).toMatch(SGR);
    expect(r.code).toBe(3);
  });

  it.each<[string, string[], Env]>([
    ['--no-color', ['--no-color'], {}],
    ['NO_COLOR=1', [], { NO_COLOR: '1' }],
    ['TERM=dumb', [], { TERM: 'dumb' }],
    ['FORCE_COLOR=0', [], { FORCE_COLOR: '0' }],
  ])('plain with %s', async (label, flags, extra) => {
    const prefix = `plain-${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}-`;
    const names = [`${prefix}1`, `${prefix}2`, `${prefix}3`];
    await s.seedUsers(names);
    const r = await rdadminInPty(['users', 'disable', '--name', prefix, ...flags], env(extra), {
      expect: 'Disable 3 users?',
      answer: 'n\r',
    });
    expect(r.helperErr).toBe('');
    expect(r.transcript).toContain('? Disable 3 users? (y/N)');
    expect(r.transcript).toContain('error: cancelled; nothing was changed');
    expect(r.transcript).not.toMatch(SGR);
    expect(r.code).toBe(3);
    expect(await statuses(names)).toEqual([1, 1, 1]);
  });
});
