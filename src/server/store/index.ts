import { AddressBookRepo } from './address-books';
import { AuditRepo } from './audit';
import { AuditLogRepo } from './audit-logs';
import { AuthRepo } from './auth';
import { type Database, openDatabase } from './db';
import { DeviceRepo } from './devices';
import { GroupRepo } from './groups';
import { secretBoxFor } from './secret-box';
import { SettingsRepo } from './settings';
import { StrategyRepo } from './strategies';
import { UserRepo } from './users';

export interface Store {
  users: UserRepo;
  auth: AuthRepo;
  audit: AuditRepo;
  /** Client audit posts, console-log queries, retention. */
  auditLogs: AuditLogRepo;
  devices: DeviceRepo;
  settings: SettingsRepo;
  groups: GroupRepo;
  strategies: StrategyRepo;
  addressBooks: AddressBookRepo;
  database: Database;
  close(): Promise<void>;
}

export async function openStore(file: string, now: () => Date = () => new Date()): Promise<Store> {
  const database = await openDatabase(file);
  return {
    users: new UserRepo(database.db, now),
    auth: new AuthRepo(database.db, now),
    audit: new AuditRepo(database.db, now),
    auditLogs: new AuditLogRepo(database.db, now),
    devices: new DeviceRepo(database.db, now),
    settings: new SettingsRepo(database.db),
    groups: new GroupRepo(database.db, now),
    strategies: new StrategyRepo(database.db, now),
    addressBooks: new AddressBookRepo(database.db, now, secretBoxFor(file)),
    database,
    close: () => database.close(),
  };
}
