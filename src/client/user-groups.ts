import { z } from 'zod';
import type { RuleEntry } from '../wire/access';
import { AddUsersResult, UserGroupRow, type UserGroupRow as UserGroupRowT } from '../wire/groups';
import { paginate } from './paginate';
import { path, type Transport } from './transport';

export interface UserGroupFields {
  name?: string;
  note?: string;
  allowed_incomings?: RuleEntry[];
  allowed_outgoings?: RuleEntry[];
}

const Anything = z.unknown();

/** One typed function per user-group endpoint (pro-admin-api.md §9, rows 10–14). */
export function userGroupsApi(t: Transport, pageSize = 100) {
  return {
    /** `name` is a LIKE pattern, sent as given (escape it for an exact lookup). */
    list(f: { name?: string } = {}): AsyncGenerator<UserGroupRowT> {
      return paginate(t, '/api/user-groups', { name: f.name }, UserGroupRow, { pageSize });
    },
    create(body: UserGroupFields & { name: string }) {
      return t.call('POST', '/api/user-groups', { body, schema: Anything });
    },
    update(guid: string, body: UserGroupFields) {
      return t.call('PATCH', path`/api/user-groups/${guid}`, { body, schema: Anything });
    },
    delete(guid: string) {
      return t.call('DELETE', path`/api/user-groups/${guid}`);
    },
    /** Moves users (by GUID) into the group. */
    addUsers(guid: string, userGuids: string[]) {
      return t.call('POST', path`/api/user-groups/${guid}`, {
        body: userGuids,
        schema: AddUsersResult.nullish(),
      });
    },
  };
}
export type UserGroupsApi = ReturnType<typeof userGroupsApi>;
