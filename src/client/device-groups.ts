import { z } from 'zod';
import type { RuleEntry } from '../wire/access';
import {
  AccessibleRow,
  type AccessibleRow as AccessibleRowT,
  AddDevicesResult,
  DeviceGroupRow,
  type DeviceGroupRow as DeviceGroupRowT,
  RemoveDevicesResult,
} from '../wire/groups';
import { paginate } from './paginate';
import { path, type Transport } from './transport';

export interface DeviceGroupFields {
  name?: string;
  note?: string;
  allowed_incomings?: RuleEntry[];
}

const Anything = z.unknown();

/** One typed function per device-group endpoint (pro-admin-api.md §9, rows 15–20, and the client's `accessible`). */
export function deviceGroupsApi(t: Transport, pageSize = 100) {
  return {
    /** `name` is a LIKE pattern, sent as given (escape it for an exact lookup). */
    list(f: { name?: string } = {}): AsyncGenerator<DeviceGroupRowT> {
      return paginate(t, '/api/device-groups', { name: f.name }, DeviceGroupRow, { pageSize });
    },
    create(body: DeviceGroupFields & { name: string }) {
      return t.call('POST', '/api/device-groups', { body, schema: Anything });
    },
    update(guid: string, body: DeviceGroupFields) {
      return t.call('PATCH', path`/api/device-groups/${guid}`, { body, schema: Anything });
    },
    delete(guid: string) {
      return t.call('DELETE', path`/api/device-groups/${guid}`);
    },
    /** Puts devices (by device ID, not GUID) into the group. */
    addDevices(guid: string, ids: string[]) {
      return t.call('POST', path`/api/device-groups/${guid}`, {
        body: ids,
        schema: AddDevicesResult.nullish(),
      });
    },
    removeDevices(guid: string, ids: string[]) {
      return t.call('DELETE', path`/api/device-groups/${guid}/devices`, {
        body: ids,
        schema: RemoveDevicesResult.nullish(),
      });
    },
    /** The device groups the caller (a session's user, or a token's owner) may reach. */
    accessible(): AsyncGenerator<AccessibleRowT> {
      return paginate(t, '/api/device-group/accessible', {}, AccessibleRow, { pageSize });
    },
  };
}
export type DeviceGroupsApi = ReturnType<typeof deviceGroupsApi>;
