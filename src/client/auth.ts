import { LoginAnswer, TokenCreated, TokenRow, UserPayload } from '../wire/auth';
import { listOf } from '../wire/common';
import type { Permissions } from '../wire/scopes';
import { path, type Transport } from './transport';

const TokenList = listOf(TokenRow);

export function authApi(t: Transport) {
  return {
    login(username: string, password: string) {
      return t.call('POST', '/api/login', {
        body: {
          username,
          password,
          type: 'account',
          deviceInfo: { os: process.platform, type: 'browser', name: 'rdadmin' },
        },
        // A session, or Pro's request for a second factor (which the caller reports).
        schema: LoginAnswer,
        // A throttled login (too many failures) is reported, not waited out.
        retryRateLimited: false,
      });
    },
    /** The user of a session (Pro's and rdadmin serve's client route; an API token is refused). */
    currentUser() {
      return t.call('POST', '/api/currentUser', { body: {}, schema: UserPayload });
    },
    logout() {
      return t.call('POST', '/api/logout', { body: {} });
    },
    listTokens() {
      return t.call('GET', '/api/tokens', { schema: TokenList, serveOnly: true });
    },
    createToken(name: string, permissions: Permissions, expiresIn?: number) {
      return t.call('POST', '/api/tokens', {
        body: { name, permissions, ...(expiresIn ? { expires_in: expiresIn } : {}) },
        schema: TokenCreated,
        serveOnly: true,
      });
    },
    revokeToken(guid: string) {
      return t.call('DELETE', path`/api/tokens/${guid}`, { serveOnly: true });
    },
  };
}
