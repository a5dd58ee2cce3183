import { Injectable } from '@nestjs/common';
import type { DeliveryStatus } from '../deliveries/delivery-status.js';
import { DeliveryRepository } from '../deliveries/delivery.repository.js';
import { DestinationError, DestinationErrorCode } from '../destinations/destination.errors.js';
import { DestinationRepository } from '../destinations/destination.repository.js';
import type { DestinationStatsDto, HourlyOutcomesDto } from './dto/destination-stats.dto.js';

const HOUR_MS = 3_600_000;

/** Which bar of the chart each status counts in. */
const OUTCOME_OF: Record<DeliveryStatus, keyof Omit<HourlyOutcomesDto, 'hour'>> = {
  sent: 'sent',
  failed: 'failed',
  pending: 'open',
  retrying: 'open',
  cancelled: 'other',
  skipped: 'other',
};

/** A destination's recent deliveries per hour by outcome: the portal's health chart and success rate. */
@Injectable()
export class DestinationStatsService {
  constructor(
    private readonly destinations: DestinationRepository,
    private readonly deliveries: DeliveryRepository,
  ) {}

  async hourly(accountId: string, destinationId: string, hours: number, now = Date.now()): Promise<DestinationStatsDto> {
    // Another account's destination is not found, exactly like one that does not exist.
    if (!(await this.destinations.findLive(accountId, destinationId))) {
      throw new DestinationError(DestinationErrorCode.NotFound, `destination ${destinationId} not found`);
    }
    const firstHour = Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
    const buckets: HourlyOutcomesDto[] = Array.from({ length: hours }, (_, index) => emptyBucket(new Date(firstHour + index * HOUR_MS)));
    const totals = emptyBucket(new Date(firstHour));
    for (const row of await this.deliveries.countByHourAndStatus(accountId, destinationId, new Date(firstHour))) {
      const bucket = buckets[Math.floor((row.hour.getTime() - firstHour) / HOUR_MS)];
      const outcome = OUTCOME_OF[row.status];
      if (bucket) bucket[outcome] += row.count;
      totals[outcome] += row.count;
    }
    const finished = totals.sent + totals.failed;
    return {
      destination_id: destinationId,
      hours,
      since: new Date(firstHour).toISOString(),
      buckets,
      totals,
      success_rate: finished === 0 ? null : totals.sent / finished,
    };
  }
}

function emptyBucket(hour: Date): HourlyOutcomesDto {
  return { hour: hour.toISOString(), sent: 0, failed: 0, open: 0, other: 0 };
}
