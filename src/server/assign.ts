import type { AssignType } from '../wire/devices';
import { BOOK_ENTRY_PARTS } from '../wire/rules';
import type { AppDeps } from './context';
import { HttpError } from './http';
import { AddressBookError } from './store/address-books';
import type { DevicePatch, DeviceRecord } from './store/devices';

export interface BookEntry {
  book: string;
  tag?: string;
  alias?: string;
  password?: string;
  note?: string;
}

/**
 * `BOOK[,TAG[,ALIAS[,PASSWORD[,NOTE]]]]`, the comma-packed value of the `ab` assignment type. A
 * part cannot hold a comma: more than five parts is refused (400), since the parts after a comma
 * inside one would shift into the next field or be lost.
 */
export function parseBookEntry(value: string): BookEntry {
  const parts = value.split(',');
  if (parts.length > BOOK_ENTRY_PARTS)
    throw new HttpError(
      400,
      `the ab value has ${parts.length} comma-separated parts, at most ${BOOK_ENTRY_PARTS} (BOOK,TAG,ALIAS,PASSWORD,NOTE): no part may hold a comma`,
    );
  const [book = '', tag, alias, password, note] = parts;
  return { book: book.trim(), tag, alias, password, note };
}

/** Puts the device into a shared address book (with tag, alias, password and note). */
export async function assignToBook(
  deps: AppDeps,
  device: DeviceRecord,
  entry: BookEntry,
  operatorGuid: string | null,
): Promise<string> {
  if (!entry.book)
    throw new HttpError(400, 'an address book name is required: BOOK[,TAG[,ALIAS[,PASSWORD[,NOTE]]]]');
  try {
    await deps.store.addressBooks.assignDeviceToSharedBook({
      bookName: entry.book,
      deviceId: device.id,
      tag: entry.tag,
      alias: entry.alias,
      password: entry.password,
      note: entry.note,
      operatorGuid,
    });
  } catch (err) {
    if (err instanceof AddressBookError) throw new HttpError(400, err.message);
    throw err;
  }
  return `device ${device.id}: added to address book '${entry.book}'${entry.tag ? ` with tag '${entry.tag}'` : ''}`;
}

/**
 * One place for every way a device gets assigned: the console's `assign` (`{type, value}`),
 * (the `ab` type: `BOOK[,TAG[,ALIAS[,PASSWORD[,NOTE]]]]`),
 * `rustdesk --assign` (/api/devices/cli) and the client's `preset-*` keys (/api/sysinfo).
 * An empty value (or `-`) clears user, device group and strategy, and gives the device name and
 * username back to what the client reports.
 * Returns a short description of the change, for the console log.
 */
export async function assign(
  deps: AppDeps,
  device: DeviceRecord,
  type: AssignType,
  value: string,
  operatorGuid: string | null = null,
): Promise<string> {
  const { store } = deps;
  const clear = value.trim() === '' || value.trim() === '-';
  const patch: DevicePatch = {};
  let what: string;
  switch (type) {
    case 'user_name': {
      if (clear) {
        patch.user_guid = null;
        what = 'unassigned the user';
        break;
      }
      const user = await store.users.getByName(value);
      if (!user) throw new HttpError(400, `user '${value}' does not exist`);
      patch.user_guid = user.guid;
      what = `assigned to user '${user.name}'`;
      break;
    }
    case 'device_group_name': {
      if (clear) {
        patch.device_group_guid = null;
        what = 'removed from its device group';
        break;
      }
      const group = await store.devices.getGroupByName(value);
      if (!group) throw new HttpError(400, `device group '${value}' does not exist`);
      patch.device_group_guid = group.guid;
      what = `moved to device group '${group.name}'`;
      break;
    }
    case 'note':
      patch.note = value;
      what = 'note set';
      break;
    // Set by an administrator, a name stays over what the client reports (its host name, its OS
    // user) at each system-info upload; an empty value (or '-') gives it back to the client.
    case 'device_name':
      if (clear) {
        patch.device_name_set = 0;
        what = 'device name given back to the client';
        break;
      }
      patch.device_name = value;
      patch.device_name_set = 1;
      what = `device name set to '${value}'`;
      break;
    case 'device_username':
      if (clear) {
        patch.device_username_set = 0;
        what = 'device username given back to the client';
        break;
      }
      patch.device_username = value;
      patch.device_username_set = 1;
      what = `device username set to '${value}'`;
      break;
    case 'strategy_name': {
      if (clear) {
        patch.strategy_guid = null;
        what = 'strategy unassigned';
        break;
      }
      const strategy = await store.strategies.getByName(value);
      if (!strategy) throw new HttpError(400, `strategy '${value}' does not exist`);
      patch.strategy_guid = strategy.guid;
      what = `strategy '${strategy.name}' assigned`;
      break;
    }
    case 'ab':
      return assignToBook(deps, device, parseBookEntry(value), operatorGuid);
  }
  // A device deleted since it was read (another request): nothing changed, nothing to record.
  if (!(await store.devices.update([device.guid], patch)))
    throw new HttpError(404, `device ${device.id} not found (deleted meanwhile)`);
  return `device ${device.id}: ${what}`;
}
