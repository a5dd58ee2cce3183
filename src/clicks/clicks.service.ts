import { Injectable } from '@nestjs/common';
import { ClickRepository } from './click.repository.js';
import type { ClickResponseDto, RecordClickDto } from './dto/click.dto.js';

@Injectable()
export class ClicksService {
  constructor(private readonly clicks: ClickRepository) {}

  /** Creates the account's click of a uid or merges what this call knows into it; the answer says which. */
  async record(accountId: string, dto: RecordClickDto): Promise<ClickResponseDto> {
    const { click, created } = await this.clicks.upsert(accountId, {
      uid: dto.uid,
      tg_id: dto.tg_id ?? null,
      fbclid: dto.fbclid ?? null,
      campaign_id: dto.campaign_id ?? null,
      campaign_name: dto.campaign_name ?? null,
      country: dto.country?.toUpperCase() ?? null,
    });
    return { ...click, created };
  }
}
