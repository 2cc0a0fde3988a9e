#!/usr/bin/env node
// `npm run compat -- DIR`: runs RustDesk Server Pro's official admin scripts, unmodified, from DIR
// (they are not part of this repository: take them from rustdesk/rustdesk, folder `res/`) against
// a fresh `rdadmin serve --demo`, one documented example after another, and reports each. Needs
// python3 with the `requests` module. Not part of `npm test`: CI has neither the scripts nor
// `requests`. Exit 0 when every example behaves as expected (the scripts' own defects that the
// README documents are expected), 1 otherwise.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2];
if (!dir || dir === '--help' || dir === '-h') {
  console.error(
    'usage: npm run compat -- DIR   (DIR holds users.py, devices.py, ab.py, … from rustdesk/rustdesk res/)',
  );
  process.exit(dir ? 0 : 2);
}
const script = (...names) => {
  const found = names.map((n) => join(dir, n)).find((p) => existsSync(p));
  if (!found) {
    console.error(`${names.join(' or ')} not found in ${dir}`);
    process.exit(2);
  }
  return found;
};
const py = {
  users: script('users.py'),
  userGroups: script('user-groups.py', 'user_group.py'),
  deviceGroups: script('device-groups.py', 'device_group.py'),
  devices: script('devices.py'),
  ab: script('ab.py'),
  strategies: script('strategies.py'),
  audits: script('audits.py'),
};
if (spawnSync('python3', ['-c', 'import requests']).status !== 0) {
  console.error('python3 with the requests module is needed (pip install requests)');
  process.exit(2);
}

// A demo server of its own: temporary data and configuration, a free port on loopback.
const tmp = mkdtempSync(join(tmpdir(), 'rdadmin-compat-'));
const server = spawn(
  process.execPath,
  [
    join(root, 'bin', 'rdadmin.js'),
    'serve',
    '--demo',
    '--data-dir',
    join(tmp, 'data'),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
  ],
  { env: { ...process.env, RDADMIN_CONFIG_DIR: join(tmp, 'config') }, stdio: ['ignore', 'pipe', 'pipe'] },
);
const { url, token } = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error(`the server did not start:\n${out}`)), 30_000);
  const take = (chunk) => {
    out += chunk;
    const u = /listening on (http:\/\/\S+)/.exec(out);
    const t = /^(rdt_\S+)$/m.exec(out);
    if (u && t) {
      clearTimeout(timer);
      resolve({ url: u[1], token: t[1] });
    }
  };
  server.stdout.on('data', take);
  server.stderr.on('data', take);
  server.on('exit', () => reject(new Error(`the server exited:\n${out}`)));
});

/** A GUID the examples need, read with rdadmin itself. */
function rd(args) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'rdadmin.js'), ...args, '--json'], {
    env: { ...process.env, RDADMIN_URL: url, RDADMIN_TOKEN: token },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`rdadmin ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// Each example: the script, its arguments (after --url and --token), what is typed at its
// confirmation prompt, and what must (and must not) appear in its output. `defect` marks a
// failure of the script itself that the README documents; it is expected, and reported as such.
const FAIL = /Traceback|Error|error|failed|not found|Failed/;
const cases = [
  [py.users, ['view', '--group_name', 'Default'], { has: /'name': 'admin'/ }],
  [
    py.users,
    [
      'new',
      '--name',
      'compat-user',
      '--password',
      'password123',
      '--group_name',
      'Default',
      '--email',
      'c@example.com',
      '--note',
      'nota',
    ],
  ],
  [py.users, ['view', '--name', 'compat-user'], { has: /compat-user/ }],
  [py.users, ['invite', '--email', 'inv@example.com', '--name', 'compat-inv', '--group_name', 'Default']],
  [py.users, ['disable', '--name', 'compat-user'], { stdin: 'Y\n' }],
  [py.users, ['enable', '--name', 'compat-user'], { stdin: 'Y\n' }],
  [
    py.users,
    ['enable-2fa-enforce', '--name', 'compat-user', '--web-console-url', 'http://127.0.0.1'],
    { stdin: 'Y\n' },
  ],
  [
    py.users,
    ['disable-2fa-enforce', '--name', 'compat-user', '--web-console-url', 'http://127.0.0.1'],
    { stdin: 'Y\n' },
  ],
  [py.users, ['reset-2fa', '--name', 'compat-user'], { stdin: 'Y\n' }],
  [py.users, ['disable-email-verification', '--name', 'compat-user'], { stdin: 'Y\n' }],
  [py.users, ['force-logout', '--name', 'compat-user'], { stdin: 'Y\n' }],
  [
    py.users,
    ['disable', '--name', 'compat'],
    { defect: 'D-5: several users match and stdin is closed', stdin: '', has: /EOFError/ },
  ],
  [py.userGroups, ['view'], { has: /Engineering/ }],
  [
    py.userGroups,
    [
      'add',
      '--name',
      'Compat Team',
      '--note',
      'x',
      '--accessed-from',
      '[{"type":0,"name":"Sales"}]',
      '--access-to',
      '[{"type":1,"name":"Lab"}]',
    ],
  ],
  [py.userGroups, ['update', '--name', 'Compat Team', '--new-name', 'Compat Team 2', '--note', 'y']],
  [py.userGroups, ['view', '--name', 'Compat Team 2'], { has: /Compat Team 2/ }],
  [py.userGroups, ['add-users', '--name', 'Compat Team 2', '--users', 'compat-user']],
  [py.userGroups, ['view-users', '--name', 'Compat Team 2'], { has: /compat-user/ }],
  [py.userGroups, ['add-users', '--name', 'Default', '--users', 'compat-user']],
  [py.userGroups, ['delete', '--name', 'Compat Team 2']],
  [py.deviceGroups, ['view'], { has: /Office PCs/ }],
  [py.deviceGroups, ['add', '--name', 'Compat Devices', '--accessed-from', '[{"type":0,"name":"Support"}]']],
  [py.deviceGroups, ['update', '--name', 'Compat Devices', '--note', 'nota']],
  [py.deviceGroups, ['add-devices', '--name', 'Compat Devices', '--ids', '106740798,114857819']],
  [py.deviceGroups, ['view-devices', '--name', 'Compat Devices'], { has: /106740798/ }],
  [py.deviceGroups, ['remove-devices', '--name', 'Compat Devices', '--ids', '106740798,114857819']],
  [py.deviceGroups, ['delete', '--name', 'Compat Devices']],
  [py.devices, ['view', '--device_name', 'DESKTOP-08%'], { has: /DESKTOP-08/ }],
  [
    py.devices,
    ['assign', '--device_name', 'DESKTOP-084', '--assign_to', 'user_name=alice'],
    { stdin: 'Y\n' },
  ],
  [py.devices, ['view', '--id', '106740798'], { has: /'user_name': 'alice'/ }],
  [
    py.devices,
    ['view', '--offline_days', '0'],
    { defect: 'D-9: a device never online has last_online null', has: /TypeError|Traceback/ },
  ],
  [py.strategies, ['list'], { has: /Kiosk lock/ }],
  [py.strategies, ['view', '--name', 'Default'], { has: /Default/ }],
  [py.strategies, ['disable', '--name', 'Support desk']],
  [py.strategies, ['enable', '--name', 'Support desk']],
  [
    py.strategies,
    [
      'assign',
      '--name',
      'Support desk',
      '--peers',
      '106740798',
      '--users',
      'alice',
      '--device-groups',
      'Lab',
    ],
  ],
  [py.strategies, ['unassign', '--peers', '106740798', '--users', 'alice', '--device-groups', 'Lab']],
  [py.ab, ['view-ab'], { has: /Helpdesk/ }],
  [py.ab, ['get-personal-ab'], { has: /guid/ }],
  [py.ab, ['add-ab', '--ab-name', 'Compat Book', '--note', 'n', '--password', 'secret-pw']],
  () => {
    const guid = rd(['ab', 'view-ab', '--ab-name', 'Compat Book'])[0].guid;
    return [
      [py.ab, ['update-ab', '--ab-guid', guid, '--ab-update-name', 'Compat Book 2', '--note', 'm']],
      [
        py.ab,
        [
          'add-peer',
          '--ab-guid',
          guid,
          '--peer-id',
          '106740798',
          '--alias',
          'front',
          '--note',
          'x',
          '--tags',
          'a,b',
        ],
      ],
      [py.ab, ['update-peer', '--ab-guid', guid, '--peer-id', '106740798', '--alias', 'front desk']],
      [py.ab, ['view-peer', '--ab-guid', guid], { has: /front desk/ }],
      [py.ab, ['add-tag', '--ab-guid', guid, '--tag-name', 'c', '--tag-color', '0xFF00FF00']],
      [py.ab, ['update-tag', '--ab-guid', guid, '--tag-name', 'c', '--tag-color', '0xFFFF0000']],
      [py.ab, ['view-tag', '--ab-guid', guid], { has: /'c'|"c"/ }],
      [py.ab, ['delete-tag', '--ab-guid', guid, '--tag-name', 'c'], { stdin: 'Y\n' }],
      [py.ab, ['add-rule', '--ab-guid', guid, '--rule-user', 'alice', '--rule-permission', 'ro']],
      [py.ab, ['view-rule', '--ab-guid', guid], { has: /alice/ }],
      () => {
        const rule = rd(['ab', 'view-rule', '--ab-guid', guid])[0].guid;
        return [
          [py.ab, ['update-rule', '--ab-guid', guid, '--rule-guid', rule, '--rule-permission', 'rw']],
          [
            py.ab,
            ['update-rule', '--rule-guid', rule, '--rule-permission', 'full'],
            { defect: 'D-15: needs --ab-guid', has: /ab-guid|Error|error|Traceback/ },
          ],
          [py.ab, ['delete-rule', '--ab-guid', guid, '--rule-guid', rule], { stdin: 'Y\n' }],
          [py.ab, ['delete-peer', '--ab-guid', guid, '--peer-id', '106740798'], { stdin: 'Y\n' }],
          [py.ab, ['delete-ab', '--ab-guid', guid], { stdin: 'Y\n' }],
        ];
      },
    ];
  },
  [
    py.audits,
    ['view-console', '--operator', 'admin', '--page-size', '100'],
    { has: /created user 'compat-user'/ },
  ],
  [py.audits, ['view-conn', '--days-ago', '7'], { has: /"data"/ }],
  [py.audits, ['view-file'], { has: /"data"/ }],
  [py.audits, ['view-alarm'], { has: /"data"/ }],
];

let failed = 0;
let n = 0;
function run(list) {
  for (const c of list) {
    if (typeof c === 'function') {
      run(c());
      continue;
    }
    const [file, args, o = {}] = c;
    const r = spawnSync('python3', [file, '--url', url, '--token', token, ...args], {
      input: o.stdin ?? 'Y\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    const name = `${file.split('/').pop()} ${args.join(' ')}`;
    let ok;
    if (o.defect) ok = o.has ? o.has.test(out) : r.status !== 0;
    else ok = r.status === 0 && !FAIL.test(out) && (!o.has || o.has.test(out));
    n++;
    if (!ok) failed++;
    const mark = ok ? (o.defect ? 'known' : 'ok') : 'FAIL';
    console.log(`${mark.padEnd(5)} ${name}${o.defect ? `  (${o.defect})` : ''}`);
    if (!ok) console.log(`      exit ${r.status}: ${out.trim().split('\n').slice(-6).join('\n      ')}`);
  }
}
try {
  run(cases);
} finally {
  server.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`\n${n - failed} of ${n} examples as expected against ${url}${failed ? `; ${failed} not` : ''}`);
process.exit(failed ? 1 : 0);
