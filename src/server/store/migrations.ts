import type { Migration, MigrationProvider } from 'kysely';
import { m0001 } from './migrations/0001_foundation';
import { m0002 } from './migrations/0002_devices';
import { m0003 } from './migrations/0003_groups';
import { m0004 } from './migrations/0004_address_books';
import { m0005 } from './migrations/0005_audits';
import { m0006 } from './migrations/0006_strategies';
import { m0007 } from './migrations/0007_perf';
import { m0008 } from './migrations/0008_login_throttle';
import { m0009 } from './migrations/0009_ab_recycle';
import { m0010 } from './migrations/0010_device_refs';
import { m0011 } from './migrations/0011_device_access';
import { m0012 } from './migrations/0012_device_access_walk';
import { m0013 } from './migrations/0013_audit_ids';
import { m0014 } from './migrations/0014_audit_operators';
import { m0015 } from './migrations/0015_strategy_keys';
import { m0016 } from './migrations/0016_store_meta';
import { m0017 } from './migrations/0017_device_name_set';
import { m0018 } from './migrations/0018_strategy_keys_sent';
import { m0019 } from './migrations/0019_device_names_set_before';

// Versioned schema migrations, applied in name order at start-up. Never edit one that has shipped:
// add a new one (one file per change, registered here).
const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_devices': m0002,
  '0003_groups': m0003,
  '0005_audits': m0005,
  '0006_strategies': m0006,
  '0004_address_books': m0004,
  '0007_perf': m0007,
  '0008_login_throttle': m0008,
  '0009_ab_recycle': m0009,
  '0010_device_refs': m0010,
  '0011_device_access': m0011,
  '0012_device_access_walk': m0012,
  '0013_audit_ids': m0013,
  '0014_audit_operators': m0014,
  '0015_strategy_keys': m0015,
  '0016_store_meta': m0016,
  '0017_device_name_set': m0017,
  '0018_strategy_keys_sent': m0018,
  '0019_device_names_set_before': m0019,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
