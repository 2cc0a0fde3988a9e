import { SettingsBody, SettingsView } from '../../wire/settings';
import { changeRecorded } from '../audit-log';
import type { AppDeps } from '../context';
import { readBody } from '../http';
import type { RouteTable } from '../routes';
import { ConsoleOp, ConsoleType } from '../store/audit';
import type { Settings } from '../store/settings';

export function registerSettingsRoutes(r: RouteTable, deps: AppDeps): void {
  const { store } = deps;
  r.add(
    {
      method: 'GET',
      path: '/api/settings',
      tag: 'settings',
      summary:
        'Server settings: `require_deployment` (new devices must be deployed with `rustdesk --deploy`), `online_timeout` (seconds), `log_retention_days` (audit logs kept this many days, applied hourly; 0 keeps everything), `only_admin_unassigned` (devices with no user and no device group are left out of what clients list as accessible), `only_admin_access_logs` (users who are not administrators cannot read their own audit records), `max_peer_one_ab` (the most peers one address book may hold; 0 = no limit), `non_admin_share_other_groups` (users who are not administrators may share address books with other user groups and with everyone; off: with users and their own group only).',
      access: 'admin-session',
      response: SettingsView,
    },
    async (c) => c.json(await store.settings.all()),
  );
  r.add(
    {
      method: 'PUT',
      path: '/api/settings',
      tag: 'settings',
      summary: 'Change server settings (only the keys given).',
      access: 'admin-session',
      body: SettingsBody,
      response: SettingsView,
    },
    async (c) => {
      const body = await readBody(c, SettingsBody);
      const given = (Object.entries(body) as [keyof Settings, Settings[keyof Settings]][]).filter(
        ([, v]) => v !== undefined,
      );
      if (given.length)
        await changeRecorded(
          deps,
          c,
          ConsoleType.device,
          ConsoleOp.updateDevice,
          async (tx) => {
            for (const [k, v] of given) await tx.settings.set(k, v);
          },
          `settings: ${given.map(([k, v]) => `${k}=${v}`).join(', ')}`,
        );
      return c.json(await store.settings.all());
    },
  );
}
