import { abApi } from './ab';
import { auditsApi } from './audits';
import { authApi } from './auth';
import { deviceGroupsApi } from './device-groups';
import { devicesApi, settingsApi } from './devices';
import { strategiesApi } from './strategies';
import { Transport, type TransportOptions } from './transport';
import { userGroupsApi } from './user-groups';
import { usersApi } from './users';

/** The typed API of a RustDesk Server Pro (or `rdadmin serve`) console. */
export function createApi(opts: TransportOptions) {
  const transport = new Transport(opts);
  // Long listings keep the next pages in flight on the other pooled connections.
  const prefetch = Math.min(3, Math.max(0, opts.connections - 1));
  return {
    transport,
    users: usersApi(transport, opts.pageSize, prefetch),
    devices: devicesApi(transport, opts.pageSize, prefetch),
    settings: settingsApi(transport),
    strategies: strategiesApi(transport),
    auth: authApi(transport),
    audits: auditsApi(transport),
    userGroups: userGroupsApi(transport, opts.pageSize),
    deviceGroups: deviceGroupsApi(transport, opts.pageSize),
    ab: abApi(transport, opts.pageSize),
    close: () => transport.close(),
  };
}
export type Api = ReturnType<typeof createApi>;
export { Transport };
