import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/** The role tenant statements run as; row-level security lets it reach one account's rows only. */
const TENANT_ROLE = 'xtracker_tenant';

/**
 * Runs statements on tenant data as one account. The work runs in a transaction as the role
 * `xtracker_tenant` with `xtracker.account_id` set to the account, so the row-level security
 * policies (migration 1764590400000-accounts) hide and refuse every row of another account: a
 * statement that forgets its `account_id` filter returns nothing foreign instead of leaking it.
 * Both settings are transaction-local, so a pooled connection never carries them to the next user.
 */
@Injectable()
export class TenantDatabase {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(accountId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      // `role` is the setting SET ROLE changes: one statement sets both, transaction-local.
      await manager.query(`SELECT set_config('role', $1, true), set_config('xtracker.account_id', $2, true)`, [TENANT_ROLE, accountId]);
      return work(manager);
    });
  }
}
