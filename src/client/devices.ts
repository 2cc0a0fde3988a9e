import { type AssignType, DeviceRow, type DeviceRow as DeviceRowT, DisconnectAnswer } from '../wire/devices';
import { SettingsView } from '../wire/settings';
import { paginate } from './paginate';
import { path, type Transport } from './transport';

export interface DeviceListFilter {
  id?: string;
  device_name?: string;
  user_name?: string;
  group_name?: string;
  device_group_name?: string;
  device_username?: string;
}

/** One typed function per devices endpoint (pro-admin-api.md §9, rows 21–25). */
export function devicesApi(t: Transport, pageSize = 100, prefetch = 0) {
  return {
    list(f: DeviceListFilter): AsyncGenerator<DeviceRowT> {
      return paginate(t, '/api/devices', { ...f }, DeviceRow, { pageSize, prefetch });
    },
    enable(guid: string) {
      return t.call('POST', path`/api/devices/${guid}/enable`);
    },
    disable(guid: string) {
      return t.call('POST', path`/api/devices/${guid}/disable`);
    },
    delete(guid: string) {
      return t.call('DELETE', path`/api/devices/${guid}`);
    },
    assign(guid: string, type: AssignType, value: string) {
      return t.call('POST', path`/api/devices/${guid}/assign`, { body: { type, value } });
    },
    /** rdadmin serve: the next contact with the device's ID registers its machine's uuid. */
    resetUuid(guid: string) {
      return t.call('POST', path`/api/devices/${guid}/reset-uuid`, { serveOnly: true });
    },
    /** rdadmin serve: queues the drop of `conns` (all live connections when omitted). */
    disconnect(guid: string, conns?: readonly number[]) {
      return t.call('POST', path`/api/devices/${guid}/disconnect`, {
        body: conns ? { conns } : {},
        schema: DisconnectAnswer,
        serveOnly: true,
      });
    },
  };
}

export function settingsApi(t: Transport) {
  return {
    get() {
      return t.call('GET', '/api/settings', { schema: SettingsView, serveOnly: true });
    },
    set(patch: Record<string, unknown>) {
      return t.call('PUT', '/api/settings', { body: patch, schema: SettingsView, serveOnly: true });
    },
  };
}
