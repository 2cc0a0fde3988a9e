import { abApi } from './ab';
import { authApi } from './auth';
import { Transport, type TransportOptions } from './transport';
import { usersApi } from './users';

/** The typed API of a RustDesk Server Pro (or `rdadmin serve`) console. */
export function createApi(opts: TransportOptions) {
  const transport = new Transport(opts);
  return {
    transport,
    users: usersApi(transport, opts.pageSize),
    auth: authApi(transport),
    ab: abApi(transport, opts.pageSize),
    close: () => transport.close(),
  };
}
export type Api = ReturnType<typeof createApi>;
export { Transport };
