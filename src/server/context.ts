import type { Permissions } from '../wire/scopes';
import type { LoginLimits } from './login-guard';
import type { RouteSpec } from './routes';
import type { Store } from './store';
import type { UserRecord } from './store/users';

export interface Principal {
  kind: 'token' | 'session';
  user: UserRecord;
  /** API tokens only. */
  permissions?: Permissions;
  tokenName?: string;
  /** Sessions only: the hash that identifies this session. */
  sessionHash?: string;
}

export interface ServerConfig {
  /** Base URL used in links the server hands out (invitations); else taken from the request. */
  publicUrl?: string;
  /** Invitation lifetime in seconds. */
  invitationTtl: number;
  /** Failed-login throttling; defaults to LOGIN_LIMITS. */
  loginLimits?: Partial<LoginLimits>;
  /**
   * Behind a reverse proxy (serve --trust-proxy): the client's address is the last one of
   * X-Forwarded-For, the one that proxy added; else the connection's.
   */
  trustProxy?: boolean;
  /**
   * Which requests get a line in the log (serve --request-log): every one (the default), those
   * answered with an error (status 400 and up), or none. The server's other lines are not requests.
   */
  requestLog?: RequestLog;
}

export const REQUEST_LOGS = ['all', 'errors', 'none'] as const;
export type RequestLog = (typeof REQUEST_LOGS)[number];

export interface AppDeps {
  store: Store;
  clock: () => Date;
  config: ServerConfig;
  /** One line per request and server notices; never receives secrets. */
  log: (line: string) => void;
}

export interface BatchItemEnv {
  /** The request's body, as text. */
  body: string;
  /** The JSON text of each answer made by `c.json()`, by the very Response object it is the body of. */
  answers: WeakMap<Response, string>;
  /** The batch request's publicBase(): its items carry none of its forwarding headers. */
  base: string;
}

export type AppEnv = {
  Variables: {
    route: RouteSpec;
    principal: Principal | undefined;
    /** The client's address from X-Forwarded-For, with --trust-proxy (see clientIp). */
    forwardedFor: string | undefined;
  };
  Bindings: {
    incoming?: { socket?: { remoteAddress?: string } };
    /** Node's response (the Node adapter sets it; absent inside a batch). */
    outgoing?: { headersSent: boolean; setHeader(name: string, value: string): unknown };
    /** Set on a request run from inside a batch (`POST /api/rdadmin/batch`). */
    batch?: BatchItemEnv;
  };
};
