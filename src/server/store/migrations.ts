import type { Migration, MigrationProvider } from 'kysely';
import { m0001 } from './migrations/0001_foundation';
import { m0002 } from './migrations/0002_devices';
import { m0006 } from './migrations/0006_strategies';
import { m0007 } from './migrations/0007_perf';

// Versioned schema migrations, applied in name order at start-up. Never edit one that has shipped:
// add a new one (one file per change, registered here).
const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_devices': m0002,
  '0006_strategies': m0006,
  '0007_perf': m0007,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
