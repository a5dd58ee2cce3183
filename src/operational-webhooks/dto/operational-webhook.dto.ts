import { ApiProperty } from '@nestjs/swagger';

/** POST /v1/accounts/{account_id}/operational-webhook/rotate-secret: the new secret, shown only here. */
export class RotatedOperationalWebhookSecretResponseDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'shown only here: operational notifications are signed with it from now on' })
  operational_webhook_secret: string;

  @ApiProperty({ description: 'until then notifications carry signatures with both the new and the previous secret (SIGNING_SECRET_GRACE_PERIOD_MS)' })
  previous_secret_expires_at: string;
}
