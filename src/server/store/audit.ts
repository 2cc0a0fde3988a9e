import type { Kysely } from 'kysely';
import type { FixedSql } from './db';
import { newGuid } from './ids';
import { fold } from './like';
import type { DB } from './schema';

/** Pro console-log type codes (`typ`). */
export const ConsoleType = { group: 0, user: 1, device: 2, addressBook: 3 } as const;

/** Pro console-log operation codes (`iop`), pro-admin-api.md §8.3. */
export const ConsoleOp = {
  userLogin: 0,
  addGroup: 1,
  addUser: 2,
  addDevice: 3,
  deleteGroups: 4,
  disconnectDevice: 5,
  enableUsers: 6,
  disableUsers: 7,
  enableDevices: 8,
  disableDevices: 9,
  updateGroup: 10,
  updateUser: 11,
  updateDevice: 12,
  deleteUser: 13,
  deleteDevice: 14,
  addAddressBook: 15,
  deleteAddressBook: 16,
  changeAddressBook: 17,
  deleteAddressBookPeers: 18,
  emptyAddressBookRecycleBin: 19,
  addAddressBookRule: 20,
  deleteAddressBookRule: 21,
  updateAddressBookRule: 22,
} as const;

export interface ConsoleEntry {
  typ: number;
  iop: number;
  operatorGuid: string | null;
  operator: string;
  ip: string;
  detail: string;
}

const CONSOLE_INSERT = `INSERT INTO audit_console
  (guid, typ, iop, operator_guid, operator, operator_fold, ip, detail, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export class AuditRepo {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
    private readonly fixed: FixedSql,
  ) {}

  async console(e: ConsoleEntry): Promise<void> {
    // Fixed SQL: every change of every area writes one (bulk runs, one per target).
    await this.fixed.run((q) =>
      q.write(CONSOLE_INSERT, [
        newGuid(this.now().getTime()),
        e.typ,
        e.iop,
        e.operatorGuid,
        e.operator,
        fold(e.operator),
        e.ip,
        e.detail,
        this.now().toISOString(),
      ]),
    );
  }

  listConsole(limit = 1000) {
    return this.db.selectFrom('audit_console').selectAll().orderBy('id', 'desc').limit(limit).execute();
  }
}
