import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { clickContextFromRow, type ClickRow } from '../events/webhook-body.js';
import type { ClickResponseDto, RecordClickDto } from './dto/click.dto.js';

@Injectable()
export class ClicksService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Creates the click or fills in the fields this call carries (a tg_id learnt after the click),
   * in one statement so concurrent calls for the same uid merge instead of colliding.
   */
  async record(dto: RecordClickDto): Promise<ClickResponseDto> {
    const rows: Array<ClickRow & { created: boolean }> = await this.dataSource.query(
      `INSERT INTO clicks AS c (uid, tg_id, fbclid, campaign_id, campaign_name, country)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (uid) DO UPDATE SET
         tg_id = COALESCE(EXCLUDED.tg_id, c.tg_id),
         fbclid = COALESCE(EXCLUDED.fbclid, c.fbclid),
         campaign_id = COALESCE(EXCLUDED.campaign_id, c.campaign_id),
         campaign_name = COALESCE(EXCLUDED.campaign_name, c.campaign_name),
         country = COALESCE(EXCLUDED.country, c.country),
         updated_at = now()
       RETURNING uid, tg_id, fbclid, campaign_id, campaign_name, country, (xmax = 0) AS created`,
      [dto.uid, dto.tg_id ?? null, dto.fbclid ?? null, dto.campaign_id ?? null, dto.campaign_name ?? null, dto.country?.toUpperCase() ?? null],
    );
    const row = rows[0]!;
    return { ...clickContextFromRow(row), created: row.created };
  }
}
