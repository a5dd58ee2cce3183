import 'reflect-metadata';
import { runMigrations } from './database/run-migrations.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL, then exits. */
const url = process.env.DATABASE_URL?.trim();
if (!url) {
  console.error('DATABASE_URL is required: npm run migrate applies migrations to that database');
  process.exit(1);
}
const applied = await runMigrations({ url, poolSize: 1 });
console.log(applied.length === 0 ? 'database schema is up to date' : `applied migrations: ${applied.join(', ')}`);
