import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-root';
import { loadDemoFleet, seedDemo } from '../../src/server/demo';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// The demo fleet's groups, and every example of the user docs (console-docs, user_group.py and
// device_group.py sections) run with `rdadmin <area>` against it, in order.

let s: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  s = await startTestServer();
  const token = await seedDemo(s.store, await loadDemoFleet(join(packageRoot(), 'fixtures', 'demo.json')));
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: token! };
});
afterAll(async () => {
  await s.close();
});

interface Rule {
  type: number;
  name: string;
}
const run = (args: string[], o: { tty?: boolean; answer?: boolean } = {}) => cli(args, { env, ...o });
const json = async <T>(args: string[]) => {
  const r = await run([...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
};

describe('the demo fleet', () => {
  it('has user groups and device groups with cross-group rules, seen from both sides', async () => {
    const ug = await json<{ name: string; allowed_incomings: Rule[]; allowed_outgoings: Rule[] }[]>([
      'user-groups',
      'view',
    ]);
    const sales = ug.find((g) => g.name === 'Sales')!;
    expect(sales.allowed_incomings).toEqual(
      expect.arrayContaining([
        { type: 0, name: 'Support' },
        { type: 0, name: 'Gerentes' },
      ]),
    );
    expect(ug.find((g) => g.name === 'Support')!.allowed_outgoings).toContainEqual({
      type: 0,
      name: 'Sales',
    });
    const dg = await json<{ name: string; allowed_incomings: Rule[]; device_count: number }[]>([
      'device-groups',
      'view',
    ]);
    expect(dg.map((g) => g.name)).toEqual(
      expect.arrayContaining(['Production', 'Office PCs', 'Kiosks', 'Lab', 'Servidores Dev', 'Laptops_2024']),
    );
    expect(dg.find((g) => g.name === 'Lab')!.allowed_incomings).toEqual([
      { type: 0, name: 'Admins' },
      { type: 0, name: 'Engineering' },
    ]);
    expect(dg.find((g) => g.name === 'Production')!.device_count).toBeGreaterThan(0);
  });
});

describe('user docs: user_group.py examples', () => {
  it('view --name "Equipe Vendas"', async () => {
    const r = await run(['user-groups', 'view', '--name', 'Equipe Vendas']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Found 0 user groups');
  });

  it('add, update, delete (also a comma list), with access rules', async () => {
    expect((await run(['user-groups', 'add', '--name', 'NomeGrupo', '--note', 'descrição'])).code).toBe(0);
    const eng = await run([
      'user-groups',
      'add',
      '--name',
      'Engenharia',
      '--accessed-from',
      '[{"type":0,"name":"Gerentes"}]',
      '--access-to',
      '[{"type":1,"name":"Servidores Dev"}]',
    ]);
    expect(eng.code).toBe(0);
    const upd = await run([
      'user-groups',
      'update',
      '--name',
      'NomeGrupo',
      '--new-name',
      'Novo Nome',
      '--note',
      'nova nota',
      '--accessed-from',
      '[{"type":2,"name":"john"}]',
      '--access-to',
      '[{"type":0,"name":"Support"}]',
    ]);
    expect(upd.code).toBe(0);
    const [row] = await json<{ note: string; allowed_incomings: Rule[] }[]>([
      'user-groups',
      'view',
      '--name',
      'Novo Nome',
    ]);
    expect(row).toMatchObject({ note: 'nova nota', allowed_incomings: [{ type: 2, name: 'john' }] });
    expect((await run(['user-groups', 'delete', '--name', 'Novo Nome'])).code).toBe(0);
    for (const g of ['Grupo1', 'Grupo2', 'Grupo3'])
      expect((await run(['user-groups', 'add', '--name', g])).code).toBe(0);
    const del = await run(['user-groups', 'delete', '--name', 'Grupo1,Grupo2,Grupo3'], {
      tty: true,
      answer: true,
    });
    expect(del.code).toBe(0);
    expect(del.asked).toEqual(['Delete 3 user groups?']);
  });

  it('view-users and add-users', async () => {
    const users = await json<{ name: string }[]>([
      'user-groups',
      'view-users',
      '--name',
      'Engineering',
      '--user-name',
      'john',
    ]);
    expect(users.map((u) => u.name)).toEqual(['john', 'johnny']);
    const r = await run(['user-groups', 'add-users', '--name', 'Engenharia', '--users', 'alice,bob,carol'], {
      tty: true,
      answer: true,
    });
    expect(r.code).toBe(0);
    expect(r.asked).toEqual(["Move 3 users into 'Engenharia'?"]);
    expect(r.stderr).toContain("Added 3 user(s) to group 'Engenharia'.");
    const members = await json<{ name: string }[]>(['user-groups', 'view-users', '--name', 'Engenharia']);
    expect(members.map((u) => u.name)).toEqual(['alice', 'bob', 'carol']);
  });
});

describe('user docs: device_group.py examples', () => {
  it('view, add, update, delete', async () => {
    expect((await run(['device-groups', 'view'])).code).toBe(0);
    const add = await run([
      'device-groups',
      'add',
      '--name',
      'Produção',
      '--accessed-from',
      '[{"type":0,"name":"Admins"}]',
    ]);
    expect(add.code).toBe(0);
    expect((await run(['device-groups', 'add', '--name', 'NomeGrupo', '--note', 'descrição'])).code).toBe(0);
    const upd = await run([
      'device-groups',
      'update',
      '--name',
      'NomeGrupo',
      '--new-name',
      'Novo Nome',
      '--note',
      'nova nota',
      '--accessed-from',
      '[{"type":0,"name":"Engineering"},{"type":2,"name":"admin"}]',
    ]);
    expect(upd.code).toBe(0);
    expect((await run(['device-groups', 'delete', '--name', 'Novo Nome'])).code).toBe(0);
  });

  it('add-devices, view-devices (with the documented filters), remove-devices, accessible', async () => {
    const johnsDevices = await json<{ id: string }[]>(['devices', 'view', '--user_name', 'john']);
    const servers = await json<{ id: string }[]>(['devices', 'view', '--device_name', 'srv']);
    const ids = [...johnsDevices.slice(0, 2), ...servers.slice(0, 1)].map((d) => d.id);
    expect(ids.length).toBe(3);
    const add = await run(['device-groups', 'add-devices', '--name', 'Produção', '--ids', ids.join(',')], {
      tty: true,
      answer: true,
    });
    expect(add.code).toBe(0);
    expect(add.asked).toEqual(["Put 3 devices into 'Produção'?"]);
    const inGroup = await json<{ id: string }[]>(['device-groups', 'view-devices', '--name', 'Produção']);
    expect(inGroup.map((d) => d.id).sort()).toEqual([...ids].sort());
    const byName = await json<{ id: string }[]>(['device-groups', 'view-devices', '--device-name', 'srv']);
    expect(byName.length).toBeGreaterThan(0);
    const combo = await json<{ user_name: string }[]>([
      'device-groups',
      'view-devices',
      '--name',
      'Produção',
      '--user-name',
      'john',
    ]);
    expect(combo.length).toBeGreaterThan(0);
    expect(combo.every((d) => d.user_name.includes('john'))).toBe(true);
    const rm = await run([
      'device-groups',
      'remove-devices',
      '--name',
      'Produção',
      '--ids',
      ids.slice(0, 2).join(','),
      '--yes',
    ]);
    expect(rm.code).toBe(0);
    const acc = await json<{ name: string }[]>(['device-groups', 'accessible']);
    expect(acc.map((g) => g.name)).toContain('Produção');
  });
});
