import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFilePath, openConfig, resolveConfig } from '../../src/cli/config';
import type { IO } from '../../src/cli/io';

// API commands read the profiles straight from conf's file (conf itself is loaded only to write);
// both must agree on where the file is and what it says.

let dir: string;
const savedXdg = process.env['XDG_CONFIG_HOME'];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-config-'));
});
afterEach(async () => {
  if (savedXdg === undefined) delete process.env['XDG_CONFIG_HOME'];
  else process.env['XDG_CONFIG_HOME'] = savedXdg;
  await rm(dir, { recursive: true, force: true });
});

function io(env: Record<string, string | undefined>): IO {
  return { env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr } as unknown as IO;
}

describe('the config file', () => {
  it('is where conf keeps it: RDADMIN_CONFIG_DIR, else the per-user config folder', async () => {
    // Where conf writes the file: the lock that keeps writers apart is next to configFilePath().
    const env = { RDADMIN_CONFIG_DIR: join(dir, 'explicit') };
    expect(configFilePath(env)).toBe((await openConfig(env)).path);
    await (await openConfig(env)).setCurrentProfile('x');
    expect(readdirSync(join(dir, 'explicit'))).toEqual(['config.json']);
    process.env['XDG_CONFIG_HOME'] = join(dir, 'xdg');
    expect(configFilePath({})).toBe((await openConfig({})).path);
    await (await openConfig({})).setCurrentProfile('x');
    expect(existsSync(configFilePath({}))).toBe(true);
    if (process.platform === 'linux')
      expect(configFilePath({})).toBe(join(dir, 'xdg', 'rdadmin', 'config.json'));
  });

  it('profiles written through conf are read back by resolveConfig, current profile included', async () => {
    const env = { RDADMIN_CONFIG_DIR: dir };
    const conf = await openConfig(env);
    await conf.setProfile('prod', {
      url: 'https://rd.example.com',
      token: 'tok',
      timeout: 7,
      concurrency: 9,
    });
    await conf.setProfile('lab', { url: 'http://lab:21114', token: 'lab-token', insecure: true });
    await conf.setCurrentProfile('prod');
    expect(await resolveConfig({}, io(env))).toMatchObject({
      profile: 'prod',
      profileExists: true,
      url: 'https://rd.example.com',
      token: 'tok',
      timeoutMs: 7000,
      concurrency: 9,
    });
    expect(await resolveConfig({ profile: 'lab' }, io(env))).toMatchObject({
      profile: 'lab',
      url: 'http://lab:21114',
      insecure: true,
    });
    // Environment over profile, profile values still apply to the rest.
    expect(
      await resolveConfig({}, io({ ...env, RDADMIN_URL: 'http://env:1', RDADMIN_TOKEN: 'e' })),
    ).toMatchObject({ url: 'http://env:1', token: 'e', timeoutMs: 7000, concurrency: 9 });
    expect(await resolveConfig({ profile: 'nope' }, io(env))).toMatchObject({ profileExists: false });
  });

  it('no file means no profiles; a file that is not JSON is an error naming it', async () => {
    expect(await resolveConfig({}, io({ RDADMIN_CONFIG_DIR: dir }))).toMatchObject({
      profile: 'default',
      profileExists: false,
      url: undefined,
      timeoutMs: 30_000,
    });
    await writeFile(join(dir, 'config.json'), '{ not json');
    await expect(resolveConfig({}, io({ RDADMIN_CONFIG_DIR: dir }))).rejects.toThrow(
      `${join(dir, 'config.json')} is not valid JSON`,
    );
    // Flags and environment that need no profile do not read the file at all.
    expect(
      await resolveConfig({ url: 'http://x', token: 't', timeout: '5' }, io({ RDADMIN_CONFIG_DIR: dir })),
    ).toMatchObject({ url: 'http://x', token: 't' });
  });
});
