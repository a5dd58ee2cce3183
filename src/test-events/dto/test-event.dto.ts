import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { CANONICAL_EVENTS, type CanonicalEvent } from '../../common/canonical-event.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../deliveries/delivery-status.js';

export class SendTestEventDto {
  @ApiProperty({ enum: CANONICAL_EVENTS, description: "a canonical event the destination's event_map maps", example: 'deposit' })
  @IsIn(CANONICAL_EVENTS, { message: `canonical must be one of: ${CANONICAL_EVENTS.join(', ')}` })
  canonical: CanonicalEvent;
}

export class TestDeliveryDto {
  @ApiProperty() event_id: string;
  @ApiProperty({ format: 'uuid' }) destination_id: string;
  @ApiProperty({ enum: CANONICAL_EVENTS }) canonical: CanonicalEvent;
  @ApiProperty({ example: 'Purchase' }) event: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty({ enum: [true] }) test: true;
  @ApiProperty() workflow_id: string;
}
