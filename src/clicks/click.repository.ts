import { Injectable } from '@nestjs/common';
import { TenantDatabase } from '../database/tenant-database.js';
import { clickContextFromRow, type ClickContext, type ClickRow } from '../events/webhook-body.js';

/** What a click call captures; null is "not known", which never overwrites what is known. */
export type ClickCapture = ClickContext;

/**
 * Every write to the `clicks` table (ingest reads a click together with its destinations). Clicks
 * are keyed by (account, uid): a uid is the account's own, and two accounts' `abc123` are two clicks.
 */
@Injectable()
export class ClickRepository {
  constructor(private readonly tenant: TenantDatabase) {}

  /**
   * Creates the account's click or fills in the fields this call carries (a tg_id learnt after the
   * click), in one statement so concurrent calls for the same uid merge instead of colliding.
   * Returns the stored click and whether this call created it.
   */
  async upsert(accountId: string, capture: ClickCapture): Promise<{ click: ClickContext; created: boolean }> {
    const rows: Array<ClickRow & { created: boolean }> = await this.tenant.run(accountId, (manager) =>
      manager.query(
        `INSERT INTO clicks AS c (account_id, uid, tg_id, fbclid, campaign_id, campaign_name, country)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (account_id, uid) DO UPDATE SET
           tg_id = COALESCE(EXCLUDED.tg_id, c.tg_id),
           fbclid = COALESCE(EXCLUDED.fbclid, c.fbclid),
           campaign_id = COALESCE(EXCLUDED.campaign_id, c.campaign_id),
           campaign_name = COALESCE(EXCLUDED.campaign_name, c.campaign_name),
           country = COALESCE(EXCLUDED.country, c.country),
           updated_at = now()
         RETURNING uid, tg_id, fbclid, campaign_id, campaign_name, country, (xmax = 0) AS created`,
        [accountId, capture.uid, capture.tg_id, capture.fbclid, capture.campaign_id, capture.campaign_name, capture.country],
      ),
    );
    const [row] = rows;
    if (!row) throw new Error('INSERT … ON CONFLICT DO UPDATE returned no row');
    return { click: clickContextFromRow(row), created: row.created };
  }
}
