import { areas } from './areas';
import { Transport, type TransportOptions } from './transport';

/**
 * The typed API of a RustDesk Server Pro (or `rdadmin serve`) console. Each area is made when it
 * is first used (see areas.ts: in the CLI's bundle that is also when its module is evaluated).
 */
export function createApi(opts: TransportOptions) {
  const transport = new Transport(opts);
  // Long listings keep the next pages in flight on the other pooled connections (at most about
  // 2,000 rows: paginate()). Against Pro across a link with 10 ms round trips, 10,000 users in
  // 100-row pages: 3 pages ahead 0.77 s, 7 (the default --concurrency 8) 0.53 s.
  const prefetch = Math.max(0, opts.connections - 1);
  const made = new Map<string, unknown>();
  const area = <T>(name: string, make: () => T): T => {
    if (!made.has(name)) made.set(name, make());
    return made.get(name) as T;
  };
  return {
    transport,
    get users() {
      return area('users', () => areas.users().usersApi(transport, opts.pageSize, prefetch));
    },
    get devices() {
      return area('devices', () => areas.devices().devicesApi(transport, opts.pageSize, prefetch));
    },
    get settings() {
      return area('settings', () => areas.devices().settingsApi(transport));
    },
    get strategies() {
      return area('strategies', () => areas.strategies().strategiesApi(transport));
    },
    get auth() {
      return area('auth', () => areas.auth().authApi(transport));
    },
    get audits() {
      return area('audits', () => areas.audits().auditsApi(transport, prefetch));
    },
    get userGroups() {
      return area('userGroups', () => areas.userGroups().userGroupsApi(transport, opts.pageSize));
    },
    get deviceGroups() {
      return area('deviceGroups', () => areas.deviceGroups().deviceGroupsApi(transport, opts.pageSize));
    },
    get ab() {
      return area('ab', () => areas.ab().abApi(transport, opts.pageSize));
    },
    close: () => transport.close(),
  };
}
export type Api = ReturnType<typeof createApi>;
export { loadedAreas } from './areas';
export { Transport };
