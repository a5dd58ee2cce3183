import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';

/** The body of `POST …/deliveries/:event_id/retry`; optional, as is every field. */
export class RetryDeliveryDto {
  @ApiPropertyOptional({
    default: false,
    description: 'also resend a delivery the receiver already accepted (`sent`): a new run, same event_id and body. Without it a sent delivery answers 409.',
  })
  @IsOptional() @IsBoolean({ message: 'force must be a boolean' })
  force?: boolean;
}
