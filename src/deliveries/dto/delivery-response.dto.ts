import { ApiProperty } from '@nestjs/swagger';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery-status.js';

export class DeliveryAttemptDto {
  @ApiProperty() attempt: number;
  @ApiProperty() started_at: string;
  @ApiProperty() duration_ms: number;
  @ApiProperty({ nullable: true, type: Number }) status_code: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'RetryableHttpStatus: receiver answered HTTP 503' }) error: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'first 16 KiB of the response body' }) response_body: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'GET https://tracker.example/********/postback?subid=abc123&status=sale', description: 'method and URL as sent; secret parts of a postback template masked' })
  request: string | null;
}

export class FilterDecisionDto {
  @ApiProperty() matched: boolean;
  @ApiProperty({ nullable: true, type: String, example: 'campaign_id 120002 is not in filter.campaign_ids' }) reason: string | null;
}

export class DeliveryDto {
  @ApiProperty() event_id: string;
  @ApiProperty({ format: 'uuid' }) destination_id: string;
  @ApiProperty() canonical: string;
  @ApiProperty() event: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty() attempt_count: number;
  @ApiProperty({ nullable: true, type: Number }) last_status_code: number | null;
  @ApiProperty({ nullable: true, type: String }) last_error: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'while retrying: when the next attempt is due' }) next_attempt_at: string | null;
  @ApiProperty({ nullable: true, type: FilterDecisionDto, description: "the destination's routing filter as ingest applied it; null when it had none. A delivery the filter kept out is `skipped`" })
  filter: FilterDecisionDto | null;
  @ApiProperty() workflow_id: string;
  @ApiProperty({ description: 'a test event (POST …/destinations/:id/test), sent with the header webhook-test: true' }) test: boolean;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) completed_at: string | null;
}

export class DeliveryDetailDto extends DeliveryDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the JSON body sent on every attempt' })
  body: Record<string, unknown>;
  @ApiProperty({ type: [DeliveryAttemptDto] }) attempts: DeliveryAttemptDto[];
}

export class DeliveryActionResponseDto {
  @ApiProperty() event_id: string;
  @ApiProperty({ enum: DELIVERY_STATUSES, description: 'status when the request was accepted' }) status: DeliveryStatus;
  @ApiProperty() workflow_id: string;
}
