import { DataSource } from 'typeorm';
import { dataSourceOptions, type DatabaseConnectionOptions } from './data-source-options.js';

/** Applies pending migrations in one transaction each and returns their names. */
export async function runMigrations(options: DatabaseConnectionOptions): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(options));
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
