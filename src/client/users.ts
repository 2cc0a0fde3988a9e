import { z } from 'zod';
import {
  CreateUserBody,
  InviteResult,
  InviteUserBody,
  UserRow,
  type UserRow as UserRowT,
} from '../wire/users';
import { checkInput, type FlagNames } from './input';
import { paginate } from './paginate';
import { path, type Transport } from './transport';

export interface UserListFilter {
  /** LIKE patterns, sent as given (apply `wildcard()` first for the scripts' fuzzy rule). */
  name?: string;
  group_name?: string;
}

const Anything = z.unknown();

/** One typed function per users endpoint (pro-admin-api.md §9, rows 1–9). */
export function usersApi(t: Transport, pageSize = 100, prefetch = 0) {
  return {
    /** A new user as the server checks and stores it (see checkInput); a usage error otherwise. */
    checkCreate(body: z.input<typeof CreateUserBody>, flags?: FlagNames) {
      return checkInput(CreateUserBody, body, flags);
    },
    checkInvite(body: z.input<typeof InviteUserBody>, flags?: FlagNames) {
      return checkInput(InviteUserBody, body, flags);
    },
    list(f: UserListFilter): AsyncGenerator<UserRowT> {
      return paginate(t, '/api/users', { name: f.name, group_name: f.group_name }, UserRow, {
        pageSize,
        prefetch,
      });
    },
    create(body: { name: string; password: string; group_name: string; email?: string; note?: string }) {
      return t.call('POST', '/api/users', { body, schema: Anything });
    },
    invite(body: { email: string; name: string; group_name: string; note?: string }) {
      // rdadmin serve answers the link; Pro may answer a blank body, `{}` or `null`.
      return t.call('POST', '/api/users/invite', { body, schema: InviteResult.nullish() });
    },
    enable(guid: string) {
      return t.call('POST', path`/api/users/${guid}/enable`);
    },
    disable(guid: string) {
      return t.call('POST', path`/api/users/${guid}/disable`);
    },
    delete(guid: string) {
      return t.call('DELETE', path`/api/users/${guid}`);
    },
    totpEnforce(user_guids: string[], enforce: boolean, url: string) {
      return t.call('PUT', '/api/users/tfa/totp/enforce', { body: { user_guids, enforce, url } });
    },
    disableLoginVerification(user_guids: string[], type: 'email' | '2fa') {
      return t.call('PUT', '/api/users/disable_login_verification', { body: { user_guids, type } });
    },
    forceLogout(user_guids: string[]) {
      return t.call('POST', '/api/users/force-logout', { body: { user_guids } });
    },
  };
}
export type UsersApi = ReturnType<typeof usersApi>;
